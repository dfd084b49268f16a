"""The MEDITWIN twins: one package per virtual twin (installed as `meditwin_twins`)."""
