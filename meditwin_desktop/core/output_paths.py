"""Where the user asks us to write: refuse what is not a plain file path in an existing folder.

`--out /dev/full` as root once replaced the device node with a PDF, and a typo'd folder
was created silently. Every file or folder the user names for output goes through here.
"""

from __future__ import annotations

import stat
from pathlib import Path

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr


def output_file(path: Path | str, suffix: str | None = None) -> Path:
    """`path` as a file to (over)write; InputError when it is a device, a folder, a symlink,
    or when its folder does not exist. `suffix` (e.g. '.pdf') is required when given."""
    path = Path(path).expanduser()
    if suffix is not None and path.suffix.lower() != suffix.lower():
        raise InputError(
            tr("{path}: the file name must end in {suffix}.").format(path=path, suffix=suffix)
        )
    folder = path.parent
    if not folder.is_dir():
        raise InputError(
            tr(
                "The folder {folder} does not exist: create it first or choose another place."
            ).format(folder=folder)
        )
    try:
        info = path.lstat()
    except FileNotFoundError:
        return path
    except OSError as error:
        raise InputError(
            tr("{path} cannot be written: {error}.").format(path=path, error=error.strerror)
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(
            tr("{path} is a symbolic link; give the path of a regular file.").format(path=path)
        )
    if stat.S_ISDIR(info.st_mode):
        raise InputError(tr("{path} is a folder; give a file name inside it.").format(path=path))
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            tr("{path} is not a regular file (a device or pipe); choose a file path.").format(
                path=path
            )
        )
    return path


def output_folder(path: Path | str, *, must_be_empty: bool = False) -> Path:
    """`path` as an existing folder to write into (a new sub-folder is made by the caller);
    InputError when it is missing, not a folder, a symlink, or (if asked) not empty."""
    path = Path(path).expanduser()
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise InputError(
            tr(
                "The folder {folder} does not exist: create it first or choose another place."
            ).format(folder=path)
        ) from None
    except OSError as error:
        raise InputError(
            tr("{path} cannot be used: {error}.").format(path=path, error=error.strerror)
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(tr("{path} is a symbolic link; give the folder itself.").format(path=path))
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(tr("{path} is not a folder.").format(path=path))
    if must_be_empty and any(path.iterdir()):
        raise InputError(tr("{path} is not empty; choose an empty folder.").format(path=path))
    return path
