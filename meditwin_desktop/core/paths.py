"""Where MEDITWIN keeps its files: user data (logs, cases) and cache (demo patient).

`MEDITWIN_HOME` overrides both (tests and portable installs use it).
"""

import os
from pathlib import Path

import platformdirs

_APP = "meditwin"


def _home() -> Path | None:
    value = os.environ.get("MEDITWIN_HOME")
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """User data directory (logs, case library), created if missing."""
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(_APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Cache directory for regenerable files (the demo patient), created if missing."""
    home = _home()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(_APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    """The application log, in the user data directory."""
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path / "meditwin.log"
