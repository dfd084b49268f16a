"""The board report of a case without images (clinical data only): the FH demo patient."""

from __future__ import annotations

from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.report import write_report
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import run_scenarios
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.demo.case import demo_case


def test_report_of_a_clinical_only_case_lists_data_outcomes_and_model_notes(tmp_path):
    from pypdf import PdfReader

    case = demo_case("fh-patient")
    twin = discover().get("cardiometabolic")
    scenarios = [Scenario("Baseline"), Scenario("High statin", {"therapy": "statin_high"})]
    runner = Runner()
    try:
        runs = run_scenarios(twin, case, scenarios, runner)
    finally:
        runner.shutdown()
    assert [r.status for r in runs] == ["ok", "ok"], [r.error for r in runs]
    case.scenarios[twin.id] = scenarios
    pdf = write_report(case, twin, tmp_path / "fh.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    for expected in (
        "Imaging: none (clinical data only)",
        "LDL cholesterol (untreated): 240 mg/dL",
        "High statin",
        "Dutch Lipid Clinic Network score",  # a model note
        "Key outcomes",
        "Cumulative LDL-C burden",
        "does not replace",
    ):
        assert expected in text, expected
