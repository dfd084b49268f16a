"""Scenarios read like a plan: named by what they change, key parameters first, per-variant
defaults (a Sano conduit is 5 mm unless set)."""

from __future__ import annotations

import pytest

from meditwin_desktop.core.scenario_names import (
    UNCHANGED,
    automatic_name,
    is_automatic,
    plan_order,
    unique_name,
)
from meditwin_desktop.core.twin import Parameter, Twin, TwinInputError
from meditwin_desktop.core.twin_check import CheckReport, _parameters
from twins.cardiometabolic import TWIN as LIPIDS
from twins.hlhs_norwood import TWIN as NORWOOD
from twins.liver_ablation import TWIN as LIVER


@pytest.mark.parametrize(
    ("twin", "overrides", "name"),
    [
        (LIVER, {"power_w": 100.0, "time_s": 600.0}, "100 W · 10 min"),
        (LIVER, {"time_s": "450"}, "7.5 min"),
        (
            LIVER,
            {"ablation": False, "resection": "remove right part"},
            "no ablation · right resection",
        ),
        (NORWOOD, {"shunt_diameter_mm": 4.0}, "BT 4.0 mm"),
        (NORWOOD, {"shunt_type": "sano"}, "Sano 5.0 mm"),
        (
            NORWOOD,
            {"shunt_type": "RV-PA (Sano) conduit", "shunt_diameter_mm": "6"},
            "Sano 6.0 mm",
        ),  # typed as shown, as the CLI allows
        (NORWOOD, {"pvr_scale": 1.5}, "Pulmonary vascular resistance ×1.5"),
        (LIPIDS, {"therapy": "statin_high_ezetimibe"}, "statin high + ezetimibe"),
        (
            LIPIDS,
            {"smoker": True, "sbp_mmhg": "130", "therapy": "statin_high"},
            "statin high · SBP 130 mmHg · smoking",
        ),  # key rank: therapy first
        (LIPIDS, {"smoker": False}, UNCHANGED),  # the baseline does not smoke: no change
        (LIPIDS, {}, UNCHANGED),
    ],
)
def test_names_say_what_a_scenario_changes(twin, overrides, name):
    assert automatic_name(twin, {}, overrides) == name


def test_names_compare_with_the_personalised_baseline():
    smoker = {"smoker": True}
    assert automatic_name(LIPIDS, smoker, {"smoker": False}) == "stops smoking"
    assert automatic_name(LIPIDS, smoker, {"smoker": True}) == UNCHANGED


def test_invalid_overrides_give_no_name():
    assert automatic_name(LIVER, {}, {"power_w": "lots"}) is None


def test_many_changes_are_counted():
    name = automatic_name(NORWOOD, {}, {"weight_kg": 3.0, "height_cm": 48, "pvr_scale": 2,
                                        "svr_scale": 2, "heart_rate_bpm": 150})  # fmt: skip
    assert name.endswith("· +2 more") and name.count("·") == 3


def test_automatic_names_until_the_user_names_one():
    assert is_automatic("BT 4.0 mm", "BT 4.0 mm")
    assert is_automatic("BT 4.0 mm (2)", "BT 4.0 mm")
    assert is_automatic("Scenario 2", None) and is_automatic("Scenario copy", "x")
    assert not is_automatic("Larger shunt", "BT 4.0 mm")
    assert not is_automatic("BT 4.0 mm (2)", "Sano 5.0 mm")
    assert unique_name("BT 4.0 mm", ["Baseline", "BT 4.0 mm", "BT 4.0 mm (2)"]) == ("BT 4.0 mm (3)")


def test_key_parameters_come_first():
    assert [p.name for p in plan_order(LIVER)][:2] == ["power_w", "time_s"]
    assert [p.name for p in plan_order(NORWOOD)][:2] == ["shunt_type", "shunt_diameter_mm"]
    assert plan_order(LIPIDS)[0].name == "therapy"
    assert sorted(p.name for p in plan_order(LIVER)) == sorted(p.name for p in LIVER.parameters)


def test_a_sano_conduit_defaults_to_5_mm_while_a_bt_shunt_keeps_its_size():
    assert NORWOOD.parameters_for({}, {})["shunt_diameter_mm"] == 3.5
    assert NORWOOD.parameters_for({}, {"shunt_type": "sano"})["shunt_diameter_mm"] == 5.0
    chosen = {"shunt_type": "sano", "shunt_diameter_mm": 6.0}
    assert NORWOOD.parameters_for({}, chosen)["shunt_diameter_mm"] == 6.0  # the user's size
    assert NORWOOD.parameters_for({}, {"shunt_diameter_mm": 4.0})["shunt_diameter_mm"] == 4.0


def test_every_choice_of_the_three_twins_has_clinical_labels():
    for twin in (LIVER, NORWOOD, LIPIDS):
        for p in twin.parameters:
            if p.kind == "choice":
                assert len(p.choice_labels) == len(p.choices), (twin.id, p.name)
                for code, label in zip(p.choices, p.choice_labels, strict=True):
                    assert p.validate(label) == code  # typed as shown: the code is stored
        assert any(p.key for p in twin.parameters), twin.id


def test_check_twin_refuses_incoherent_variants():
    shunt = Parameter("kind", "Kind", "", "a", choices=("a", "b"), source="s")
    bad = Parameter("size", "Size", "mm", 1.0, 0.0, 2.0, source="s", variant_of="kind",
                    variant_defaults=(("c", 5.0),))  # fmt: skip
    twin = Twin("t", "T", "x", "1", "q?", ("r",), (shunt, bad), (), (), dict, dict, dict)
    report = CheckReport("t", "1")
    _parameters(twin, report)
    assert any("unknown choice 'c'" in p for p in report.problems)
    assert any("default 5.0 for 'c'" in p for p in report.problems)  # outside 0-2 mm
    with pytest.raises(TwinInputError):
        bad.validate(5.0)


def test_scenario_files_and_the_command_line_take_codes_or_clinical_labels(tmp_path):
    from meditwin_desktop.core.scenario_file import read_scenarios
    from meditwin_desktop.core.scenarios import parse_overrides

    path = tmp_path / "shunts.json"
    path.write_text(
        '{"scenarios": [{"name": "a", "set": {"shunt_type": "RV-PA (Sano) conduit"}},'
        ' {"name": "b", "set": {"shunt_type": "sano"}}]}'
    )
    assert [s.overrides for s in read_scenarios(path, NORWOOD)] == [{"shunt_type": "sano"}] * 2
    typed = parse_overrides(LIPIDS, ["therapy=high-intensity statin", "smoker=no"])
    assert LIPIDS.parameters_for({}, typed)["therapy"] == "statin_high"
    assert LIPIDS.parameters_for({}, typed)["smoker"] is False


def test_a_value_is_never_shown_rounded_below_what_the_model_runs():
    """62.5 W typed in a cell that declares whole watts showed '62 W' in the cell and the
    name while the model ran 62.5 W."""
    from meditwin_desktop.core.scenario_names import number_text, with_unit

    power = LIVER.parameter("power_w")
    assert power.decimals == 0
    assert with_unit(power, 60.0) == "60 W"
    assert with_unit(power, 62.5) == "62.5 W"
    assert number_text(power, 62.5) != "62"
