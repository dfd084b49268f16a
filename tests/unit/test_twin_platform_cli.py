"""`meditwin twins` and `meditwin run` with the reference twin (tests/support)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _meditwin(*args: str, extra: str = "tests.support.reference_twin:TWIN"):
    env = dict(os.environ, MEDITWIN_EXTRA_TWINS=extra, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "meditwin_desktop", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )


def test_twins_json_lists_parameters_outcomes_and_broken_plugins():
    result = _meditwin(
        "twins",
        "--json",
        extra="tests.support.reference_twin:TWIN,tests.support.reference_twin:BROKEN",
    )
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    [twin] = [t for t in listing["twins"] if t["id"] == "reference"]  # installed twins too
    rate = next(p for p in twin["parameters"] if p["name"] == "rate")
    assert (rate["unit"], rate["min"], rate["max"], rate["default"]) == ("1/h", 0.01, 10.0, 0.5)
    assert {o["name"]: o["unit"] for o in twin["outcomes"]} == {"final": "mL", "auc": "mL h"}
    assert "BROKEN" in listing["problems"][0] and "not a meditwin Twin" in listing["problems"][0]


def test_run_scenarios_file_on_the_demo(tmp_path, demo_patient):
    scenarios = {
        "scenarios": [
            {"name": "slow", "set": {"rate": 0.1}},
            {"name": "fast", "set": {"rate": 2.0}},
            {"name": "broken", "set": {"behaviour": "raise"}},
        ]
    }
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps(scenarios))
    result = _meditwin("run", "reference", "--demo", "--scenarios", str(path), "--json")
    assert result.returncode == 1, result.stderr  # one scenario failed
    report = json.loads(result.stdout)
    assert report["twin"] == "reference" and report["version"] == "1.0"
    by_name = {s["name"]: s for s in report["scenarios"]}
    slow, fast = by_name["slow"]["outcomes"]["final"], by_name["fast"]["outcomes"]["final"]
    assert slow["unit"] == "mL"
    assert slow["value"] / fast["value"] == pytest.approx(math.exp((2.0 - 0.1) * 4.0))
    assert by_name["broken"]["status"] == "failed" and "deliberate" in by_name["broken"]["error"]
    assert by_name["slow"]["error"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "rate=50"], "Washout rate must be between 0.01 and 10 1/h"),
        (["--set", "speed=1"], "has no parameter 'speed'"),
        (["--set", "rate"], "not of the form name=value"),
    ],
)
def test_bad_input_exits_2_naming_the_value(args, message, demo_patient):
    result = _meditwin("run", "reference", "--demo", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_unknown_twin_exits_2():
    result = _meditwin("run", "no_such_twin", "--demo")
    assert result.returncode == 2 and "No twin 'no_such_twin' is installed" in result.stderr


def test_run_on_a_stored_case_then_report(tmp_path, demo_patient):
    """A case in the library, scenarios run headless and saved with it (--save), then the PDF."""
    from pypdf import PdfReader

    from meditwin_desktop.core.store import CaseLibrary
    from meditwin_desktop.demo.case import demo_case

    case = demo_case()
    case.id = "report-test"
    CaseLibrary().save(case)
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps({"scenarios": [{"name": "fast", "set": {"rate": 2.0}}]}))
    result = _meditwin("run", "reference", "--case", "report-test", "--scenarios", str(path))
    assert result.returncode == 0, result.stderr
    assert "fast: ok" in result.stdout
    assert CaseLibrary().load("report-test").runs == {}  # without --save nothing is stored
    result = _meditwin("run", "reference", "--case", "report-test", "--save", "Baseline")
    assert result.returncode == 0, result.stderr
    result = _meditwin(
        "run", "reference", "--case", "report-test", "--scenarios", str(path), "--save", "fast"
    )
    assert result.returncode == 0, result.stderr
    assert "Saved in case" in result.stdout
    stored = CaseLibrary().load("report-test")
    assert [r.scenario for r in stored.runs["reference"]] == ["Baseline", "fast"]
    assert [(s.name, s.overrides) for s in stored.scenarios["reference"]] == [
        ("Baseline", {}),
        ("fast", {"rate": 2.0}),
    ]
    pdf = tmp_path / "board.pdf"
    result = _meditwin("report", "report-test", "--out", str(pdf), "--pseudonym", "Patient A")
    assert result.returncode == 0, result.stderr
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    for expected in (
        "Patient A",
        "Reference washout",
        "fast",
        "Baseline",
        "does not replace",
        "Amount at the end",
        "version 1.0",
        "Spatial results",
    ):
        assert expected in text, expected
    assert case.name not in text  # the pseudonym replaced the patient's name
    # summary, baseline, key views, outcomes with curves, key outcomes, spatial, provenance
    assert len(PdfReader(pdf).pages) == 7
