"""The retina twin end to end on the demo case `retina-hypertension` (two visits of a
synthetic fundus photograph drawn from a known vessel tree, arterioles 15 % narrower at the
second): personalisation, outcomes, overlays, scenarios (pressures, narrowing, occlusion,
the other visit), bad input, conformance."""

from __future__ import annotations

import numpy as np
import pytest
from meditwin_twins.retina_microcirculation import TWIN
from meditwin_twins.retina_microcirculation.inputs import corrections, pixel_scale
from meditwin_twins.retina_microcirculation.network import ARTERY, VEIN

from meditwin_desktop.core.twin import TwinInputError, check_result, view_of

FIRST, SECOND = "2024-03-12", "2026-02-10"


@pytest.fixture(scope="module")
def demo():
    from meditwin_desktop.demo.case import demo_case

    case = demo_case("retina-hypertension")
    view = view_of(case)
    baseline = {k: p.value for k, p in TWIN.personalize(view).items()}
    return case, TWIN.prepare(view), baseline


_RUNS: dict = {}


def run(demo, **overrides):
    """One scenario (cached: the analysis of a photograph takes a few seconds)."""
    key = tuple(sorted((k, str(v)) for k, v in overrides.items()))
    if key not in _RUNS:
        _, inputs, baseline = demo
        params = TWIN.parameters_for(baseline, overrides)
        _RUNS[key] = TWIN.simulate(params, inputs, lambda *_: None, lambda: False)
        check_result(TWIN, _RUNS[key])
    return _RUNS[key]


def test_personalised_from_the_photograph_on_screen_and_the_clinical_form(demo):
    case, inputs, baseline = demo
    assert [p["date"][:10] for p in inputs["photos"]] == [FIRST, SECOND]
    assert baseline["visit"] == SECOND and baseline["eye"] == "right"
    assert (baseline["sbp_mmhg"], baseline["dbp_mmhg"]) == (158.0, 96.0)
    assert baseline["iop_mmhg"] == case.clinical["iop_mmhg"]
    assert all(p["pixel_mm"] == pytest.approx(0.0127551, rel=1e-4) for p in inputs["photos"])


def test_outcomes_overlays_and_tables_of_the_baseline(demo):
    case, inputs, _ = demo
    result = run(demo)
    out = result.outcomes
    assert 80 < out["crae_um"] < 220 and 120 < out["crve_um"] < 320
    assert out["avr"] == pytest.approx(out["crae_um"] / out["crve_um"])
    assert out["total_flow_ul_min"] > 0
    assert 1.2 < out["fractal_dimension"] < 1.8  # box counting on a vessel mask
    assert 0 <= out["ischaemic_area_pct"] <= 1.0  # at his own pressures nothing is starved
    shape = inputs["photos"][-1]["pixels"].shape[:2]
    for name in ("vessels", "artery_vein", "flow", "perfusion"):
        assert result.overlays[name].values.shape == shape
        assert result.overlays[name].study == case.studies[1].id  # drawn on visit 2
    assert set(np.unique(result.overlays["vessels"].values)) == {0, 1}
    assert result.overlays["artery_vein"].categories == ("artery", "vein")
    codes = result.overlays["artery_vein"].values
    assert {1.0, 2.0} <= set(np.unique(codes[np.isfinite(codes)]))
    assert {"image", "zone_b", "quadrants", "pressures"} <= set(result.tables)
    assert "from the file" in dict(result.tables["image"].rows)["scale"]


def test_the_second_visit_has_narrower_arterioles(demo):
    """The demo's arterioles are 15 % narrower at the second visit (phantom truth), the
    venules unchanged: CRAE and AVR fall."""
    first, second = run(demo, visit=FIRST), run(demo)
    assert second.outcomes["crae_um"] < first.outcomes["crae_um"]
    assert second.outcomes["avr"] < first.outcomes["avr"]
    assert second.overlays["vessels"].study != first.overlays["vessels"].study


