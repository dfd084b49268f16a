"""Fuzz the DICOM import with mutated real files: only our typed errors may come out.

hypothesis mutates bytes of real files (flips, 32-bit overwrites of lengths and values,
truncation, deletion, insertion, biased towards the header) and feeds them to `scan` and
`load_series`. Any exception other than `MeditwinError` fails the test (and hypothesis
shrinks it to a minimal case). The default run is short; the full run is
`MEDITWIN_FUZZ_EXAMPLES=10000 ./dev.sh test tests/unit/test_dicom_fuzz.py`.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Volume
from tests.conftest import SHARED_DATA

EXAMPLES = int(os.environ.get("MEDITWIN_FUZZ_EXAMPLES", "200"))
SHARED_SEEDS = [
    "edge_cases/MR_small.dcm",
    "edge_cases/MR_small_RLE.dcm",
    "edge_cases/MR_small_implicit.dcm",
    "edge_cases/MR_small_jp2klossless.dcm",
    "edge_cases/MR_small_jpeg_ls_lossless.dcm",
    "edge_cases/MR_small_bigendian.dcm",
    "edge_cases/CT_small.dcm",
    "edge_cases/rtdose.dcm",
    "edge_cases/image_dfl.dcm",
    "pydicom_data/emri_small.dcm",
    "pydicom_data/eCT_Supplemental.dcm",
    "enhanced_multiframe/6_1.dcm",
    "ts_matrix/1.dcm",
    "ts_matrix/5.dcm",
]


def _seeds(tmp: Path) -> list[bytes]:
    volume = Volume(
        np.arange(2 * 8 * 8, dtype=np.int16).reshape(2, 8, 8) - 50,
        affine_from([0, 0, 0], np.eye(3), [1, 1, 2]),
    )
    paths = write_ct_series(volume, tmp / "synthetic", SeriesHeader("F^UZZ", "F", uid_seed="f"))
    seeds = [paths[0].read_bytes()]
    seeds += [
        (SHARED_DATA / "dicom" / name).read_bytes()
        for name in SHARED_SEEDS
        if (SHARED_DATA / "dicom" / name).exists()
    ]
    return seeds


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("fuzz")
    _CORPUS.extend(_seeds(tmp))
    return tmp


_CORPUS: list[bytes] = []  # filled once per module (kept out of hypothesis' reports)


MUTATION = st.tuples(
    st.sampled_from(["flip", "set32", "truncate", "delete", "insert"]),
    st.integers(0, 1 << 30),  # position (wrapped to the file)
    st.integers(0, (1 << 32) - 1),  # value / size
    st.booleans(),  # aim at the first 2 KiB (header) instead of anywhere
)


def mutate(data: bytes, mutations) -> bytes:
    """Apply byte mutations (see MUTATION) to `data`."""
    buffer = bytearray(data)
    for kind, position, value, header in mutations:
        if not buffer:
            break
        where = position % (min(len(buffer), 2048) if header else len(buffer))
        if kind == "flip":
            buffer[where] ^= (value % 255) + 1
        elif kind == "set32":
            buffer[where : where + 4] = value.to_bytes(4, "little")
        elif kind == "truncate":
            del buffer[where:]
        elif kind == "delete":
            del buffer[where : where + 1 + value % 64]
        else:
            buffer[where:where] = bytes([value % 256]) * (1 + value % 7)
    return bytes(buffer)


def _import(path: Path) -> None:
    """The import path a user takes: scan the file, then load every series found."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = scan([path])
        for series in result.all_series():
            with contextlib.suppress(MeditwinError):
                load_series(series.files)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 1000), mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_files_raise_only_typed_errors(workdir, seed, mutations):
    path = workdir / "case.dcm"
    path.write_bytes(mutate(_CORPUS[seed % len(_CORPUS)], mutations))
    _import(path)  # any exception but MeditwinError fails the test
