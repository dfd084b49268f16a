"""Check a DICOM object against its IOD with dciodvfy (dicom3tools), when installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pydicom.dataset import Dataset

DCIODVFY = "dciodvfy"


def dciodvfy_path() -> str | None:
    """The dciodvfy program, or None when dicom3tools is not installed."""
    return shutil.which(DCIODVFY) or (
        "/usr/bin/dciodvfy" if Path("/usr/bin/dciodvfy").is_file() else None
    )


def dciodvfy(dataset: Dataset, *, timeout: float = 120.0) -> list[str] | None:
    """The "Error" lines dciodvfy reports for `dataset` ([] when it passes; None when
    dciodvfy is not installed). Warnings are not returned."""
    program = dciodvfy_path()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="meditwin-dciodvfy-") as folder:
        path = Path(folder) / "object.dcm"
        dataset.save_as(path, enforce_file_format=True)
        done = subprocess.run(
            [program, str(path)], capture_output=True, text=True, timeout=timeout,
            errors="replace",
        )  # fmt: skip
    lines = (done.stdout + done.stderr).splitlines()
    return [line.strip() for line in lines if line.lstrip().startswith("Error")]
