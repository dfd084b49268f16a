"""Tests of the Dravet twin (run by pytest and shipped for `meditwin verify`)."""
