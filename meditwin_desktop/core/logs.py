"""Logging to a rotating file in the user data directory (and stderr for warnings)."""

import logging
import logging.handlers
from pathlib import Path

from meditwin_desktop.core.paths import log_file

_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO, path: Path | None = None) -> Path:
    """Send records to the log file (1 MB x 5, rotating); return its path. Idempotent."""
    path = path or log_file()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "baseFilename", None) == str(path):
            return path
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(file_handler)
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        root.addHandler(console)
    return path
