"""Where retrieved DICOM files go and how each is written (raw, atomically).

A study's files go into data_dir()/pacs/<sha256(study UID)[:16]>/ (0700, no patient data in
the path), one `<SOP Instance UID>.dcm` each, written as received (no decode/re-encode):
a temporary file beside it, then one rename, so a cancelled or broken transfer leaves no
partial file. The files are not fsynced one by one (a retrieval can be repeated); the
folder is, at the end (`sync_folder`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from meditwin_desktop.core.atomic import fsync_dir
from meditwin_desktop.core.paths import data_dir

_UID = re.compile(r"^[0-9.]{1,64}$")
TEMP_PREFIX = ".receiving-"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def retrieval_folder(study_uid: str) -> Path:
    """The folder of a retrieved study, created if missing (0700)."""
    digest = hashlib.sha256(study_uid.strip().encode()).hexdigest()[:16]
    return _private_dir(_private_dir(data_dir() / "pacs") / digest)


def file_name(sop_instance_uid: str) -> str:
    """`<uid>.dcm` for a well-formed UID, else a hash of it (never a path)."""
    uid = str(sop_instance_uid or "").strip()
    if _UID.match(uid):
        return f"{uid}.dcm"
    return hashlib.sha256(uid.encode()).hexdigest()[:32] + ".dcm"


def write_received(folder: Path, sop_instance_uid: str, data: bytes) -> Path:
    """Write one received instance (a DICOM file's bytes) into `folder` atomically."""
    target = folder / file_name(sop_instance_uid)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def sync_folder(folder: Path) -> None:
    """Flush the folder's entries to disk (after a retrieval)."""
    fsync_dir(folder)
