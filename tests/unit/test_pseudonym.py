"""Pseudonymised view of a case: no identifying value survives; the original is untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.pseudonym import (
    OPERATOR,
    Redactor,
    check_pseudonym,
    pseudonymize,
    relative_days,
)
from meditwin_desktop.core.twin import Result, Scenario, TimeSeries

PSEUDONYM = "MDT-2024-017"
SERIES_UID = "1.2.826.0.1.3680043.2.1125.77.1"
IDENTIFIERS = [  # every value below that identifies the patient, the operator or a date
    "Jane", "Smithson", "SMITHSON^JANE", "PID-9731-XYZ", "ALT-55512", "c0ffee123456",
    "19550704", "1955-07-04", SERIES_UID, "1.2.826.0.1.3680043.2.1125.77.2", "/srv/pacs",
    "St Elsewhere", "20240312", "2024-03-12", "2024-03-10", "12.03.2024", "dr.house",
    "Portal venous (Jane)", "called Mrs",
]  # fmt: skip


def rich_case() -> Case:
    """A case carrying its patient's identity in every place one can hide."""
    meta = {
        "modality": "CT",
        "window": (40.0, 400.0),
        "patient_name": "SMITHSON^JANE",
        "patient_id": "PID-9731-XYZ",
        "other_patient_ids": "ALT-55512",
        "birth_date": "19550704",
        "study_uid": "1.2.826.0.1.3680043.2.1125.77.2",
        "series_uid": SERIES_UID,
        "frame_of_reference_uid": "1.2.826.0.1.3680043.2.1125.77.3",
        "instance_uids": ["1.2.826.0.1.3680043.2.1125.77.4"],
        "files": ["/srv/pacs/SMITHSON_JANE/CT/IM0001.dcm"],
        "institution_name": "St Elsewhere General",
        "study_date": "20240312",
        "series_description": "Portal venous (Jane)",
        "label": "echo 2",
        "warnings": ["Partial series: /srv/pacs/SMITHSON_JANE/CT/IM0009.dcm unreadable"],
    }
    image = Volume(np.zeros((2, 3, 4), np.int16), np.eye(4), meta)
    labels = LabelMap(
        Volume(np.ones((2, 3, 4), np.uint8), np.eye(4), {"source": "/srv/pacs/seg_jane.dcm"}),
        {1: Label(1, "tumour (Smithson)", (255, 0, 0))},
    )
    series = TimeSeries("Tumour volume", "mL", np.arange(3.0), np.array([1.0, 2.0, 3.0]))
    result = Result(
        outcomes={"volume_ml": 3.0},
        series={"volume": series},
        warnings=[f"Follow-up of Jane on 2024-03-12 (series {SERIES_UID})", "fine"],
        notes={"volume_ml": "Smithson's scan of 2024-03-12 is partial"},
    )
    run = Run(
        twin_id="liver_ablation",
        twin_version="1.0",
        scenario="Smithson resection",
        parameters={"power_w": 60.0, "plan": "/srv/pacs/plans/jane.json", "when": "12.03.2024"},
        input_hash="abc123",
        status="ok",
        error="case 'Jane Q. Smithson' at /srv/pacs/SMITHSON_JANE failed once",
        outcomes={"volume_ml": 3.0},
        seconds=1.5,
        app_version="0.1.0",
        user="dr.house",
        time="2024-03-12T10:00:00+00:00",
        result=result,
    )
    return Case(
        name="Jane Q. Smithson",
        patient_id="PID-9731-XYZ",
        id="c0ffee123456",
        image=image,
        labels=labels,
        image_reference={
            "folder": "/srv/pacs/SMITHSON_JANE/CT",
            "series_uid": SERIES_UID,
            "description": "Portal venous (Jane)",
        },
        clinical={
            "age_y": 68.0,
            "sex": "female",
            "diagnosis": "liver metastases, Mrs Smithson",
            "notes": "called Mrs Smithson on 1955-07-04",
            "mrn": "PID-9731-XYZ",
            "weight_kg": "called Mrs Smithson",  # text in a number field: not kept
            "tumour_count": 2,
        },
        scenarios={
            "liver_ablation": [
                Scenario("baseline"),
                Scenario("Smithson resection", {"plan": "/srv/pacs/plans/jane.json"}),
            ]
        },
        runs={"liver_ablation": [run]},
        created="2024-03-10T09:00:00+00:00",
        problems=["labels of Jane Q. Smithson unreadable: /srv/pacs/x/labels.npz"],
    )


