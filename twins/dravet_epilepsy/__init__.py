"""Dravet syndrome: which add-on antiseizure therapy for this child, from the seizure diary
(personalised seizure-count model + trial-calibrated drug effects + safety rules; README.md)."""
