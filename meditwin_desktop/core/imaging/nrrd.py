"""A minimal NRRD reader (`.nrrd`, 3D Slicer's `.seg.nrrd`): attached data, raw, gzip or
bzip2 encoding, 3D (or 4D with a first 'list' axis: the layers of a Slicer segmentation).

Written here rather than adding pynrrd: the format needed for label maps is one text
header and one array (http://teem.sourceforge.net/nrrd/format.html). Detached data files
and ASCII/hex encodings are refused with a message.
"""

from __future__ import annotations

import bz2
import gzip
import re
from pathlib import Path

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr

_TYPES = {
    "int8": "i1", "signed char": "i1", "char": "i1", "uchar": "u1", "unsigned char": "u1",
    "uint8": "u1", "short": "i2", "short int": "i2", "signed short": "i2", "int16": "i2",
    "signed short int": "i2", "ushort": "u2", "unsigned short": "u2", "uint16": "u2",
    "unsigned short int": "u2", "int": "i4", "signed int": "i4", "int32": "i4", "uint": "u4",
    "unsigned int": "u4", "uint32": "u4", "longlong": "i8", "int64": "i8", "ulonglong": "u8",
    "uint64": "u8", "float": "f4", "double": "f8",
}  # fmt: skip
_VECTOR = re.compile(r"\(([^)]*)\)|none")


def _vectors(text: str) -> list[np.ndarray | None]:
    """'(1,0,0) none (0,1,0)' -> [array, None, array]."""
    out: list[np.ndarray | None] = []
    for match in _VECTOR.finditer(text):
        out.append(None if match.group(1) is None else np.array(match.group(1).split(","), float))
    return out


def read_header(raw: bytes, name: str) -> tuple[dict[str, str], int]:
    """The header fields (lower-case keys; key:=value pairs kept as written) and where the
    data starts."""
    if not raw.startswith(b"NRRD000"):
        raise InputError(tr("{name} is not a NRRD file.").format(name=name))
    end = raw.find(b"\n\n")
    if end < 0:
        raise InputError(
            tr("{name}: the NRRD header does not end (no blank line).").format(name=name)
        )
    fields: dict[str, str] = {}
    for line in raw[:end].decode("latin-1").splitlines()[1:]:
        if not line or line.startswith("#"):
            continue
        if ":=" in line:
            key, value = line.split(":=", 1)
            fields[key.strip()] = value.strip()
        elif ": " in line:
            key, value = line.split(": ", 1)
            fields[key.strip().lower()] = value.strip()
    return fields, end + 2


def read_nrrd(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """(array, affine, header): the array indexed [k, j, i] (4D: [k, j, i, layer]); the
    affine from (i, j, k) to LPS mm."""
    path = Path(path)
    raw = path.read_bytes()
    fields, start = read_header(raw, path.name)
    if "data file" in fields or "datafile" in fields:
        raise InputError(
            tr("{name}: detached NRRD data files are not supported.").format(name=path.name)
        )
    kind = _TYPES.get(fields.get("type", "").lower())
    if kind is None:
        raise InputError(
            tr("{name}: NRRD type '{type}' is not supported.").format(
                name=path.name, type=fields.get("type")
            )
        )
    sizes = [int(s) for s in fields.get("sizes", "").split()]
    encoding = fields.get("encoding", "raw").lower()
    data = raw[start:]
    if encoding in ("gzip", "gz"):
        data = gzip.decompress(data)
    elif encoding in ("bzip2", "bz2"):
        data = bz2.decompress(data)
    elif encoding != "raw":
        raise InputError(
            tr("{name}: NRRD encoding '{encoding}' is not supported.").format(
                name=path.name, encoding=encoding
            )
        )
    endian = "<" if fields.get("endian", "little") == "little" else ">"
    dtype = np.dtype(endian + kind)
    count = int(np.prod(sizes))
    if len(data) < count * dtype.itemsize:
        raise InputError(
            tr("{name}: the NRRD data is shorter than its header says.").format(name=path.name)
        )
    # the first axis varies fastest: numpy's order is the reverse
    array = np.frombuffer(data[-count * dtype.itemsize :], dtype).reshape(sizes[::-1])
    array = array.astype(dtype.newbyteorder("="))
    if array.ndim not in (3, 4):  # 4D: [k, j, i, layer], the 'list' axis was first
        raise InputError(
            tr("{name}: a {dimensions}-D NRRD is not a label map.").format(
                name=path.name, dimensions=array.ndim
            )
        )
    directions = [v for v in _vectors(fields.get("space directions", "")) if v is not None]
    if len(directions) != 3:
        raise InputError(
            tr("{name}: the NRRD has no 3D 'space directions'.").format(name=path.name)
        )
    origin = _vectors(fields.get("space origin", "(0,0,0)"))[0]
    affine = np.eye(4)
    affine[:3, :3] = np.column_stack(directions)
    affine[:3, 3] = origin if origin is not None else 0.0
    space = fields.get("space", "left-posterior-superior").lower()
    if space in ("right-anterior-superior", "ras"):
        affine[:2] *= -1  # RAS -> LPS
    elif space not in ("left-posterior-superior", "lps"):
        raise InputError(
            tr("{name}: NRRD space '{space}' is not supported.").format(
                name=path.name, space=space
            )
        )
    return array, affine, fields
