"""Tests of the retinal microcirculation twin (run by pytest and shipped for `meditwin verify`)."""
