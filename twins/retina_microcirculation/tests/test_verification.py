"""The retina twin's verification cases (`meditwin verify`): the quick ones run here (the
synthetic fundus analysed once, shared by the cases), the CHASE_DB1 scoring of 14 photographs
is heavy (test_fundus.py scores one held-out photograph)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from meditwin_twins.retina_microcirculation.verification import VERIFICATION, chase_folder


@pytest.mark.parametrize("case", [c for c in VERIFICATION if not c.heavy], ids=lambda c: c.name)
def test_quick_verification_case(case):
    value = case.compute()
    assert math.isfinite(value)
    assert case.passed(value), f"{case.name}: {value:.4g} vs {case.reference} ± {case.tolerance}"


def test_every_case_names_its_source_and_the_chase_cases_are_heavy():
    assert all(case.source for case in VERIFICATION)
    chase = [case for case in VERIFICATION if "CHASE" in case.name]
    assert len(chase) == 3 and all(case.heavy for case in chase)


def test_chase_db1_is_found_beside_the_installation():
    shared = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "retina"
    if not shared.exists():
        pytest.skip(f"{shared} is absent here (CI has it)")
    folder = chase_folder()
    assert folder is not None and (folder / "Image_14R_1stHO.png").is_file()
