"""The retina demo's photographs (demo/retina_fundus.py): written as DICOM Ophthalmic
Photography from the synthetic fundus, read back by the photograph reader with their pixel
size, date, modality and eye; the truth file round trip."""

from __future__ import annotations

import numpy as np
import pytest
from meditwin_twins.retina_microcirculation.phantom import make_fundus


@pytest.fixture(scope="module")
def phantom():
    return make_fundus(0)


def test_demo_photograph_round_trip(phantom, tmp_path):
    from meditwin_desktop.core.imaging.photo import read_photo
    from meditwin_desktop.demo.retina_fundus import read_truth, write_op_dicom, write_truth

    path = write_op_dicom(tmp_path / "OP" / "fundus.dcm", phantom.rgb, phantom.pixel_mm,
                          date="2024-03-12", description="Visit 1", uid_seed="test")  # fmt: skip
    photo = read_photo(path)
    assert np.array_equal(photo.pixels, phantom.rgb)
    assert photo.pixel_mm == pytest.approx(phantom.pixel_mm, rel=1e-9)
    assert photo.meta["date"] == "2024-03-12"
    assert photo.meta["modality"] == "OP" and photo.meta["laterality"] == "R"
    import pydicom

    assert pydicom.dcmread(path).SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.5.1"
    truth = read_truth(write_truth(tmp_path / "truth.npz", phantom))
    assert np.array_equal(truth["vessels"], phantom.vessels)
    assert all(
        np.array_equal(p, q) for p, q in zip(truth["paths"], phantom.network.paths, strict=True)
    )