def strings(value, seen=None):
    """Every string reachable from `value` (dataclasses, dicts, sequences, arrays)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            for item in value.ravel():
                yield from strings(item, seen)
    elif dataclasses.is_dataclass(value) or isinstance(value, Case):
        for item in vars(value).values():
            yield from strings(item, seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, seen)
            yield from strings(item, seen)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from strings(item, seen)


def test_no_identifying_value_survives():
    case = rich_case()
    assert any(i.lower() in s.lower() for s in strings(case) for i in IDENTIFIERS)  # sanity
    view = pseudonymize(case, PSEUDONYM)
    texts = list(strings(view))
    leaks = [(i, s) for s in texts for i in IDENTIFIERS if i.lower() in s.lower()]
    assert not leaks
    assert PSEUDONYM in texts


def test_what_stays_and_how_it_reads():
    view = pseudonymize(rich_case(), PSEUDONYM)
    assert (view.name, view.patient_id, view.id) == (PSEUDONYM, "", PSEUDONYM)
    assert view.image_reference == {"modality": "CT", "description": "CT"}
    assert view.clinical == {"age_y": 68.0, "sex": "female", "tumour_count": 2}
    assert view.image.meta["window"] == (40.0, 400.0) and view.image.meta["label"] == "echo 2"
    assert "instance_uids" not in view.image.meta and view.labels.volume.meta == {}
    assert view.labels.labels[1].name == f"tumour ({PSEUDONYM})"
    [run] = view.runs["liver_ablation"]
    assert (run.user, run.time, view.created) == (OPERATOR, "day 2", "day 0")
    assert run.scenario == view.scenarios["liver_ablation"][1].name == f"{PSEUDONYM} resection"
    assert run.error == f"case '{PSEUDONYM}' at [path] failed once"
    assert run.parameters == {"power_w": 60.0, "plan": "[path]", "when": "[date]"}
    assert run.result.warnings[0] == f"Follow-up of {PSEUDONYM} on [date] (series [uid])"
    assert run.result.notes == {"volume_ml": f"{PSEUDONYM}'s scan of [date] is partial"}
    assert view.problems == [f"labels of {PSEUDONYM} unreadable: [path]"]
    assert run.outcomes == {"volume_ml": 3.0} and run.input_hash == "abc123"


def test_original_is_untouched_and_arrays_are_shared():
    case = rich_case()
    before = {
        "meta": dict(case.image.meta),
        "labels_meta": dict(case.labels.volume.meta),
        "reference": dict(case.image_reference),
        "clinical": dict(case.clinical),
        "names": [s.name for s in case.scenarios["liver_ablation"]],
        "run": dataclasses.replace(case.runs["liver_ablation"][0], result=None),
        "warnings": list(case.runs["liver_ablation"][0].result.warnings),
    }
    view = pseudonymize(case, PSEUDONYM)
    run = case.runs["liver_ablation"][0]
    assert (case.name, case.patient_id, case.id) == (
        "Jane Q. Smithson",
        "PID-9731-XYZ",
        "c0ffee123456",
    )
    assert case.image.meta == before["meta"] and case.labels.volume.meta == before["labels_meta"]
    assert case.image_reference == before["reference"] and case.clinical == before["clinical"]
    assert [s.name for s in case.scenarios["liver_ablation"]] == before["names"]
    assert dataclasses.replace(run, result=None) == before["run"]
    assert run.result.warnings == before["warnings"]
    assert case.labels.labels[1].name == "tumour (Smithson)"
    assert view.image.array is case.image.array
    assert view.labels.volume.array is case.labels.volume.array
    copied = view.runs["liver_ablation"][0].result
    assert copied is not run.result
    assert copied.series["volume"].values is run.result.series["volume"].values


def test_times_become_whole_days_since_the_first():
    assert relative_days(
        ["2024-03-10T09:00:00+00:00", "2024-03-12T23:30:00-02:00", "2024-03-10", "never"]
    ) == ["day 0", "day 3", "day 0", ""]
    assert relative_days(["unknown"]) == [""]


@pytest.mark.parametrize(
    "text",
    ["", "  ", "../up", "a/b", "x" * 49, "-lead", "end.", "Smithson-01", "pid-9731-xyz"],
)
def test_unusable_or_identifying_pseudonyms_are_refused(text):
    with pytest.raises(InputError):
        check_pseudonym(text, rich_case())


def test_dicom_style_names_are_split_into_parts():
    case = rich_case()
    case.name, case.image.meta["patient_name"] = "Case 7 (left liver)", "SMITHSON^JANE^^^"
    assert pseudonymize(case, PSEUDONYM).scenarios["liver_ablation"][1].name == (
        f"{PSEUDONYM} resection"
    )
    assert check_pseudonym(" MDT-2024-017 ") == PSEUDONYM and check_pseudonym("x" * 48)


def test_redactor_leaves_ordinary_text_alone():
    redact = Redactor(["Jane", "Smithson", "42"], "P1")
    text = "Planned 4.2 mL in 2 h, 1/3 of mg/dL, version 0.1.0, v 1.2.3.4, 42 Janet"
    assert redact(text) == text
    assert redact("Jane's scan C:\\data\\jane.dcm") == "P1's scan [path]"


def test_measurements_events_medications_and_recordings_lose_identity_and_dates():
    from meditwin_desktop.core.case import Event, Measurement, Medication, Recording, Study

    case = Case(
        "Jane Q. Smithson", "PID-9731-XYZ",
        studies=[Study(date="2024-03-01", modality="CT", description="CT of Jane",
                       reference={"folder": "/srv/pacs/SMITHSON"})],
        measurements=[Measurement("MMSE", 24.0, "points", "2024-03-11", "", "typed by Smithson")],
        events=[Event("2024-03-12T08:00:00", "convulsive", 120.0, {"by": "Smithson"},
                      "at /home/jane/diary.csv")],
        medications=[Medication("valproate", 20.0, "mg/kg/day", "2024-01-01", "",
                                note="Smithson's pharmacy")],
        recordings=[Recording("/srv/eeg/SMITHSON_JANE.edf", description="EEG of Jane")],
        created="2024-01-01T00:00:00+00:00",
    )  # fmt: skip
    copy_ = pseudonymize(case, "MDT-9")
    text = " ".join(strings(copy_))
    for identifying in ("Smithson", "Jane", "PID-9731", "/srv", "/home", "2024-"):
        assert identifying not in text, identifying
    assert copy_.studies[0].date == "day 60" and copy_.measurements[0].date == "day 70"
    assert copy_.events[0].time == "day 71" and copy_.medications[0].start == "day 0"
    assert copy_.measurements[0].value == 24.0 and copy_.events[0].duration_s == 120.0
