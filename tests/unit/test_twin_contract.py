"""Twin contract 2: the read-only case view, closed requirement kinds, parameter kinds,
outcome targets and resolution, verification cases, twins' own clinical fields, units."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.case import Case, Event, Measurement, Medication, Recording, Study
from meditwin_desktop.core.clinical import CORE_FIELDS, field_for, fields
from meditwin_desktop.core.comparison import best_scenarios, target_mark
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.twin import (
    Outcome,
    Parameter,
    Requirement,
    Target,
    Twin,
    TwinInputError,
    VerificationCase,
    view_of,
)
from meditwin_desktop.core.units import UnitError, convert


def _case() -> Case:
    array = np.zeros((4, 10, 10), np.uint8)
    array[1:3, 2:6, 3:5] = 1  # 2 x 4 x 2 = 16 voxels of 2 x 1 x 1 mm: 32 uL
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    labels = LabelMap(Volume(array, affine), {1: Label(1, "Tumour 1", (1, 2, 3))})
    return Case(
        "A", image=Volume(np.zeros((4, 10, 10), np.int16), affine), labels=labels,
        clinical={"age_y": 61},
        studies=[Study(date="2025-01-02", modality="CT")],
        measurements=[Measurement("LDL cholesterol", 6.2, "mmol/L", "2024-05-01"),
                      Measurement("LDL cholesterol", 150.0, "mg/dL", "2023-01-01")],
        events=[Event("2025-03-01T10:00:00", "convulsive", 60.0)],
        medications=[Medication("valproate", 20.0, "mg/kg/day", "2024-01-01")],
        recordings=[Recording("night.edf", "EEG")],
    )  # fmt: skip


def test_the_view_reads_the_case_and_cannot_change_it():
    case = _case()
    view = view_of(case)
    assert view.label_names == ("Tumour 1",) and view.has_label("tumour 1")
    assert view.label_volume_ml("Tumour 1") == pytest.approx(0.032)
    assert view.label_centroid("tumour 1") == pytest.approx([3.5, 3.5, 3.0])
    mask = view.mask("Tumour 1")
    with pytest.raises(ValueError):
        mask[0, 0, 0] = True  # read-only
    with pytest.raises(ValueError):
        view.label_grid().array[0, 0, 0] = 9
    with pytest.raises(TypeError):
        view.clinical["age_y"] = 1  # type: ignore[index]
    ldl = view.measurements("ldl cholesterol", unit="mg/dL")
    assert [m.date for m in ldl] == ["2023-01-01", "2024-05-01"]  # by date
    assert [round(m.value, 1) for m in ldl] == [150.0, 239.7]  # mmol/L x 38.665
    assert len(view.studies) == 2 and view.events("convulsive")[0].duration_s == 60.0
    assert view.medications[0].unit == "mg/kg/day" and view.recordings[0].kind == "EEG"
    assert case.labels.volume.array.flags.writeable  # the case's own array is untouched


def test_requirements_are_a_closed_set_and_say_what_is_missing():
    with pytest.raises(ValueError, match="not one of"):
        Requirement("lab value", "LDL")
    twin = Twin("t", "T", "", "1", "", (), (), (), (
        Requirement("label", "liver"),
        Requirement("measurement", "MMSE", minimum=2),
        Requirement("events", "convulsive", minimum=1),
        Requirement("recording", "EEG"),
        Requirement("studies", "", minimum=3),
        Requirement("photo", "fundus"),
    ), None, None, None)  # fmt: skip
    reasons = twin.missing(_case())
    assert reasons == [
        "needs a label named 'liver'",
        "needs at least 2 measurements of 'MMSE' (has 0)",
        "needs at least 3 imaging studies (has 2)",
        "needs a photograph (fundus)",
    ]


def test_parameter_kinds_date_file_and_clinical_choice_labels():
    date = Parameter("start", "Start", "", "2025-01-01", value_type="date")
    assert date.kind == "date" and date.validate(" 2025-06-30 ") == "2025-06-30"
    with pytest.raises(TwinInputError, match="not a date"):
        date.validate("30/06/2025")
    drug = Parameter("drug", "Add-on", "", "ffa", choices=("ffa", "cbd"),
                     choice_labels=("fenfluramine", "cannabidiol"))  # fmt: skip
    assert drug.validate("cannabidiol") == "cbd" and drug.choice_label("ffa") == "fenfluramine"
    assert Parameter("f", "File", "", "", value_type="file").kind == "file"


def test_outcome_targets_precision_and_resolution():
    sao2 = Outcome("sao2", "SaO2", "%", "none", target=Target(75, 85), precision=1)
    assert sao2.format(80.04) == "80.0" and sao2.off_target(80) == ""
    assert sao2.off_target(70) == "below the target 75-85 %" and target_mark(sao2, 90) == "↑"
    flr = Outcome("flr", "FLR", "%", "higher", target=Target(low=30), resolution=2.0)
    twin = Twin("t", "T", "", "1", "", (), (), (flr,), (), None, None, None)

    def runs(*values):
        from meditwin_desktop.core.case import Run

        return [Run("t", "1", f"s{n}", {}, "", "ok", None, {"flr": v}, 0, "", "", "")
                for n, v in enumerate(values)]  # fmt: skip

    assert best_scenarios(twin, runs(35.0, 31.0))["flr"] == {"s0"}
    assert best_scenarios(twin, runs(35.0, 34.0))["flr"] == set()  # within 2 %: the same
    assert best_scenarios(twin, runs(35.0, 35.0))["flr"] == set()  # a tie
    assert best_scenarios(twin, runs(35.0))["flr"] == set()  # nothing to compare with


def test_verification_cases_pass_within_their_tolerance():
    absolute = VerificationCase("x", "q", "mm", 10.0, 0.5, "analytic", lambda: 10.4)
    relative = VerificationCase("y", "q", "%", 200.0, 0.02, "paper", lambda: 205.0, True)
    assert absolute.passed(absolute.compute()) and not absolute.passed(10.6)
    assert not relative.passed(relative.compute()) and relative.passed(203.9)
    assert not absolute.passed(float("nan"))


def test_twins_bring_their_own_clinical_fields():
    core = {f.key for f in CORE_FIELDS}
    assert "ldl_mg_dl" not in core and "sao2_pct" not in core  # in the twins now
    keys = [f.key for f in fields()]
    assert {"ldl_mg_dl", "fh_genotype", "sao2_pct", "hemoglobin_g_dl"} <= set(keys)
    assert keys[: len(core)] == [f.key for f in CORE_FIELDS]  # the shared ones first
    assert field_for("ldl_mg_dl").alternatives["mmol/L"] == 38.67


def test_one_table_of_units():
    assert convert(6.2, "mmol/L", "mg/dL", "LDL cholesterol") == pytest.approx(239.72, abs=0.01)
    assert convert(1.0, "mg/dL", "µmol/L", "creatinine") == pytest.approx(88.4, abs=0.01)
    assert convert(31.5, "mm", "cm") == pytest.approx(3.15)
    assert convert(15.0, "g/dL", "g/L") == pytest.approx(150.0)
    assert convert(2.0, "umol/l", "nmol/L") == pytest.approx(2000.0)
    with pytest.raises(UnitError, match="cannot be converted"):
        convert(1.0, "mg/dL", "mmol/L", "MMSE")
    with pytest.raises(UnitError, match="Unknown unit 'furlong'"):
        convert(1.0, "furlong", "mm")
