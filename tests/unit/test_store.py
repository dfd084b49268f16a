"""The case library: round trip of everything a case holds; a SIGKILL during a save loses
nothing that was saved before it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import run_scenarios
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.twin import Scenario
from tests.support.reference_twin import TWIN

ROOT = Path(__file__).resolve().parents[2]


def _case() -> Case:
    labels = np.zeros((6, 7, 8), np.uint8)
    labels[1:4, 2:5, 3:6] = 1
    affine = affine_from([1.0, 2.0, 3.0], np.eye(3), [0.5, 0.5, 2.0])
    image = Volume(np.zeros((6, 7, 8), np.int16), affine)
    return Case(name="Test patient", patient_id="P1", image=image,
                labels=LabelMap(Volume(labels, affine), {1: Label(1, "liver", (200, 100, 80))}),
                image_reference={"folder": "/nowhere", "series_uid": "1.2.3"},
                clinical={"weight_kg": 70.5, "sex": "female"})  # fmt: skip


def test_a_case_with_scenarios_and_runs_round_trips(tmp_path):
    case = _case()
    scenarios = [Scenario("Baseline"), Scenario("fast", {"rate": 2.0})]
    case.scenarios["reference"] = scenarios
    runner = Runner(max_parallel=2)
    try:
        runs = run_scenarios(TWIN, case, scenarios, runner)
    finally:
        runner.shutdown()
    library = CaseLibrary(tmp_path)
    assert library.save(case) == 1
    back = library.load(case.id)
    assert (back.name, back.patient_id, back.clinical) == ("Test patient", "P1", case.clinical)
    assert back.image_reference == case.image_reference
    assert np.array_equal(back.labels.volume.array, case.labels.volume.array)
    assert np.allclose(back.labels.volume.affine, case.labels.volume.affine)
    assert back.labels.labels == case.labels.labels
    assert [s.overrides for s in back.scenarios["reference"]] == [{}, {"rate": 2.0}]
    for before, after in zip(runs, back.runs["reference"], strict=True):
        assert after.outcomes == before.outcomes and after.parameters == before.parameters
        assert (after.twin_version, after.app_version, after.input_hash) == (
            before.twin_version,
            before.app_version,
            before.input_hash,
        )
        assert after.user and after.time
        series = after.result.series["concentration"]
        assert np.array_equal(series.values, before.result.series["concentration"].values)
        field = after.result.fields["concentration"]
        assert np.array_equal(field.affine, before.result.fields["concentration"].affine)
    blobs = sorted((tmp_path / case.id / "blobs").iterdir())
    assert library.save(back) == 2  # a new revision, both kept in the history
    assert [r.revision for r in library.history(case.id)] == [2, 1]
    assert sorted((tmp_path / case.id / "blobs").iterdir()) == blobs  # unchanged: not rewritten


SAVER = r"""
import sys
import numpy as np
from meditwin_desktop.core.store import CaseLibrary
from tests.unit.test_store import _case
library = CaseLibrary(sys.argv[1])
case = _case()
case.labels.volume.array = np.zeros((64, 256, 256), np.uint8)  # a few MB per save
case.labels.volume.affine = np.eye(4)
for n in range(1, 100000):
    case.clinical["save"] = n
    case.labels.volume.array[n % 64] = n % 251
    library.save(case)
    print(n, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.037, 0.071])
