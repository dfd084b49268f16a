"""What the VT twin says beside its numbers (review findings): an unchecked electrode, a
lesion point off the wall, no VT at all, no scar, the ablated isthmus kept on the views, a
grid coarser than the calibration, the model's time scale on every VT cycle length."""

from __future__ import annotations

import numpy as np

from meditwin_desktop.core.twin import Result

from .. import TWIN, ecg, model


def test_an_electrode_without_a_body_outline_is_said_unchecked():
    assert "not checked" in ecg.electrode_note(None, False, checked=False)
    assert "outside the image" in ecg.electrode_note(None, False, checked=True)
    assert ecg.electrode_note(True, False, checked=True) == ""


def _slab_inputs():
    """A 20 x 20 mm wall, 8 mm thick (k 0-7), 1 mm voxels, with the cavity above it."""
    myocardium = np.zeros((20, 20, 20), bool)
    myocardium[:8] = True
    return {"myocardium": myocardium, "affine": np.eye(4),
            "thickness_mm": np.where(myocardium, 8.0, np.nan)}  # fmt: skip


def test_a_lesion_point_off_the_wall_is_said_to_be_off_it():
    inputs = _slab_inputs()
    params = {"ablation": "point", "lesion_radius_mm": 5.0, "lesion_lps_mm": (10.0, 10.0, 11.0)}
    lesion = np.zeros_like(inputs["myocardium"])
    lesion[:8, 6:15, 6:15] = True  # what the wall below it gives
    [warning] = model._lesion_warnings(params, inputs, lesion)
    assert "4.0 mm off the left-ventricular wall" in warning
    on_wall = {**params, "lesion_lps_mm": (10.0, 10.0, 4.0)}
    assert model._lesion_warnings(on_wall, inputs, lesion) == []
    graze = np.zeros_like(lesion)
    graze[7, 10, 10] = True  # one voxel: a point just touching the wall's edge
    assert any("grazes" in w for w in model._lesion_warnings(on_wall, inputs, graze))


def _part(isthmus=None, scar=5.0):
    outcomes = {o.name: 0.0 for o in TWIN.outcomes}
    outcomes.update(vt_cycle_length_ms=None, isthmus_lps_mm=isthmus, scar_volume_ml=scar)
    return Result(outcomes)


def test_no_vt_anywhere_says_why_and_auto_ablation_keeps_the_ablated_isthmus():
    params = TWIN.parameters_for({}, {})
    result = model.combine(params, {}, [_part(), _part(), _part()])
    assert result.outcomes["inducible_vt_count"] == 0.0
    assert "no sustained VT" in result.notes["inducible_vt_count"]
    assert result.outcomes["isthmus_lps_mm"] is None
    auto = TWIN.parameters_for({}, {"ablation": "auto_isthmus"})
    result = model.combine(auto, {}, [_part(isthmus=(1.0, 2.0, 3.0))])
    assert result.outcomes["isthmus_lps_mm"] == (1.0, 2.0, 3.0)
    assert "ablated in this scenario" in result.notes["isthmus_lps_mm"]
    assert "no dense scar" in model.combine(params, {}, [_part(scar=0.0)]).notes["scar_volume_ml"]
