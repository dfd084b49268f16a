"""Qt user interface of MEDITWIN Desktop (the only package that imports Qt)."""
