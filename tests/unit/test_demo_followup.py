"""The `crc-liver-followup` demo case: four dated DICOM studies whose liver metastases follow
known regression-growth rates, measurable from their labels, on a patient who lies
differently at each visit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from scipy.optimize import curve_fit

from meditwin_desktop.core.case_images import load_study_image
from meditwin_desktop.core.lesions import LONGEST, VOLUME, centroid_offset, measure_labels
from meditwin_desktop.demo import ensure_demo, followup_anatomy, read_demo
from meditwin_desktop.demo.case import DEMO_CASES, demo_case

NAME = "crc-liver-followup"


@pytest.fixture(scope="module")
def case():
    return demo_case(NAME)


@pytest.fixture(scope="module")
def measured(case):
    return measure_labels(case)


def _recist(sld: list[float]) -> list[str]:
    """RECIST 1.1 target-lesion response per follow-up (Eisenhauer et al., Eur J Cancer
    2009;45:228-247, section 4.3.1): PD >= 20 % over the nadir and >= 5 mm; PR >= 30 % below
    baseline; SD otherwise (no lesion disappears here, so no CR)."""
    categories, nadir = [], sld[0]
    for value in sld[1:]:
        if value >= 1.2 * nadir and value - nadir >= 5.0:
            categories.append("PD")
        elif value <= 0.7 * sld[0]:
            categories.append("PR")
        else:
            categories.append("SD")
        nadir = min(nadir, value)
    return categories


def test_the_truth_goes_partial_response_stable_then_progression():
    days = [followup_anatomy.days(d) for d in followup_anatomy.DATES]
    assert days == [0, 56, 112, 168]
    sld = [followup_anatomy.sld_mm(t) for t in days]
    assert sld[0] == pytest.approx(56.0)
    assert _recist(sld) == ["PR", "SD", "PD"]


def test_case_has_four_dated_ct_studies_baseline_loaded(case):
    assert [s.date for s in case.studies] == list(followup_anatomy.DATES)
    assert [s.description for s in case.studies] == ["Baseline", "Week 8", "Week 16", "Week 24"]
    assert {s.modality for s in case.studies} == {"CT"}
    assert case.active == 0 and case.image is not None
    assert case.image.shape == followup_anatomy.CROP_SHAPE
    assert all(s.image is None for s in case.studies[1:])  # loaded on demand
    assert len({s.reference["study_uid"] for s in case.studies}) == 4
    assert all(s.labels is not None and s.labels.mask("tumour 1").any() for s in case.studies)
    clinical = case.clinical
    assert clinical["age_y"] == 62 and clinical["board_question"].startswith("Disease regrowing")
    assert "synchronous liver metastases" in clinical["diagnosis"]
    [therapy] = case.medications
    assert (therapy.name, therapy.start, therapy.stop) == ("FOLFOX + bevacizumab", "2026-01-05", "")
    assert {m.source for m in case.measurements} == {
        f"labels of study {d}" for d in followup_anatomy.DATES
    }
    assert case.events == []  # the diameters come from the labels; no new lesion
    assert DEMO_CASES[NAME]["image"] and DEMO_CASES[NAME]["studies"]


def test_each_study_is_real_dicom_with_its_own_dates_and_uids(case):
    seen = set()
    for study in case.studies:
        files = sorted(Path(study.reference["folder"]).glob("*.dcm"))
        assert len(files) == followup_anatomy.CROP_SHAPE[0]
        ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        dicom_date = study.date.replace("-", "")
        assert ds.StudyDate == ds.SeriesDate == ds.AcquisitionDate == dicom_date
        assert ds.StudyInstanceUID == study.reference["study_uid"]
        assert ds.SeriesInstanceUID == study.reference["series_uid"]
        assert ds.PatientID == "MEDITWIN-DEMO-006"
        seen.add((ds.StudyInstanceUID, ds.FrameOfReferenceUID))
    assert len(seen) == 4


def test_a_follow_up_loads_on_demand_shifted_by_the_known_translation(case):
    study = case.studies[2]
    load_study_image(case, study)
    assert study.image.same_grid(study.labels.volume)
    moved = study.image.origin - case.studies[0].image.origin
    expected = np.subtract(followup_anatomy.SHIFTS_MM[2], followup_anatomy.SHIFTS_MM[0])
    assert np.allclose(moved, expected, atol=1e-3)


@pytest.mark.parametrize("index", [1, 2, 3])
def test_liver_centroid_alignment_recovers_the_patient_shift(case, index):
    """Within 0.5 mm: the metastases' change moves the liver label's centroid a little."""
    expected = np.subtract(followup_anatomy.SHIFTS_MM[index], followup_anatomy.SHIFTS_MM[0])
    offset = centroid_offset(case.studies[0], case.studies[index])
    assert np.allclose(offset, expected, atol=0.5)


def test_label_diameters_match_the_truth_at_every_date(measured):
    """Tolerance 1.5 mm: about one in-plane voxel (1.5625 mm) of digitisation."""
    longest = [m for m in measured if m.name == LONGEST]
    assert {m.target for m in longest} == {"liver: tumour 1", "liver: tumour 2"}
    assert len(longest) == 8
    for m in longest:
        truth = followup_anatomy.diameter_mm(m.target.split(": ")[1], followup_anatomy.days(m.date))
        assert abs(m.value - truth) <= 1.5, (m, truth)
        assert m.source == f"labels of study {m.date}"
    volumes = {(m.target, m.date): m.value for m in measured if m.name == VOLUME}
    t1 = [volumes["liver: tumour 1", d] for d in followup_anatomy.DATES]
    assert t1[1] < t1[2] < t1[0] < t1[3]  # shrinks, then regrows past baseline


def test_stein_fit_of_label_sld_recovers_the_rates(measured):
    """A least-squares fit of f(t) = exp(-d t) + exp(g t) - 1 (Stein et al., Clin Cancer Res
    2008) to the label-derived SLD normalised to baseline recovers g and d within 10 %:
    four scans, diameters within one voxel; the categories are those of the truth."""
    dates = followup_anatomy.DATES
    sld = np.array([sum(m.value for m in measured if m.name == LONGEST and m.date == d)
                    for d in dates])  # fmt: skip
    assert _recist(list(sld)) == ["PR", "SD", "PD"]
    t = np.array([followup_anatomy.days(d) for d in dates], float)
    (g, d), _ = curve_fit(
        lambda t, g, d: followup_anatomy.stein(t, g, d),
        t,
        sld / sld[0],
        p0=(0.001, 0.01),
        bounds=(0.0, 1.0),
    )
    truth = followup_anatomy.TRUTH["tumour 1"]
    assert g == pytest.approx(truth["g"], rel=0.10)
    assert d == pytest.approx(truth["d"], rel=0.10)


def test_manifest_lists_the_studies():
    patients = ensure_demo()
    [patient] = [p for p in patients if p.case == NAME]
    assert [s.date for s in patient.studies] == list(followup_anatomy.DATES)
    assert patient.dicom_dir == patient.studies[0].dicom_dir
    assert patient.series_uid == patient.studies[0].series_uid
    assert read_demo(patient.dicom_dir.parents[2]) == patients
    with_studies = (NAME, "alzheimer-mci", "retina-hypertension")
    assert all(p.studies == () for p in patients if p.case not in with_studies)