def test_sigkill_in_the_middle_of_a_save_keeps_every_earlier_save(tmp_path, delay):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    saver = subprocess.Popen([sys.executable, "-c", SAVER, str(tmp_path)], env=env,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
    confirmed = 0
    for line in saver.stdout:
        confirmed = int(line)
        if confirmed >= 5:
            break
    time.sleep(delay)  # land somewhere inside the next saves
    saver.send_signal(signal.SIGKILL)
    saver.wait()
    assert saver.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "library.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    library = CaseLibrary(tmp_path)
    [summary] = library.cases()
    case = library.load(summary.id)
    assert case.clinical["save"] >= confirmed  # nothing confirmed is lost
    assert case.labels.volume.array.shape == (64, 256, 256)  # its arrays are complete
    n = case.clinical["save"]
    assert (case.labels.volume.array[n % 64] == n % 251).all()


def test_a_clinical_only_case_with_absent_outcomes_and_guides_round_trips(tmp_path):
    """No image; an outcome that does not apply (None) and a curve's threshold survive."""
    from meditwin_twins.cardiometabolic import TWIN as RISK

    from meditwin_desktop.demo.case import demo_case

    case = demo_case("fh-patient")
    scenarios = [Scenario("Baseline"), Scenario("High statin", {"therapy": "statin_high"})]
    runner = Runner()
    try:
        run_scenarios(RISK, case, scenarios, runner)
    finally:
        runner.shutdown()
    case.scenarios[RISK.id] = scenarios
    library = CaseLibrary(tmp_path / "cases")
    library.save(case)
    loaded = library.load(case.id)
    assert loaded.image is None and loaded.clinical == case.clinical
    baseline, statin = loaded.runs[RISK.id]
    assert baseline.outcomes["nnt_10y"] is None and statin.outcomes["nnt_10y"] > 0
    series = statin.result.series["ldl_burden"]
    assert series.guides == (("CHD threshold", 160.0),) and series.x_label == "age"


def test_studies_measurements_events_medications_and_recordings_round_trip(tmp_path):
    from meditwin_desktop.core.case import Event, Measurement, Medication, Recording, Study

    first = _case()
    follow_up = Study(date="2025-06-01", modality="CT", description="follow-up",
                      reference={"folder": "/x", "series_uid": "1.2.9"},
                      labels=first.labels)  # fmt: skip
    first.studies[0].date = "2025-01-01"
    first.studies.append(follow_up)
    first.active = 1
    first.measurements = [Measurement("longest diameter", 31.5, "mm", "2025-01-01", "lesion 1")]
    first.events = [Event("2025-02-03T04:05:06", "convulsive", 95.0, {"rescue": "midazolam"})]
    first.medications = [Medication("stiripentol", 50.0, "mg/kg/day", "2025-01-15")]
    first.recordings = [Recording("eeg/night.edf", start="2025-02-03T01:00:00")]
    library = CaseLibrary(tmp_path)
    library.save(first)
    back = library.load(first.id)
    assert [s.date for s in back.studies] == ["2025-01-01", "2025-06-01"] and back.active == 1
    assert back.image_reference["series_uid"] == "1.2.9"  # the active study's
    assert np.array_equal(back.studies[1].labels.volume.array, first.labels.volume.array)
    assert (back.measurements, back.events) == (first.measurements, first.events)
    assert (back.medications, back.recordings) == (first.medications, first.recordings)
    assert library.find_by_series("1.2.9") == first.id  # a follow-up study reopens the case
    assert library.find_by_series("1.2.3") == first.id


def test_a_library_of_format_2_is_migrated(tmp_path):
    library = CaseLibrary(tmp_path)
    case = _case()
    library.save(case)
    with sqlite3.connect(tmp_path / "library.sqlite") as db:  # back to format 2
        document = json.loads(db.execute("SELECT document FROM revisions").fetchone()[0])
        study = document.pop("studies")[0]
        document.update(format=2, image_reference=study["reference"], labels=study["labels"])
        db.execute("UPDATE revisions SET document = ?", (json.dumps(document),))
        db.execute("ALTER TABLE cases DROP COLUMN series")
        db.execute("PRAGMA user_version = 2")
    back = CaseLibrary(tmp_path).load(case.id)
    assert back.image_reference["series_uid"] == "1.2.3" and back.labels is not None
    assert CaseLibrary(tmp_path).find_by_series("1.2.3") == case.id
    # the first start of the new release kept the format-2 library as it was, first
    [copy] = tmp_path.glob("library.format2-*.sqlite")
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