def test_pressures_act_on_flow_as_poiseuille_says(demo):
    """No autoregulation: flow is proportional to the perfusion pressure 2/3 MAP - IOP."""
    base = run(demo)
    _, _, baseline = demo
    lower = run(demo, sbp_mmhg=130, dbp_mmhg=80)
    high_iop = run(demo, iop_mmhg=55)  # acute angle closure

    def perfusion(sbp, dbp, iop):
        return 2 / 3 * (dbp + (sbp - dbp) / 3) - iop

    reference = perfusion(baseline["sbp_mmhg"], baseline["dbp_mmhg"], baseline["iop_mmhg"])
    for result, pressure in ((lower, perfusion(130, 80, baseline["iop_mmhg"])),
                             (high_iop, perfusion(baseline["sbp_mmhg"], baseline["dbp_mmhg"],
                                                  55))):  # fmt: skip
        ratio = result.outcomes["total_flow_ul_min"] / base.outcomes["total_flow_ul_min"]
        assert ratio == pytest.approx(pressure / reference, rel=1e-6)
    # his perfusion pressure 2/3 x 117 - 55 = 23 mmHg is under half the reference's 47
    assert high_iop.outcomes["ischaemic_area_pct"] > 50
    assert lower.outcomes["crae_um"] == base.outcomes["crae_um"]  # calibres are measured


def test_arteriolar_narrowing_scales_crae_and_lowers_flow(demo):
    base, narrow = run(demo), run(demo, arteriolar_narrowing_pct=20)
    assert narrow.outcomes["crae_um"] == pytest.approx(0.8 * base.outcomes["crae_um"])
    assert narrow.outcomes["crve_um"] == base.outcomes["crve_um"]
    assert narrow.outcomes["total_flow_ul_min"] < base.outcomes["total_flow_ul_min"]


