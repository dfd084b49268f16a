"""The case file: export -> import is lossless; malformed files name the line or key;
`meditwin case import` makes a case of a case file, a DICOM folder or a photograph."""

from __future__ import annotations

import json

import numpy as np
import pytest

from meditwin_desktop import cli
from meditwin_desktop.core.case import Case, Event, Measurement, Medication, Recording, Study
from meditwin_desktop.core.case_file import CaseFileError, export_case, read_case_file
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.segmentation.measurements import ImageMeasurement
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.twin import Scenario


def _case(tmp_path) -> Case:
    labels = np.zeros((3, 4, 5), np.uint8)
    labels[1, 1:3, 2:4] = 2
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    affine[:3, 3] = (-10.0, 5.0, 30.0)
    case = Case(
        "Ann Example", "A-1",
        clinical={"age_y": 61.0, "sex": "female", "smoker": False, "diagnosis": "two lesions"},
        studies=[
            Study(date="2024-01-10", modality="CT", description="baseline",
                  reference={"folder": str(tmp_path / "ct1"), "series_uid": "1.2.3",
                             "study_uid": "1.2", "description": "baseline"},
                  labels=LabelMap(Volume(labels, affine), {2: Label(2, "lesion 1", (9, 8, 7))})),
            Study(date="2024-06-01", modality="OP", description="fundus",
                  reference={"file": str(tmp_path / "fundus.png")}),
        ],
        measurements=[Measurement("longest diameter", 23.5, "mm", "2024-01-10", "lesion 1",
                                  "ruler on study 1")],
        events=[Event("2024-02-03T04:05:06", "convulsive", 95.0, {"rescue": "midazolam"}, "x")],
        medications=[Medication("stiripentol", 50.0, "mg/kg/day", "2024-01-15", "", "oral")],
        recordings=[Recording(str(tmp_path / "eeg" / "night.edf"), "EEG", "2024-02-03T01:00:00",
                              "overnight")],
        scenarios={"cardiometabolic": [Scenario("statin", {"therapy": "statin_high"})]},
    )  # fmt: skip
    case.image_measurements = [
        ImageMeasurement(
            "ruler",
            "lesion 1 axis",
            case.studies[0].id,
            "axial",
            2,
            [[-9.2, 5.8, 32.5], [-7.6, 6.6, 32.5]],
            {"length_mm": 1.79},
            "",
            "2024-01-11T09:00:00",
        )
    ]
    return case


def test_export_then_import_is_lossless(tmp_path):
    case = _case(tmp_path)
    case.active = 1
    path = export_case(case, tmp_path / "case.json")
    back = read_case_file(path)
    assert (back.name, back.patient_id, back.clinical) == (case.name, case.patient_id,
                                                           case.clinical)  # fmt: skip
    assert back.active == 1 and len(back.studies) == 2
    for before, after in zip(case.studies, back.studies, strict=True):
        assert (after.date, after.modality, after.description) == (
            before.date, before.modality, before.description)  # fmt: skip
        assert {k: v for k, v in after.reference.items() if v} == {
            k: v for k, v in before.reference.items() if v}  # fmt: skip
    labels = back.studies[0].labels
    assert np.array_equal(labels.volume.array, case.studies[0].labels.volume.array)
    assert np.allclose(labels.volume.affine, case.studies[0].labels.volume.affine)
    assert labels.labels[2].name == "lesion 1" and labels.labels[2].color == (9, 8, 7)
    assert back.measurements == case.measurements and back.events == case.events
    assert back.medications == case.medications
    assert [(r.file, r.kind, r.start, r.description) for r in back.recordings] == [
        (r.file, r.kind, r.start, r.description) for r in case.recordings]  # fmt: skip
    assert back.scenarios["cardiometabolic"][0].overrides == {"therapy": "statin_high"}
    [ruler] = back.image_measurements  # on the first study, whatever its id there
    assert ruler.study == back.studies[0].id and ruler.to_dict() | {"study": ""} == (
        case.image_measurements[0].to_dict() | {"study": ""})  # fmt: skip
    document = json.loads(path.read_text())
    assert document["studies"][0]["dicom"] == "ct1"  # relative to the file's folder


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "meditwin-case",\n "version": 1,\n "clinical": {"age_y": 4,}}',
         "line 3, column"),
        ('{"format": "meditwin-case", "version": 1, "studies": [{"date": "x", "datum": 1}]}',
         "studies[0]: unknown key 'datum'"),
        ('{"format": "meditwin-case", "version": 1, "measurements": [{"name": "MMSE", '
         '"value": "24"}]}', "measurements[0].value: must be a number"),
        ('{"format": "meditwin-case", "version": 1, "events": [{"time": "t", "kind": "k", '
         '"duration_s": true}]}', "events[0].duration_s: must be a number"),
        ('{"format": "meditwin-case", "version": 2}', "version 2 is not one this release reads"),
        ('{"format": "meditwin-case", "version": 1, "image_measurements": [{"kind": "ruler", '
         '"points": [[0, 0, 0], [1, 1, 1]]}]}', "image_measurements[0]: 'study' must be"),
        ('{"format": "meditwin-case", "version": 1, "studies": [{"image": "a.png"}], '
         '"image_measurements": [{"kind": "ruler", "points": [[0, 0]]}]}',
         "image_measurements[0]: 'points' must be two"),
        ('{"format": "other"}', "'format' must be"),
        ('{"format": "meditwin-case", "version": 1, "clinical": {"age_y": NaN}}', "NaN"),
        ('{"format": "meditwin-case", "version": 1, "clinical": {"sbp_mmhg": "abc"}}',
         "clinical.sbp_mmhg: Systolic blood pressure: 'abc' is not a number"),
        ('{"format": "meditwin-case", "version": 1, "measurements": [{"name": "MMSE", '
         '"value": 24, "date": "12/03/2024"}]}', "measurements[0].date: '12/03/2024' is not"),
    ],
)  # fmt: skip
def test_a_malformed_case_file_names_the_line_or_the_key(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CaseFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_case_file(path)


def test_a_case_file_that_is_not_utf8_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "meditwin-case", "version": 1, "patient": {"name": "Zoé"}}'
                     .encode("latin-1"))  # fmt: skip
    with pytest.raises(CaseFileError, match="not UTF-8"):
        read_case_file(path)


