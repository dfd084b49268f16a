"""Which files a scan reads: a DICOMDIR's references, or every file under the folders given.

Hidden files and folders are left out silently (system litter such as `.DS_Store`). What
cannot be looked at is listed with the reason instead of vanishing: an unreadable folder,
and a symbolic link to a folder, which is not followed (it may lead anywhere, even back up
the tree; open the folder it points to instead). Files themselves are checked when read
(`headers.open_regular`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.fileset import FileSet

from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.imaging.dicom.headers import deadline_reader, open_regular, os_reason
from meditwin_desktop.core.progress import CancelledFn, check_cancelled, never_cancelled

log = logging.getLogger(__name__)

Skipped = list[tuple[Path, str]]
LINKED_FOLDER = N_("link to a folder: not followed (open the folder it points to)")


def dicomdir_files(path: Path) -> list[Path]:
    """The instances a DICOMDIR references (pydicom's FileSet), in its order."""
    try:
        with open_regular(path) as raw:
            ds = pydicom.dcmread(deadline_reader(raw, path))
        return [Path(instance.path) for instance in FileSet(ds)]
    except Exception as error:  # a damaged DICOMDIR: the caller falls back to the file itself
        log.warning("cannot use a DICOMDIR: %s", type(error).__name__)
        return []


def list_files(
    paths: Iterable[Path], cancelled: CancelledFn = never_cancelled
) -> tuple[list[Path], Skipped]:
    """Files to scan under `paths` (folders walked in sorted order), each once, and the
    folders that could not be looked into, with the reason."""
    files: list[Path] = []
    skipped: Skipped = []
    for path in map(Path, paths):
        check_cancelled(cancelled)
        if path.is_dir():
            _walk(path, files, skipped, cancelled)
        elif path.name.upper() == "DICOMDIR":
            files.extend(dicomdir_files(path) or [path])
        else:
            files.append(path)  # not a regular file: reading it says why
    return list(dict.fromkeys(files)), skipped


def _walk(root: Path, files: list[Path], skipped: Skipped, cancelled: CancelledFn) -> None:
    def unreadable(error: OSError) -> None:
        skipped.append(
            (Path(error.filename or root), tr("folder {reason}").format(reason=os_reason(error)))
        )

    for folder, dirs, names in os.walk(root, onerror=unreadable):
        check_cancelled(cancelled)
        here = Path(folder)
        kept = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            if os.path.islink(os.path.join(folder, name)):
                skipped.append((here / name, tr(LINKED_FOLDER)))
            else:
                kept.append(name)
        dirs[:] = kept
        files.extend(here / name for name in sorted(names) if not name.startswith("."))
