"""The clinical vocabulary: units, plausibility, clear messages (core/clinical.py)."""

from __future__ import annotations

import pytest

from meditwin_desktop.core.clinical import (
    CHOLESTEROL_MG_DL_PER_MMOL_L,
    ClinicalInputError,
    field_for,
    problems,
    set_value,
)


def test_cholesterol_typed_in_mmol_l_is_stored_in_mg_dl():
    """mg/dL = mmol/L x 38.67 (cholesterol, 386.65 g/mol)."""
    clinical = {}
    assert set_value(clinical, "ldl_mg_dl", "6.2", "mmol/L") == pytest.approx(6.2 * 38.67)
    assert clinical["ldl_mg_dl"] == pytest.approx(239.754)
    ldl = field_for("ldl_mg_dl")
    assert ldl.display(clinical["ldl_mg_dl"], "mmol/L") == "6.2"
    assert ldl.display(clinical["ldl_mg_dl"]) == "239.8"
    assert CHOLESTEROL_MG_DL_PER_MMOL_L == 38.67


def test_implausible_values_name_the_field_the_unit_and_the_range():
    clinical = {"ldl_mg_dl": 200.0}
    with pytest.raises(ClinicalInputError, match=r"LDL cholesterol.*62 mmol/L is not plausible"):
        set_value(clinical, "ldl_mg_dl", "62", "mmol/L")  # mg/dL typed as mmol/L
    assert clinical["ldl_mg_dl"] == 200.0  # unchanged
    with pytest.raises(ClinicalInputError, match="'abc' is not a number"):
        set_value(clinical, "weight_kg", "abc")
    with pytest.raises(ClinicalInputError, match="unknown unit"):
        set_value(clinical, "weight_kg", "3", "stone")
    with pytest.raises(ClinicalInputError, match="not one of female, male"):
        set_value(clinical, "sex", "f")
    with pytest.raises(ClinicalInputError, match="No clinical field 'shoe_size'"):
        set_value(clinical, "shoe_size", "42")


def test_flags_choices_decimal_commas_and_empty_entries():
    clinical = {}
    assert set_value(clinical, "smoker", "yes") is True
    assert set_value(clinical, "smoker", False) is False
    assert set_value(clinical, "weight_kg", "3,2") == pytest.approx(3.2)
    assert set_value(clinical, "weight_kg", "3200", "g") == pytest.approx(3.2)
    assert set_value(clinical, "fh_genotype", "LDLR") == "LDLR"
    set_value(clinical, "weight_kg", "")
    assert "weight_kg" not in clinical


def test_readable_units_for_small_values():
    age = field_for("age_y")
    assert age.readable(4 / 365.25) == ("4", "days")
    assert age.readable(0.5) == ("6", "months")
    assert age.readable(45) == ("45", "years")


def test_problems_across_fields():
    found = problems({"sbp_mmhg": 80, "dbp_mmhg": 90, "total_chol_mg_dl": 150,
                      "hdl_mg_dl": 60, "ldl_mg_dl": 140, "weight_kg": 900})  # fmt: skip
    assert any("Diastolic blood pressure is not below" in p for p in found)
    assert any("exceed the total cholesterol" in p for p in found)
    assert any("Weight" in p and "not plausible" in p for p in found)


def test_an_absent_value_that_is_best_wins_the_comparison():
    """'never' reaching a threshold (None, absent_is_best) beats any age; 'no reduction'
    (None, not best) never wins."""
    from meditwin_desktop.core.case import Run
    from meditwin_desktop.core.comparison import best_scenarios
    from meditwin_desktop.core.twin import Outcome, Twin

    never = Outcome("age", "Age at threshold", "y", "higher", absent="never", absent_is_best=True)
    nnt = Outcome("nnt", "NNT", "people", "lower", absent="no reduction")
    twin = Twin("t", "T", "", "1", "", (), (), (never, nnt), (), None, None, None)

    def run(name, age, number):
        return Run("t", "1", name, {}, "", "ok", None, {"age": age, "nnt": number}, 0, "", "",
                   "")  # fmt: skip

    best = best_scenarios(twin, [run("Baseline", 32.6, None), run("PCSK9i", None, 8.0),
                                 run("Statin", 41.0, 12.0)])  # fmt: skip
    assert best == {"age": {"PCSK9i"}, "nnt": {"PCSK9i"}}


def test_a_typed_date_of_birth_shows_in_the_banner_and_a_different_header_is_flagged():
    from meditwin_desktop.core.case import Case
    from meditwin_desktop.core.clinical import ClinicalField
    from meditwin_desktop.core.session import Session

    born = ClinicalField("birth_date", "Date of birth", "Patient", kind="date")
    assert born.parse("1950-05-21") == "1950-05-21"
    with pytest.raises(ClinicalInputError, match="YYYY-MM-DD"):
        born.parse("21/05/1950")
    with pytest.raises(ClinicalInputError, match="not plausible"):
        born.parse("2999-01-01")
    session = Session()
    case = Case("Doe^Jane", "P-1", image_reference={"birth_date": "19500521"})
    session.open(case)
    assert "born 1950-05-21" in session.identity().banner()
    case.clinical["birth_date"] = "1948-03-10"
    banner = session.identity().banner()
    assert "born 1948-03-10 (⚠ the images say 1950-05-21: check)" in banner