def test_case_import_and_export_from_the_command_line(tmp_path, monkeypatch, capsys,
                                                      shared_data):  # fmt: skip
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path / "home"))
    photo = shared_data / "retina" / "CHASE_DB1" / "Image_01L.jpg"
    assert cli.main(["case", "import", str(photo), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    case = CaseLibrary().load(made["id"])
    assert case.studies[0].reference["file"] == str(photo.resolve())
    assert cli.main(["case", "import", str(shared_data / "dicom" / "mr3d_ge_mprage")]) == 0
    folder_case = capsys.readouterr().out.split()[0]
    assert CaseLibrary().load(folder_case).studies[0].modality == "MR"
    out = tmp_path / "out.json"
    assert cli.main(["case", "export", made["id"], "--out", str(out)]) == 0
    assert cli.main(["case", "import", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert again["name"] == made["name"] and again["id"] != made["id"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "meditwin-case", "version": 1, "patient": {"nom": "x"}}')
    assert cli.main(["case", "import", str(bad)]) == 2
    assert "patient: unknown key 'nom'" in capsys.readouterr().err
    assert cli.main(["case", "import", str(shared_data / "dicom")]) == 2  # many patients


def test_csv_measurements_and_diaries_are_added_from_the_command_line(tmp_path, monkeypatch,
                                                                       capsys):  # fmt: skip
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path / "home"))
    case = Case("Csv Patient", "C-1")
    CaseLibrary().save(case)
    labs = tmp_path / "labs.csv"
    labs.write_text("Date;Analyse;Valeur;Unité\n12/03/2024;LDL cholesterol;6,2;mmol/L\n",
                    encoding="utf-8")  # fmt: skip
    assert cli.main(["case", "add-csv", case.id, str(labs), "--measurements",
                     "--map", "name=Analyse"]) == 0  # fmt: skip
    diary = tmp_path / "diary.csv"
    diary.write_text("date,type,duration\n2024-03-12 14:30,convulsive,90\n", encoding="utf-8")
    assert cli.main(["case", "add-csv", case.id, str(diary), "--diary"]) == 0
    assert cli.main(["case", "add-csv", case.id, str(diary), "--diary"]) == 0  # again
    assert "1 repeated or already in the case, left out" in capsys.readouterr().out
    back = CaseLibrary().load(case.id)
    assert len(back.events) == 1  # not doubled
    assert [(m.date[:10], m.value, m.unit) for m in back.measurements] == [
        ("2024-03-12", 6.2, "mmol/L")]  # fmt: skip
    assert back.events[0].kind == "generalised tonic-clonic" and back.events[0].duration_s == 90.0
    bad = tmp_path / "bad.csv"
    bad.write_text("date,name,value,unit\n2024-01-01,MMSE,abc,points\n", encoding="utf-8")
    assert cli.main(["case", "add-csv", case.id, str(bad), "--measurements"]) == 2
    assert "line 2" in capsys.readouterr().err
