"""Fundus image analysis: bad input is refused with a clear message, a real fundus photograph
(skimage.data.retina, CC0) and a held-out CHASE_DB1 photograph are analysed, and the scoring
is exact on a hand-made case.

CHASE_DB1: Owen et al. 2009 (IOVS 50:2004-10); Fraz et al. 2012 (IEEE TBME 59:2538-48),
CC BY 4.0. The 2nd observer scores F1 0.777 against the 1st (mean over the 28 images, measured
here with `score`, whole image 0.7765, inside the FOV 0.7773). The bundled model never saw
children 08-14; on those its mean F1 is 0.737 (report of this commit); the single-image bound
below (0.70) leaves room for the image-to-image spread seen there (0.70-0.79).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from meditwin_twins.retina_microcirculation import fundus
from meditwin_twins.retina_microcirculation.fundus_features import TRAIN_CHILDREN, WORK_DIAMETER

from meditwin_desktop.core.twin import TwinInputError

CHASE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "retina" / "CHASE_DB1"
CHASE = CHASE if CHASE.is_dir() else Path("/work/shared/data/retina/CHASE_DB1")


@pytest.fixture(scope="module")
def retina() -> tuple[np.ndarray, fundus.FundusAnalysis]:
    rgb = skimage.data.retina()
    return rgb, fundus.analyse(rgb)


def test_score_counts_inside_the_fov_only() -> None:
    truth = np.zeros((4, 5), bool)
    truth[1, :4] = True
    mask = np.zeros((4, 5), bool)
    mask[1, :2] = True
    mask[2, 0] = True
    mask[3, 4] = True  # outside the FOV: ignored
    fov = np.ones((4, 5), bool)
    fov[3] = False
    s = fundus.score(mask, truth, fov)
    # tp 2, fn 2, fp 1, tn 10 over 15 FOV pixels
    assert s["sensitivity"] == pytest.approx(0.5)
    assert s["specificity"] == pytest.approx(10 / 11)
    assert s["f1"] == pytest.approx(4 / 7)
    assert s["accuracy"] == pytest.approx(12 / 15)


@pytest.mark.parametrize(
    ("name", "image", "words"),
    [
        ("astronaut", skimage.data.astronaut(), "fundus photograph"),
        ("grey", np.full((480, 640, 3), 128, np.uint8), "No field of view"),
        ("white", np.full((480, 640, 3), 255, np.uint8), "No field of view"),
        ("black", np.zeros((480, 640, 3), np.uint8), "dark throughout"),
        ("rocket", skimage.data.rocket(), "colours are not those of a retina"),
        ("tiny", np.zeros((20, 20), np.uint8), "at least 64"),
    ],
)
def test_non_fundus_images_are_refused(name: str, image: np.ndarray, words: str) -> None:
    with pytest.raises(TwinInputError, match=words):
        fundus.analyse(image)


def test_blank_and_overexposed_fields_are_refused() -> None:
    yy, xx = np.mgrid[:400, :400]
    disk = (yy - 200) ** 2 + (xx - 200) ** 2 < 180**2
    flat = (disk[..., None] * np.array([180, 80, 40])).astype(np.uint8)
    with pytest.raises(TwinInputError, match="blank"):
        fundus.check_quality(flat, fundus.field_of_view(flat))
    white = (disk[..., None] * np.array([255, 250, 250])).astype(np.uint8)
    white[::7] = (disk[::7, :, None] * np.array([200, 90, 50])).astype(np.uint8)
    with pytest.raises(TwinInputError, match="over-exposed"):
        fundus.check_quality(white, fundus.field_of_view(white))


def test_real_fundus_photograph_is_analysed(retina) -> None:
    rgb, a = retina
    h, w = rgb.shape[:2]
    assert a.fov.shape == a.vessels.shape == a.vesselness.shape == a.enhanced.shape == (h, w)
    assert a.vessels.dtype == bool and a.vesselness.dtype == np.float32
    assert 0.9 > a.fov.mean() > 0.5
    frac = a.vessels[a.fov].mean()
    assert 0.05 < frac < 0.2, frac  # retinal vessels cover about a tenth of the field
    assert not a.vessels[~a.fov].any()
    # vessels are dark in `enhanced`: darker on the mask than off it
    assert a.enhanced[a.vessels].mean() < a.enhanced[a.fov & ~a.vessels].mean() - 0.1
    # skimage's retina is a left-field photograph with the disc on the left, mid-height
    assert a.disc.col < 0.3 * w and 0.3 * h < a.disc.row < 0.7 * h
    assert 0.04 < a.disc.radius_px / w < 0.12
    assert fundus.vessel_hub_rank(a.disc, a.vessels, a.fov) > 0.9


def test_scale_follows_the_fov_diameter(retina) -> None:
    rgb, a = retina
    half = np.ascontiguousarray(rgb[::2, ::2])
    w_half = fundus.prepare(half)
    cols = np.flatnonzero(a.fov.any(0))
    assert w_half.scale == pytest.approx(2 * WORK_DIAMETER / (cols[-1] - cols[0] + 1), rel=0.01)
    # the working image's FOV is WORK_DIAMETER pixels across whatever the photograph's size
    cols_w = np.flatnonzero(w_half.fov.any(0))
    assert cols_w[-1] - cols_w[0] + 1 == pytest.approx(WORK_DIAMETER, rel=0.02)


def test_grey_and_16_bit_inputs() -> None:
    rgb = skimage.data.retina()
    f8, grey8 = fundus.as_float_image(rgb)
    f16, _ = fundus.as_float_image(rgb.astype(np.uint16) * 257)
    assert not grey8 and np.allclose(f8, f16, atol=1e-6)
    g = rgb[..., 1]
    fg, grey = fundus.as_float_image(g)
    assert grey and fg.shape == (*g.shape, 3)
    warnings = fundus.check_quality(g, fundus.field_of_view(rgb))
    assert any("red-free" in w for w in warnings)


def test_held_out_chase_photograph_against_first_observer() -> None:
    if not CHASE.is_dir():
        pytest.skip(f"CHASE_DB1 not found at {CHASE}")
    import skimage.io

    name = "Image_11L"
    assert name[6:8] not in TRAIN_CHILDREN  # never seen by the bundled model
    rgb = skimage.io.imread(CHASE / f"{name}.jpg")
    truth = skimage.io.imread(CHASE / f"{name}_1stHO.png") > 0
    a = fundus.analyse(rgb)
    s = fundus.score(a.vessels, truth, a.fov)
    assert s["f1"] > 0.70 and s["specificity"] > 0.95, s
    # the disc lies where the 1st observer's vessels converge (top 10 % of density)
    assert fundus.vessel_hub_rank(a.disc, truth, a.fov) > 0.9
