"""The twin's own tests (collected by the default test run; installed with the twin)."""
