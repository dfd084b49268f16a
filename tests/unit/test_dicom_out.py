"""DICOM objects sent back to the PACS (SEG, TID 1500 SR, Encapsulated PDF): each passes
dciodvfy, belongs to the source study and reads back to what the case holds; stale runs
are marked and undefined outcomes carry no number; a study without DICOM is refused."""

from __future__ import annotations

import copy
from dataclasses import replace

import highdicom as hd
import numpy as np
import pydicom
import pytest

from meditwin_desktop.core.case import Case, Run, Study, now
from meditwin_desktop.core.dicom_out import board_objects
from meditwin_desktop.core.dicom_out.codes import SCHEME, ucum
from meditwin_desktop.core.dicom_out.pdf import ENCAPSULATED_PDF, pdf_bytes
from meditwin_desktop.core.dicom_out.validate import dciodvfy, dciodvfy_path
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.runner import execute
from meditwin_desktop.core.scenarios import prepare_scenarios, record_run
from meditwin_desktop.core.segmentation.dicom_seg import read_dicom_seg
from meditwin_desktop.core.segmentation.measurements import ImageMeasurement, ruler_measurement
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.demo.case import demo_case
from tests.support.reference_twin import TWIN

KEPT = ("liver", "tumour 1", "tumour 2")


def _small_pdf() -> bytes:
    """A one-page PDF (odd length: the DICOM value is padded, the PDF must come back whole)."""
    body = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]  # fmt: skip
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, text in enumerate(body, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + text + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF" % xref
    return bytes(out if len(out) % 2 else out + b" ")


@pytest.fixture(scope="module")
def board():
    """The thorax demo case with three labels, a ruler and an ROI on its CT, and two runs of
    the reference twin (in this process), and the objects made from it."""
    case = demo_case("thorax-abdomen")
    keep = [case.labels.by_name(name).value for name in KEPT]
    array = np.where(np.isin(case.labels.volume.array, keep), case.labels.volume.array, 0)
    case.labels = LabelMap(Volume(array.astype(np.uint8), case.image.affine.copy()),
                           {v: case.labels.labels[v] for v in keep})  # fmt: skip
    study = case.study.id
    values = {"mean": 52.5, "std": 9.0, "min": 10.0, "max": 90.0, "area_mm2": 200.0,
              "pixels": 320.0}  # fmt: skip
    ends = np.array([10.0, 20.0, 30.0]), np.array([40.0, 60.0, 30.0])
    case.image_measurements += [
        ruler_measurement("Ruler 1", study, "axial", 40, *ends),
        ImageMeasurement(
            "roi", "ROI 1", study, "axial", 40, [[0, 0, 30], [20, 10, 30]], values, "HU"
        ),
    ]
    scenarios = [Scenario("Baseline"), Scenario("Fast washout", {"rate": 2.0})]
    case.scenarios[TWIN.id] = scenarios
    prepared = prepare_scenarios(TWIN, case, scenarios)
    for scenario, params in prepared.scenarios:
        result = execute(TWIN, params, prepared.inputs)
        record_run(case, Run(TWIN.id, TWIN.version, scenario.name, params, prepared.digest,
                             "ok", None, dict(result.outcomes), 0.1, "test", "tester", now(),
                             result))  # fmt: skip
    pdf = _small_pdf()
    objects = board_objects(case, twins=[TWIN], report_pdf=pdf)
    return case, {o.Modality: o for o in objects}, pdf


def _reread(ds, tmp_path, name):
    path = tmp_path / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def _valid(ds) -> None:
    if dciodvfy_path() is None:
        pytest.skip("dciodvfy (dicom3tools) is not installed")
    assert dciodvfy(ds) == []


def test_the_three_objects_are_in_the_source_study(board):
    case, objects, _ = board
    source = pydicom.dcmread(sorted(case.image.meta["files"])[0], stop_before_pixels=True)
    assert sorted(objects) == ["DOC", "SEG", "SR"]
    series = {o.SeriesInstanceUID for o in objects.values()}
    assert len(series) == 3 and source.SeriesInstanceUID not in series  # new series each
    for ds in objects.values():
        assert ds.StudyInstanceUID == source.StudyInstanceUID
        assert ds.PatientID == source.PatientID and ds.PatientName == source.PatientName


@pytest.mark.parametrize("modality", ["SEG", "SR", "DOC"])
def test_each_object_passes_dciodvfy(board, modality):
    _valid(board[1][modality])


def test_a_broken_object_fails_dciodvfy(board):  # the check can fail
    if dciodvfy_path() is None:
        pytest.skip("dciodvfy (dicom3tools) is not installed")
    broken = copy.deepcopy(board[1]["DOC"])
    del broken.MIMETypeOfEncapsulatedDocument
    assert any("MIMETypeOfEncapsulatedDocument" in line for line in dciodvfy(broken))


def test_seg_reads_back_to_the_same_labels(board, tmp_path):
    case, objects, _ = board
    seg = objects["SEG"]
    [referenced] = seg.ReferencedSeriesSequence
    assert referenced.SeriesInstanceUID == case.study.reference["series_uid"]
    back = read_dicom_seg(_reread(seg, tmp_path, "seg"), case.image)
    for name in KEPT:
        assert np.array_equal(back.mask(name), case.labels.mask(name)), name
        assert back.mask(name).any()


def _groups(sr) -> dict[str, object]:
    content = hd.sr.Comprehensive3DSR.from_dataset(sr).content
    groups = content.get_image_measurement_groups() + content.get_planar_roi_measurement_groups()
    return {str(g.tracking_identifier): g for g in groups}


def _algorithm(group) -> dict[str, list[str]]:
    """The group's algorithm identification: concept meaning -> its TEXT values."""
    found: dict[str, list[str]] = {}
    for item in group[0].ContentSequence:
        if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue in (
            "111001",
            "111002",
            "111003",
        ):
            found.setdefault(item.ConceptNameCodeSequence[0].CodeMeaning, []).append(item.TextValue)
    return found


def _evaluation(group, code_value: str):
    return next(e for e in group.get_qualitative_evaluations()
                if e.name.value == code_value)  # fmt: skip


def test_sr_holds_each_outcome_with_its_unit(board, tmp_path):
    case, objects, _ = board
    sr = pydicom.dcmread(_reread(objects["SR"], tmp_path, "sr"))
    [evidence] = sr.CurrentRequestedProcedureEvidenceSequence
    assert evidence.StudyInstanceUID == case.study.reference.get("study_uid", sr.StudyInstanceUID)
    [series] = evidence.ReferencedSeriesSequence
    assert series.SeriesInstanceUID == case.study.reference["series_uid"]
    assert any(item.CodingSchemeDesignator == SCHEME
               for item in sr.CodingSchemeIdentificationSequence)  # fmt: skip
    groups = _groups(sr)
    units = {"final": "mL", "auc": "mL.h"}
    for run in case.runs[TWIN.id]:
        group = groups[f"{TWIN.title}: {run.scenario}"]
        assert _evaluation(group, "RESULTCURRENCY").value.value == "CURRENT"
        for name, unit in units.items():
            [number] = [m for m in group.get_measurements()
                        if m.name.value == f"reference.{name}"]  # fmt: skip
            assert number.value == pytest.approx(run.outcomes[name])
            assert number.unit.value == unit
        algorithm = _algorithm(group)
        assert algorithm["Algorithm Name"] == ["MEDITWIN twin reference"]
        assert algorithm["Algorithm Version"] == ["1.0"]
        assert f"run time: {run.time}" in algorithm["Algorithm Parameters"]


def test_sr_holds_the_ruler_and_the_roi(board):
    _, objects, _ = board
    groups = _groups(objects["SR"])
    [length] = groups["Ruler 1"].get_measurements(name=hd.sr.CodedConcept(
        "410668003", "SCT", "Length"))  # fmt: skip
    assert length.value == pytest.approx(50.0) and length.unit.value == "mm"
    roi = groups["ROI 1"]
    region = roi.roi
    assert region.graphic_type.value == "POLYGON"
    assert np.allclose(region.value[:, 2], 30.0) and len(region.value) == 5
    means = [
        m for m in roi.get_measurements() if m.derivation and m.derivation.value == "373098007"
    ]
    assert means[0].value == pytest.approx(52.5) and means[0].unit.value == "[hnsf'U]"


def test_a_stale_run_is_marked_out_of_date(board):
    case, _, _ = board
    edited = Scenario("Fast washout", {"rate": 3.0})  # edited after it ran
    case.scenarios[TWIN.id] = [case.scenarios[TWIN.id][0], edited]
    try:
        [sr] = board_objects(case, twins=[TWIN], what={"sr"})
    finally:
        case.scenarios[TWIN.id] = [case.scenarios[TWIN.id][0],
                                   Scenario("Fast washout", {"rate": 2.0})]  # fmt: skip
    groups = _groups(sr)
    stale = groups[f"OUT OF DATE: {TWIN.title}: Fast washout"]
    assert _evaluation(stale, "RESULTCURRENCY").value.value == "OUTOFDATE"
    assert any(p.startswith("out of date: ") and "2 → 3" in p
               for p in _algorithm(stale)["Algorithm Parameters"])  # fmt: skip
    fresh = groups[f"{TWIN.title}: Baseline"]
    assert _evaluation(fresh, "RESULTCURRENCY").value.value == "CURRENT"


def test_an_undefined_outcome_is_not_a_number(board):
    case, _, _ = board
    runs = case.runs[TWIN.id]
    undefined = replace(runs[1], outcomes={**runs[1].outcomes, "final": None})
    case.runs[TWIN.id] = [runs[0], undefined]
    try:
        [sr] = board_objects(case, twins=[TWIN], what={"sr"}, stale={TWIN.id: {}})
    finally:
        case.runs[TWIN.id] = runs
    group = _groups(sr)[f"{TWIN.title}: Fast washout"]
    names = [m.name.value for m in group.get_measurements()]
    assert names == ["reference.auc"]  # no number for "final"
    assert _evaluation(group, "reference.final").value.value == "UNDEFINED"


def test_pdf_reads_back_byte_for_byte(board, tmp_path):
    case, objects, pdf = board
    doc = pydicom.dcmread(_reread(objects["DOC"], tmp_path, "doc"))
    assert doc.SOPClassUID == ENCAPSULATED_PDF
    assert doc.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert doc.BurnedInAnnotation == "YES" and doc.DocumentTitle
    assert pdf_bytes(doc) == pdf
    assert {s.ReferencedSOPInstanceUID for s in doc.SourceInstanceSequence} == set(
        case.image.meta["instance_uids"]
    )


def test_a_photo_case_cannot_be_sent(tmp_path):
    picture = tmp_path / "fundus.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    case = Case("photo", studies=[Study(modality="XC", description="Fundus photograph",
                                        reference={"file": str(picture)})])  # fmt: skip
    with pytest.raises(InputError, match="Fundus photograph was not imported from DICOM"):
        board_objects(case, twins=[], report_pdf=_small_pdf())
    from_case_file = Case("case file", studies=[Study(modality="CT", description="CT 2024")])
    with pytest.raises(InputError, match="CT 2024 was not imported from DICOM"):
        board_objects(from_case_file, twins=[])
    with pytest.raises(InputError, match="no imaging study"):
        board_objects(Case("diary only"), twins=[])


def test_units_map_to_ucum():
    assert ucum("mmHg").value == "mm[Hg]" and ucum("years").value == "a"
    assert ucum("°C").value == "Cel" and ucum("µL/min").value == "uL/min"
    assert ucum("tumours").value == "{tumours}"  # unknown: an annotation, read as 1
