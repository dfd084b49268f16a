"""MEDITWIN Desktop: clinical decision support with virtual twins."""

__version__ = "0.1.0"
APP_NAME = "MEDITWIN Desktop"
