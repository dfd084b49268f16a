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


def private_files() -> None:
    """Files and folders this process creates are readable by the user only (0600/0700):
    the case library, logs, settings and exported reports hold patient data."""
    os.umask(0o077)


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)  # made by an earlier release with 0755
    return path


def data_dir() -> Path:
    """User data directory (logs, case library), created if missing (0700)."""
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(_APP, appauthor=False))
    return _private_dir(path)


def cache_dir() -> Path:
    """Cache directory for regenerable files (the demo patient), created if missing."""
    home = _home()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(_APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    """The application log, in the user data directory."""
    return _private_dir(data_dir() / "logs") / "meditwin.log"
