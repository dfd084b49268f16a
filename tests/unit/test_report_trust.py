"""The board report never shows a stale number without a sign, summarises what the model
noted on page 1, and with a pseudonym carries no identity."""

from __future__ import annotations

import getpass

import pytest

from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.report import write_report
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import run_scenarios
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.demo.case import demo_case


@pytest.fixture(scope="module")
def fh_case():
    case = demo_case("fh-patient")
    twin = discover().get("cardiometabolic")
    statin = Scenario("High statin", {"therapy": "statin_high"})
    case.scenarios[twin.id] = [Scenario("Baseline"), statin]
    runner = Runner()
    try:
        run_scenarios(twin, case, case.scenarios[twin.id], runner)
    finally:
        runner.shutdown()
    return case, twin


def _pages(path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def test_a_changed_ldl_marks_every_result_out_of_date(fh_case, tmp_path):
    case, twin = fh_case
    fresh = _pages(write_report(case, twin, tmp_path / "fresh.pdf"))
    assert "OUT OF DATE" not in " ".join(fresh)
    case.clinical["ldl_mg_dl"] = 193.0
    try:
        pages = _pages(write_report(case, twin, tmp_path / "stale.pdf"))
    finally:
        case.clinical["ldl_mg_dl"] = 240.0
    first = pages[0]
    assert "RESULTS OUT OF DATE: 2 of 2" in first
    assert "240 → 193 mg/dL" in first  # what changed, where the board reads first
    baseline = next(p for p in pages if "Personalised baseline" in p)
    assert "LDL cholesterol (untreated): 193 mg/dL" in baseline  # the clinical data, page 2
    outcomes = next(p for p in pages if "Scenarios and outcomes\nMEDITWIN" in p)  # its title
    assert outcomes.count("(out of date)") >= 2  # each column of the table
    assert all("RESULTS OUT OF DATE" in page for page in pages[:-1])  # every page's header


def test_model_warnings_are_summarised_on_page_one(fh_case, tmp_path):  # once, not per run
    case, twin = fh_case
    first = _pages(write_report(case, twin, tmp_path / "r.pdf"))[0]
    assert "Flags and warnings" in first
    assert "Dutch Lipid Clinic Network score" in first
    assert first.count("Dutch Lipid Clinic Network score 18") == 1  # both scenarios: once
    assert "(all scenarios)" in first


def test_a_pseudonymised_report_carries_no_identity(fh_case, tmp_path):
    case, twin = fh_case
    from pypdf import PdfReader

    path = write_report(case, twin, tmp_path / "p.pdf", pseudonym="MDT-017")
    assert "/CreationDate" not in PdfReader(path).metadata
    text = " ".join(_pages(path))
    assert "MDT-017" in text
    for identifying in (case.name, case.patient_id, "myocardial infarction at 48",
                        getpass.getuser(), case.runs[twin.id][0].time[:10]):  # fmt: skip
        assert identifying not in text, identifying
