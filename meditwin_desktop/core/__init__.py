"""Pure-Python core of MEDITWIN Desktop. Never imports Qt."""
