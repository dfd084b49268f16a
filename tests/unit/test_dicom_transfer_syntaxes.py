"""Every transfer syntax we claim decodes real files to the right pixels.

Covered (pydicom's plugins: pylibjpeg-libjpeg, pylibjpeg-openjpeg, python-gdcm, pydicom
RLE): implicit and explicit VR little endian, explicit big endian, deflate, RLE lossless,
JPEG baseline (process 1), JPEG lossless (process 14 SV1), JPEG-LS lossless, JPEG 2000
lossless. Same image in several syntaxes must decode identically; single-syntax files are
compared with pydicom's own full decode. Not covered by a real file here: JPEG extended
12-bit (the only sample is deliberately damaged), JPEG-LS near-lossless, JPEG 2000 lossy.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.imaging.dicom import load_series

TS_MATRIX = {  # ../shared/data/dicom/ts_matrix: one Siemens mosaic in nine syntaxes
    "2.dcm": "1.2.840.10008.1.2",  # implicit VR little endian
    "3.dcm": "1.2.840.10008.1.2.2",  # explicit VR big endian
    "4.dcm": "1.2.840.10008.1.2.5",  # RLE lossless
    "5.dcm": "1.2.840.10008.1.2.4.70",  # JPEG lossless, process 14 SV1 (one encoder)
    "6.dcm": "1.2.840.10008.1.2.4.70",  # JPEG lossless, process 14 SV1 (another encoder)
    "7.dcm": "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless (one encoder)
    "8.dcm": "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless (another encoder)
    "9.dcm": "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
}
MR_SMALL = [
    "MR_small_RLE.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_expb.dcm",
    "MR_small_implicit.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_padded.dcm",
]
EMRI_SMALL = [
    "emri_small_RLE.dcm",
    "emri_small_big_endian.dcm",
    "emri_small_jpeg_2k_lossless.dcm",
    "emri_small_jpeg_ls_lossless.dcm",
]


@pytest.mark.parametrize(("name", "syntax"), TS_MATRIX.items())
def test_mosaic_decodes_identically_in_every_syntax(shared_data, name, syntax):
    folder = shared_data / "dicom/ts_matrix"
    assert (
        pydicom.dcmread(folder / name, stop_before_pixels=True).file_meta.TransferSyntaxUID
        == syntax
    )
    [reference] = load_series([folder / "1.dcm"])  # explicit VR little endian
    [volume] = load_series([folder / name])
    assert np.array_equal(volume.array, reference.array)
    assert np.allclose(volume.affine, reference.affine)


@pytest.mark.parametrize("name", MR_SMALL)
def test_mr_small_variants_equal_the_native_file(shared_data, name):
    folder = shared_data / "dicom/edge_cases"
    [reference] = load_series([folder / "MR_small.dcm"])
    [volume] = load_series([folder / name])
    assert np.array_equal(volume.array, reference.array)


@pytest.mark.parametrize("name", EMRI_SMALL)
def test_multiframe_variants_equal_the_native_file(shared_data, name):
    folder = shared_data / "dicom/pydicom_data"
    [reference] = load_series([folder / "emri_small.dcm"])
    [volume] = load_series([folder / name])
    assert volume.shape == (10, 64, 64)
    assert np.array_equal(volume.array, reference.array)


def test_deflate(shared_data):
    path = shared_data / "dicom/edge_cases/image_dfl.dcm"
    assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1.99"
    [volume] = load_series([path])
    assert np.array_equal(volume.array[0], pydicom.dcmread(path).pixel_array)


def test_jpeg_baseline_colour_cine(shared_data):
    path = shared_data / "dicom/edge_cases/examples_ybr_color.dcm"
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    [volume] = load_series([path])
    assert volume.shape == (30, 240, 320)
    rgb = ds.pixel_array.astype(np.float32)  # pydicom converts YBR to RGB
    luminance = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    assert np.allclose(volume.array, luminance, atol=1e-3)
    assert any("No patient position" in w for w in volume.meta["warnings"])


def test_jpeg_2000_ct_matches_pydicom(shared_data):
    path = shared_data / "dicom/pydicom_data/693_J2KR.dcm"
    [volume] = load_series([path])
    ds = pydicom.dcmread(path)
    expected = ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept)
    assert np.array_equal(volume.array[0], expected)


def test_undecodable_jpeg_names_file_and_syntax(shared_data):
    """JPEG-lossy.dcm is deliberately damaged (pydicom's test corpus): no plugin decodes it."""
    with pytest.raises(DicomError, match=r"JPEG-lossy\.dcm.*1\.2\.840\.10008\.1\.2\.4\.51"):
        load_series([shared_data / "dicom/edge_cases/JPEG-lossy.dcm"])