def _vein_point(demo) -> tuple[float, float]:
    """The middle of the measured vein segment that carries the most blood."""
    from meditwin_twins.retina_microcirculation import flow
    from meditwin_twins.retina_microcirculation.model import analyse_photo

    _, inputs, _ = demo
    photo = inputs["photos"][-1]
    _, network = analyse_photo(photo["pixels"])
    solution = flow.solve_flow(network, 1000 * photo["pixel_mm"], flow.FlowSettings(62, 15))
    carried = np.where(network.kind == VEIN, np.abs(np.nan_to_num(solution.flow_ul_min)), 0)
    path = network.paths[int(np.argmax(carried))]
    return tuple(float(v) for v in path[len(path) // 2])


def test_a_branch_vein_occlusion_starves_its_territory(demo):
    row, col = _vein_point(demo)
    occluded = run(demo, occlusion="branch vein", occlusion_at=(row, col))
    assert occluded.outcomes["ischaemic_area_pct"] > 1.0  # its drainage territory
    starved = occluded.overlays["ischaemic"].values
    assert 100 * starved.sum() / starved.size < occluded.outcomes["ischaemic_area_pct"]
    assert occluded.outcomes["total_flow_ul_min"] < run(demo).outcomes["total_flow_ul_min"]
    assert any("branch vein occlusion" in w for w in occluded.warnings)


def test_an_occlusion_point_off_the_vessels_is_refused_with_what_to_do(demo):
    _, inputs, baseline = demo
    params = TWIN.parameters_for(baseline, {"occlusion": "branch artery",
                                            "occlusion_at": (5.0, 5.0)})  # fmt: skip
    with pytest.raises(TwinInputError, match=r"No artery within .* click on the artery"):
        TWIN.simulate(params, inputs, lambda *_: None, lambda: False)


def test_a_visit_without_a_photograph_is_refused_naming_the_ones_there_are(demo):
    _, inputs, baseline = demo
    params = TWIN.parameters_for(baseline, {"visit": "2025-01-01"})
    with pytest.raises(TwinInputError, match=r"2024-03-12 .right eye.*2026-02-10"):
        TWIN.simulate(params, inputs, lambda *_: None, lambda: False)


def test_scale_from_the_file_else_the_disc_as_a_stated_assumption():
    assert pixel_scale({"pixel_mm": 0.0125}, 0.0, 150, 1.8) == (12.5, pytest.approx(
        "pixel size 12.50 µm (from the file)"))  # fmt: skip
    um, note = pixel_scale({"pixel_mm": None}, 0.0, 150.0, 1.8)
    assert um == pytest.approx(12.0) and "ASSUMED" in note and "1.8 mm" in note
    assert pixel_scale({"pixel_mm": 0.0125}, 10.0, 150, 1.8)[0] == 10.0  # the user's value
    with pytest.raises(TwinInputError, match="set the pixel size"):
        pixel_scale({"pixel_mm": None}, 0.0, 0.0, 1.8)


def test_artery_vein_marks_are_read_and_bad_ones_named():
    assert corrections("2026-02-10 412,380: vein; 220, 610: artery") == (
        (412.0, 380.0, VEIN, "2026-02-10"), (220.0, 610.0, ARTERY, ""))  # fmt: skip
    with pytest.raises(TwinInputError, match="'12: vein' is not"):
        corrections("12: vein")


def test_a_case_without_a_photograph_does_not_fit():
    from meditwin_desktop.core.case import Case

    assert TWIN.missing(Case(name="no photo")) != []


def test_the_twin_conforms():
    from meditwin_desktop.core.twin_check import check_twin

    report = check_twin(TWIN)
    assert report.problems == [], report.problems


def test_a_photograph_that_is_not_a_fundus_is_refused_with_a_message():
    from skimage import data

    from meditwin_desktop.core.case import Case, Study
    from meditwin_desktop.core.imaging.photo import Photo

    case = Case(name="not an eye")
    case.studies = [Study(date="2026-01-05", modality="XC", image=Photo(data.astronaut()))]
    view = view_of(case)
    assert TWIN.missing(case) == []  # a photograph: the twin fits until it looks at it
    params = TWIN.parameters_for({k: p.value for k, p in TWIN.personalize(view).items()}, {})
    with pytest.raises(TwinInputError, match="fundus"):
        TWIN.simulate(params, TWIN.prepare(view), lambda *_: None, lambda: False)


def _photo_case(tmp_path, pixels, name="fundus.png"):
    """A case made as `meditwin case import` makes it from a PNG (no date, no eye, no scale)."""
    from skimage.io import imsave

    from meditwin_desktop.core.case_import import case_from

    path = tmp_path / name
    imsave(path, pixels, check_contrast=False)
    return case_from(path)


def test_an_imported_png_runs_as_an_undated_visit_with_the_scale_assumed(tmp_path):
    from meditwin_twins.retina_microcirculation.inputs import UNDATED
    from meditwin_twins.retina_microcirculation.phantom import make_fundus

    case = _photo_case(tmp_path, make_fundus(0).rgb)
    view = view_of(case)
    baseline = {k: p.value for k, p in TWIN.personalize(view).items()}
    assert baseline["visit"] == UNDATED and baseline["eye"] == "not stated"
    result = TWIN.simulate(TWIN.parameters_for(baseline, {}), TWIN.prepare(view),
                           lambda *_: None, lambda: False)  # fmt: skip
    check_result(TWIN, result)
    assert any("ASSUMED" in w and "1.8 mm" in w for w in result.warnings)
    assert result.outcomes["crae_um"] is not None
    with pytest.raises(TwinInputError, match="No photograph of the left eye"):
        TWIN.simulate(TWIN.parameters_for(baseline, {"eye": "left", "visit": "2026-01-01"}),
                      TWIN.prepare(view), lambda *_: None, lambda: False)  # fmt: skip


def test_a_grey_photograph_asks_for_artery_and_vein_marks(tmp_path):
    from meditwin_twins.retina_microcirculation.phantom import make_fundus

    green = make_fundus(0).rgb[..., 1]
    case = _photo_case(tmp_path, np.stack([green] * 3, axis=-1))  # red-free saved as RGB
    view = view_of(case)
    params = TWIN.parameters_for({k: p.value for k, p in TWIN.personalize(view).items()}, {})
    with pytest.raises(TwinInputError, match=r"grey .* Mark the main arteries and veins"):
        TWIN.simulate(params, TWIN.prepare(view), lambda *_: None, lambda: False)
