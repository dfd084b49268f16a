"""Geometry and voxels of real scanner DICOM against dcm2niix, the reference converter.

For series with a dcm2niix reference committed by its authors (../shared/data/reference)
we compare with that file; for the other multi-slice series (and a few single slices) we
run dcm2niix (PyPI package) inside the test. Both images are brought to the closest RAS+
voxel order (undoing dcm2niix's flips), then compared:
  world position of the first voxel within 1e-3 mm, voxel sizes within 1e-3 mm,
  direction cosines within 1e-4, voxel values exactly equal.
Compared: 10 + 9 + 4 volumes against committed references, 12 against dcm2niix run here
(35 volumes from 12 series and 6 single files).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import pytest

from meditwin_desktop.core.imaging.dicom import load_series
from tests.support.nifti_compare import compare

POSITION_MM, SPACING_MM, COSINE = 1e-3, 1e-3, 1e-4


def _check(volume, reference, time_index=None):
    difference = compare(volume, reference, time_index)
    assert difference.shape_equal
    assert difference.origin_mm < POSITION_MM
    assert difference.spacing_mm < SPACING_MM
    assert difference.direction < COSINE
    assert difference.voxels_equal, f"max voxel difference {difference.max_voxel_difference}"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".txt"))


def test_4d_ge_epi_matches_the_dcm2niix_reference(shared_data):
    volumes = load_series(_files(shared_data / "dicom/mr4d_ge_epi"))
    reference = nib.load(shared_data / "reference/mr4d_ge_epi/DCM2NIIX_regression_test_4.nii")
    assert len(volumes) == reference.shape[3] == 10  # 150 files = 15 slices x 10 time points
    for t, volume in enumerate(volumes):
        _check(volume, reference, t)


@pytest.mark.parametrize("name", [f"{n}.dcm" for n in range(1, 10)])
def test_siemens_mosaic_in_each_transfer_syntax_matches_the_reference(shared_data, name):
    [volume] = load_series([shared_data / "dicom/ts_matrix" / name])
    assert volume.shape == (35, 64, 64)  # mosaic of 35 slices unpacked
    _check(volume, nib.load(shared_data / "reference/ts_matrix/1.nii"))


def test_enhanced_multiframe_matches_the_reference(shared_data):
    volumes = load_series(_files(shared_data / "dicom/enhanced_multiframe"))
    reference = nib.load(
        shared_data / "reference/enhanced_multiframe/Siemens_REST1_w_SMS_PF7-8_6.nii"
    )
    assert [v.meta["label"] for v in volumes] == [f"time point {t}" for t in range(1, 5)]
    for t, volume in enumerate(volumes):
        _check(volume, reference, t)


def _dcm2niix(files: list[Path], tmp_path: Path) -> nib.Nifti1Image:
    executable = shutil.which("dcm2niix") or str(Path(sys.executable).parent / "dcm2niix")
    if not Path(executable).exists():
        pytest.skip("dcm2niix is not installed (pip install dcm2niix)")
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    out.mkdir()
    for path in files:
        shutil.copy(path, source / path.name)
    subprocess.run(
        [executable, "-v", "0", "-b", "n", "-z", "n", "-o", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    [nifti] = sorted(out.glob("*.nii"))
    return nib.load(nifti)


@pytest.mark.parametrize(
    "folder",
    [
        "mr3d_ge_mprage",
        "ct_liver_seg/ct",
        "mosaic_compressed/AxAsc36mb2a",
        "mosaic_compressed/AxInt36mb",
    ],
)
def test_series_match_dcm2niix_run_here(shared_data, tmp_path, folder):
    files = _files(shared_data / "dicom" / folder)
    volumes = load_series(files)
    reference = _dcm2niix(files, tmp_path)
    four_d = reference.ndim == 4 and reference.shape[3] > 1
    assert len(volumes) == (reference.shape[3] if four_d else 1)
    for t, volume in enumerate(volumes):
        _check(volume, reference, t if four_d else None)


@pytest.mark.parametrize(
    "name",
    [
        "pydicom_data/eCT_Supplemental.dcm",
        "edge_cases/CT_small.dcm",
        "edge_cases/MR_small.dcm",
        "pydicom_data/693_UNCI.dcm",
        "pydicom_data/693_J2KR.dcm",
    ],
)
def test_single_files_match_dcm2niix_run_here(shared_data, tmp_path, name):
    path = shared_data / "dicom" / name
    [volume] = load_series([path])
    _check(volume, _dcm2niix([path], tmp_path))


def test_demo_ct_matches_dcm2niix(demo_patient, tmp_path):
    files = sorted(demo_patient.dicom_dir.glob("*.dcm"))
    [volume] = load_series(files)
    _check(volume, _dcm2niix(files, tmp_path))
