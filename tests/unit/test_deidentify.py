"""De-identified export (PS3.15 Basic Profile): the demo CT, richly identified on purpose,
leaves no identifying value in any written file; UIDs stay consistent; pixels and labels
come back unchanged; the manifest and every object record the profile."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage

from meditwin_desktop.cli_export import add_parser, export_command
from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.deidentify import BasicProfile, export_deidentified
from meditwin_desktop.core.deidentify.profile import patient_age
from meditwin_desktop.core.deidentify.table import action_for
from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.imaging.dicom import load_series
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.segmentation.dicom_seg import read_dicom_seg
from meditwin_desktop.core.twin import Result, Scenario

PSEUDONYM = "MDT-2026-001"
ORIGINAL_DATES = ("20260101", "20260102", "19610315")
TEXT_IDENTIFIERS = [  # searched in every written byte, case-insensitively
    "DEMO^Thorax-Abdomen", "Thorax-Abdomen", "MEDITWIN-DEMO-001", "St Elsewhere",
    "Evergreen Terrace", "HOUSE^GREGORY", "CHASE^ROBERT", "ACC7781234", "ALT-55512",
    "CTROOM7", "SN4499821", "HOSP_PACS_AE", "ACME 1.0", "RP-99821", "dr.wilson",
    "Demo thorax-abdomen (synthetic)", "demo-thorax-abdomen", "two liver metastases",
    "2026-01-01", "2026-01-02", "1961-03-15",
]  # fmt: skip


def _enrich(ds: Dataset, next_uid: str) -> None:
    """Identity in the places real scanners and PACS put it."""
    ds.file_meta.SourceApplicationEntityTitle = "HOSP_PACS_AE"
    ds.InstitutionName = "St Elsewhere General Hospital"
    ds.InstitutionAddress = "742 Evergreen Terrace, Springfield"
    ds.ReferringPhysicianName = "HOUSE^GREGORY"
    ds.OperatorsName = "CHASE^ROBERT"
    ds.AccessionNumber = "ACC7781234"
    ds.OtherPatientIDs = "ALT-55512"
    ds.StudyDescription = "CT of DEMO^Thorax-Abdomen"
    ds.ImageComments = "MEDITWIN-DEMO-001 born 19610315"
    ds.StationName = "CTROOM7"
    ds.ManufacturerModelName = "Scanner of DEMO Thorax-Abdomen"  # not in the profile's table
    ds.DeviceSerialNumber = "SN4499821"
    ds.AcquisitionDate, ds.AcquisitionTime = "20260101", "120301"
    ds.AcquisitionDateTime = "20260101120301.5+0100"
    ds.InstanceCreationDate = "20260102"
    ds.PatientWeight = "82"
    ds.BurnedInAnnotation = "NO"
    ds.private_block(0x0029, "ACME 1.0", create=True).add_new(0x10, "LO", "DEMO^Thorax-Abdomen")
    ds.add(DataElement(0x60004000, "LT", "marked by CHASE^ROBERT"))  # overlay comments
    ds.add(DataElement(0x00189999, "UN", b"SN4499821 "))  # an attribute nobody knows
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = CTImageStorage, next_uid
    ds.ReferencedImageSequence = Sequence([ref])
    request = Dataset()
    request.RequestedProcedureID = "RP-99821"
    request.ScheduledPerformingPhysicianName = "HOUSE^GREGORY"
    ds.RequestAttributesSequence = Sequence([request])


@pytest.fixture(scope="module")
def identified(tmp_path_factory):
    """The demo thorax-abdomen case on a richly identified copy of its DICOM, with runs."""
    from meditwin_desktop.demo.case import demo_case

    case = demo_case("thorax-abdomen")
    folder = tmp_path_factory.mktemp("identified") / "CT"
    folder.mkdir()
    sources = [Path(f) for f in case.image.meta["files"]]
    uids = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in sources]
    copies = []
    for n, source in enumerate(sources):
        ds = pydicom.dcmread(source)
        _enrich(ds, uids[(n + 1) % len(uids)])
        copies.append(folder / source.name)
        ds.save_as(copies[-1], enforce_file_format=True)
    case.image.meta["files"] = [str(p) for p in copies]
    case.image_reference["folder"] = str(folder)
    case.scenarios["liver_ablation"] = [Scenario("baseline"), Scenario("Thorax-Abdomen plan")]
    result = Result({"ablation_ml": 12.5}, warnings=["seen on 2026-01-01 by dr.wilson"])
    run = Run("liver_ablation", "1.0", "Thorax-Abdomen plan", {"power_w": 60.0}, "abc", "ok",
              None, {"ablation_ml": 12.5}, 2.0, "0.1.0", "dr.wilson",
              "2026-01-02T08:00:00+00:00", result)  # fmt: skip
    case.runs["liver_ablation"] = [run]
    case.created = "2026-01-01T07:00:00+00:00"
    return case


@pytest.fixture(scope="module")
def originals(identified):
    """The headers of the identified files, by InstanceNumber."""
    files = identified.image.meta["files"]
    return {int(ds.InstanceNumber): ds for ds in (pydicom.dcmread(f) for f in files)}


@pytest.fixture(scope="module")
def exported(identified, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / PSEUDONYM
    assert export_deidentified(identified, out, pseudonym=PSEUDONYM) == out
    return out


def _dicoms(folder: Path) -> list[Dataset]:
    return [pydicom.dcmread(p) for p in sorted((folder / "images").glob("*.dcm"))]


def _elements(ds: Dataset):
    yield from ds.iterall()
    yield from getattr(ds, "file_meta", Dataset())


def test_no_identifying_value_is_left_in_any_file(identified, originals, exported):
    uids = set()
    for ds in originals.values():
        uids |= {str(ds.SOPInstanceUID), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)}
        uids.add(str(ds.FrameOfReferenceUID))
    identifiers = [i.lower().encode() for i in TEXT_IDENTIFIERS]
    identifiers.append(identified.image_reference["folder"].lower().encode())
    files = [p for p in exported.rglob("*") if p.is_file()]
    assert len(files) == 240 + 3
    for path in files:
        data = path.read_bytes().lower()
        assert not [i for i in identifiers if i in data], path.name
        dotted = {m.decode() for m in re.findall(rb"[0-9]+(?:\.[0-9]+)+", data)}
        assert not dotted & uids, path.name  # every UID-like run of digits and dots
    for ds in [*_dicoms(exported), pydicom.dcmread(exported / "segmentation/SEG00001.dcm")]:
        for elem in _elements(ds):
            assert not elem.tag.is_private and elem.VR != "UN"
            if elem.VR not in ("SQ", "UI", "OB", "OW") and elem.value is not None:
                text = str(elem.value)
                assert not [d for d in ORIGINAL_DATES if d in text], elem


def test_uids_are_replaced_consistently(originals, exported):
    images = _dicoms(exported)
    seg = pydicom.dcmread(exported / "segmentation/SEG00001.dcm")
    [study] = {str(ds.StudyInstanceUID) for ds in images}
    [series] = {str(ds.SeriesInstanceUID) for ds in images}
    [frame] = {str(ds.FrameOfReferenceUID) for ds in [*images, seg]}
    first = originals[1]
    assert study != first.StudyInstanceUID and series != first.SeriesInstanceUID
    assert frame != first.FrameOfReferenceUID
    assert (seg.StudyInstanceUID, seg.SeriesInstanceUID != series) == (study, True)
    new_uid = {int(ds.InstanceNumber): str(ds.SOPInstanceUID) for ds in images}
    assert len(set(new_uid.values())) == 240
    [referenced] = seg.ReferencedSeriesSequence
    assert referenced.SeriesInstanceUID == series
    assert {str(r.ReferencedSOPInstanceUID) for r in referenced.ReferencedInstanceSequence} == set(
        new_uid.values()
    )
    per_frame = {
        str(frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID)
        for frame in seg.PerFrameFunctionalGroupsSequence
    }
    assert per_frame <= set(new_uid.values())
    number_of = {str(ds.SOPInstanceUID): n for n, ds in originals.items()}
    for ds in images:  # a reference inside a sequence follows its image
        source = originals[int(ds.InstanceNumber)]
        old_ref = str(source.ReferencedImageSequence[0].ReferencedSOPInstanceUID)
        assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == new_uid[number_of[old_ref]]
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


def test_pixels_and_geometry_are_unchanged(identified, originals, exported):
    for ds in _dicoms(exported):
        assert ds.PixelData == originals[int(ds.InstanceNumber)].PixelData
    [volume] = load_series(sorted((exported / "images").glob("*.dcm")))
    assert np.array_equal(volume.array, identified.image.array)
    assert np.allclose(volume.affine, identified.image.affine)


def test_segmentation_decodes_to_the_same_label_voxels(identified, exported):
    [volume] = load_series(sorted((exported / "images").glob("*.dcm")))
    back = read_dicom_seg(exported / "segmentation/SEG00001.dcm", volume)
    document = json.loads((exported / "case.json").read_text())
    to_value = {e["segment_number"]: e["value"] for e in document["labels"]}
    lookup = np.zeros(max(to_value) + 1, np.int64)
    for number, value in to_value.items():
        lookup[number] = value
    assert np.array_equal(lookup[back.volume.array], identified.labels.volume.array)
    assert {lab.name for lab in back.labels.values()} == {
        lab.name for lab in identified.labels.labels.values()
    }


def test_profile_is_recorded_in_the_manifest_and_every_object(originals, exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["profile"]["code"]["value"] == "113100"
    assert [o["value"] for o in manifest["options"]] == ["113107", "113108"]
    assert (manifest["dates"], manifest["private_attributes"]) == ("shifted", "removed")
    assert manifest["contents"] == {
        "images": 240,
        "segmentation": "segmentation/SEG00001.dcm",
        "case": "case.json",
    }
    assert len(manifest["files"]) == 242 and "offset" not in json.dumps(manifest).lower()
    assert any("blanked" in warning for warning in manifest["warnings"])
    shifts = set()
    for ds in [*_dicoms(exported), pydicom.dcmread(exported / "segmentation/SEG00001.dcm")]:
        assert ds.PatientIdentityRemoved == "YES" and ds.PatientID == PSEUDONYM
        assert str(ds.PatientName) == f"{PSEUDONYM}^" and ds.PatientBirthDate == ""
        codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
        assert codes == ["113100", "113107", "113108"]
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert (ds.PatientAge, ds.PatientSex) == ("064Y", "M")  # age derived, then kept
        shifts.add(
            datetime.strptime("20260101", "%Y%m%d") - datetime.strptime(ds.StudyDate, "%Y%m%d")
        )
        if ds.Modality == "CT":
            assert ds.PatientWeight == 82 and ds.AcquisitionTime == "120301"
            assert ds.AcquisitionDateTime == ds.AcquisitionDate + "120301.5"
            assert "InstitutionName" not in ds and "StudyDescription" not in ds
            assert "RequestAttributesSequence" not in ds and "OtherPatientIDs" not in ds
            assert "SourceApplicationEntityTitle" not in ds.file_meta
            assert ds.ManufacturerModelName == "Scanner of"  # the name blanked out
    [shift] = shifts  # one offset for the whole export
    assert 366 <= shift.days <= 3652


def test_case_json_has_results_and_no_free_text(exported):
    document = json.loads((exported / "case.json").read_text())
    assert document["pseudonym"] == PSEUDONYM and document["created"] == "day 0"
    assert "diagnosis" not in document["clinical"] and document["clinical"]["age_y"] == 65
    twin = document["twins"]["liver_ablation"]
    assert [s["name"] for s in twin["scenarios"]] == ["baseline", f"{PSEUDONYM} plan"]
    [run] = twin["runs"]
    assert run["scenario"] == f"{PSEUDONYM} plan" and run["time"] == "day 1"
    assert run["outcomes"] == {"ablation_ml": 12.5} and "user" not in run
    assert run["warnings"] == ["seen on [date] by operator"]


@pytest.fixture
def small(identified):
    """The first 4 slices of the identified case, with their labels."""
    headers = {
        str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID): f
        for f in identified.image.meta["files"]
    }
    uids = identified.image.meta["instance_uids"][:4]
    image = Volume(
        identified.image.array[:4],
        identified.image.affine,
        {"files": [headers[u] for u in uids], "instance_uids": uids, "modality": "CT"},
    )
    labels = LabelMap(
        Volume(identified.labels.volume.array[:4], identified.image.affine),
        identified.labels.labels,
    )
    return Case(identified.name, identified.patient_id, image=image, labels=labels,
                clinical=dict(identified.clinical))  # fmt: skip


def test_dates_removed_and_characteristics_left_out(small, tmp_path):
    out = export_deidentified(
        small, tmp_path / "P2", pseudonym="P2", dates="remove", retain_patient_characteristics=False
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["dates"], manifest["options"]) == ("removed", [])
    for ds in [*_dicoms(out), pydicom.dcmread(out / "segmentation/SEG00001.dcm")]:
        assert [item.CodeValue for item in ds.DeidentificationMethodCodeSequence] == ["113100"]
        assert ds.LongitudinalTemporalInformationModified == "REMOVED"
        assert ds.StudyDate == "" and ds.PatientSex == "" and "PatientAge" not in ds
        assert "AcquisitionDate" not in ds and "AcquisitionDateTime" not in ds
        assert "PatientWeight" not in ds
        if ds.Modality == "SEG":
            assert ds.ContentDate == "19000101"
    clinical = json.loads((out / "case.json").read_text())["clinical"]
    assert not {"age_y", "sex", "weight_kg", "height_cm"} & set(clinical)


def test_burned_in_annotations_are_refused_and_nothing_is_left(small, tmp_path):
    folder = tmp_path / "dicom"
    folder.mkdir()
    files = []
    for path in small.image.meta["files"]:
        ds = pydicom.dcmread(path)
        ds.BurnedInAnnotation = "YES"
        files.append(folder / Path(path).name)
        ds.save_as(files[-1])
    small.image.meta["files"] = [str(f) for f in files]
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match="burned-in"):
        export_deidentified(small, tmp_path / "out" / "P3", pseudonym="P3")
    assert list((tmp_path / "out").iterdir()) == []


def test_cancel_leaves_nothing(small, tmp_path):
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        export_deidentified(
            small, tmp_path / "P4", pseudonym="P4", cancelled=lambda: next(calls) > 0
        )
    assert list(tmp_path.iterdir()) == []


def test_clinical_only_case_exports_the_json_parts(tmp_path):
    from meditwin_desktop.demo.case import demo_case

    out = export_deidentified(demo_case("fh-patient"), tmp_path / "FH-1", pseudonym="FH-1")
    assert sorted(p.name for p in out.iterdir()) == ["case.json", "manifest.json"]
    document = json.loads((out / "case.json").read_text())
    assert "diagnosis" not in document["clinical"] and document["clinical"]["ldl_mg_dl"] == 240.0
    assert document["image"] is None and document["labels"] == []
    text = (out / "case.json").read_text() + (out / "manifest.json").read_text()
    assert "MEDITWIN-DEMO-003" not in text and "father" not in text


def test_existing_folder_and_bad_pseudonyms_are_refused(tmp_path):
    from meditwin_desktop.demo.case import demo_case

    case = demo_case("fh-patient")
    (tmp_path / "TAKEN").mkdir()
    with pytest.raises(InputError, match="already exists"):
        export_deidentified(case, tmp_path / "TAKEN", pseudonym="TAKEN")
    for bad in ("../escape", "MEDITWIN-DEMO-003"):
        with pytest.raises(InputError, match="pseudonym"):
            export_deidentified(case, tmp_path / "x", pseudonym=bad)
    with pytest.raises(InputError, match="does not exist"):
        export_deidentified(case, tmp_path / "missing" / "P", pseudonym="P")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TAKEN"]


def test_basic_profile_rules_on_a_hand_made_dataset():
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, "1.2.3.4.5.6"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "DOE^JOHN", "ID123", "19500101"
    ds.StudyDate, ds.StudyTime, ds.SeriesDate = "20200315", "101500", "20200315"
    ds.ContentDate = "20200316"
    ds.AcquisitionDateTime = "20200315101501.25-0500"
    ds.PerformingPhysicianName = "SMITH^A"  # X
    ds.ContentCreatorName = "JONES"  # Z/D
    ds.ProtocolName = "DOE research protocol"  # X/D
    ds.VerifyingObserverSequence = Sequence([Dataset()])  # D sequence -> emptied
    ds.ReferencedStudySequence = Sequence([Dataset()])  # X/Z -> emptied
    ds.InstitutionCodeSequence = Sequence([Dataset()])  # X/Z/D -> removed
    item = Dataset()
    item.CodingSchemeUID = "2.16.840.1.113883.6.96"  # SNOMED's OID: kept
    item.CodeValue, item.CodeMeaning = "T-1", "Head"
    item.EvaluatorName = "DOE^J"  # a person name the table does not list
    ds.AnatomicRegionSequence = Sequence([item])
    ds.FrameOfReferenceUID = "1.2.3.4.5.7"
    ds.add(DataElement(0x00204000, "LT", "John Doe's scan"))  # ImageComments, X
    ds.add(DataElement(0x50000022, "LO", "curve"))  # repeating group 50xx: X
    ds.BodyPartExamined = "HEAD"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "DOE"]  # coded: never blanked
    profile = BasicProfile("P9", dates="shift")
    profile.apply(ds)
    assert (ds.PatientName, ds.PatientID, ds.PatientBirthDate) == ("P9^", "P9", "")
    shifted = datetime.strptime(ds.StudyDate, "%Y%m%d")
    days = (datetime(2020, 3, 15) - shifted).days
    assert 366 <= days <= 3652 and ds.SeriesDate == ds.StudyDate and ds.StudyTime == "101500"
    assert (datetime.strptime(ds.ContentDate, "%Y%m%d") - shifted).days == 1
    assert ds.AcquisitionDateTime == ds.StudyDate + "101501.25"
    for keyword in ("PerformingPhysicianName", "ProtocolName", "InstitutionCodeSequence",
                    "ImageComments"):  # fmt: skip
        assert keyword not in ds
    assert 0x50000022 not in ds and ds.ContentCreatorName == ""
    assert len(ds.VerifyingObserverSequence) == 0 and len(ds.ReferencedStudySequence) == 0
    region = ds.AnatomicRegionSequence[0]
    assert region.CodingSchemeUID == "2.16.840.1.113883.6.96" and region.EvaluatorName == ""
    assert ds.SOPClassUID == CTImageStorage and ds.SOPInstanceUID == profile.uid("1.2.3.4.5.6")
    assert ds.SOPInstanceUID.startswith("2.25.") and ds.BodyPartExamined == "HEAD"
    assert ds.PatientAge == "070Y" and ds.ImageType == ["ORIGINAL", "PRIMARY", "DOE"]
    other = BasicProfile("P9")
    assert other.uid("1.2.3.4.5.6") != profile.uid("1.2.3.4.5.6")  # a fresh key per export


def test_table_and_age():
    assert (action_for(0x00100010), action_for(0x0020000D)) == ("Z", "U")
    assert action_for(0x60023000) == "X" and action_for(0x00280010) is None
    assert [patient_age("20200101", d) for d in ("20200110", "20210615", "20260101")] == [
        "009D",
        "017M",
        "006Y",
    ]
    assert patient_age("", "20200101") is None and patient_age("20200102", "20200101") is None


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) absent")
def test_dciodvfy_finds_no_new_error(identified, exported, small, tmp_path):
    def errors(path) -> set[str]:
        result = subprocess.run(["dciodvfy", "-new", str(path)], capture_output=True, text=True)
        lines = (result.stdout + result.stderr).splitlines()
        return {
            line for line in lines if line.startswith("Error") and "Deidentification" not in line
        }

    source = min(identified.image.meta["files"])
    assert errors(exported / "images/IM00001.dcm") <= errors(source)
    small_export = export_deidentified(small, tmp_path / "P5", pseudonym="P5")  # a quick SEG
    assert errors(small_export / "segmentation/SEG00001.dcm") == set()


# -- the command line -----------------------------------------------------------------
def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="meditwin")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["export", *argv])


@pytest.fixture
def library(monkeypatch):
    """A fake local library holding the demo FH patient as 'fh'."""
    from meditwin_desktop.core import store
    from meditwin_desktop.demo.case import demo_case

    class FakeLibrary:
        def find(self, text):
            if text != "fh":
                raise InputError(f"No case '{text}' in the library.")
            return "id-fh"

        def load(self, case_id):
            assert case_id == "id-fh"
            return demo_case("fh-patient")

    monkeypatch.setattr(store, "CaseLibrary", FakeLibrary)


def test_cli_exports_into_a_folder_named_after_the_pseudonym(library, tmp_path, capsys):
    args = _args("fh", "--out", str(tmp_path), "--deidentify", "--pseudonym", "FH-7", "--json")
    assert (args.dates, args.no_images, args.no_patient_characteristics) == ("shift", False, False)
    assert export_command(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["folder"] == str(tmp_path / "FH-7") and summary["images"] == 0
    assert summary["options"] == ["113107", "113108"] and summary["files"] == 2
    with pytest.raises(InputError, match="already exists"):
        export_command(args)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fh", "--pseudonym", "P"], "--deidentify"),
        (["fh", "--deidentify", "--pseudonym", "a/b"], "pseudonym"),
        (["nobody", "--deidentify", "--pseudonym", "P"], "No case"),
    ],
)
def test_cli_refuses_what_the_user_can_fix(library, tmp_path, argv, message):
    with pytest.raises(InputError, match=message):
        export_command(_args(*argv, "--out", str(tmp_path)))
    with pytest.raises(InputError, match="does not exist"):
        export_command(
            _args("fh", "--deidentify", "--pseudonym", "P", "--out", str(tmp_path / "no"))
        )


def test_a_case_shown_on_a_photograph_exports_without_crashing(tmp_path):
    """The active study is a photograph: its clinical data and results are exported, the
    photograph is not (yet), said in the manifest; no identity in the photo's meta."""
    from meditwin_desktop.core.case import Study
    from meditwin_desktop.core.imaging.photo import Photo
    from meditwin_desktop.core.pseudonym import pseudonymize

    meta = {"patient_name": "DOE^JANE", "patient_id": "PID-1", "modality": "OP"}
    photo = Photo(np.zeros((8, 8, 3), np.uint8), 0.01, meta)
    case = Case("Jane Doe", "PID-1", clinical={"age_y": 60.0},
                studies=[Study(modality="OP", reference={"file": "/x/fundus.png"},
                               image=photo)])  # fmt: skip
    assert pseudonymize(case, "P-1").studies[0].image.meta == {"modality": "OP"}
    folder = export_deidentified(case, tmp_path / "out", pseudonym="P-1")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "photograph" in json.dumps(manifest)
    assert "DOE" not in (folder / "case.json").read_text()
