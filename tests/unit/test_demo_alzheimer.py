"""The `alzheimer-mci` demo case: five yearly visits drawn from the demonstration Leaspy model
with a known truth, a T1 brain MRI whose hippocampus labels give the last visit's ratio, and
a resting EEG with a slowed (8 Hz) occipital alpha rhythm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from meditwin_desktop.core.eeg_markers import compute_markers
from meditwin_desktop.core.signals import read_recording, welch
from meditwin_desktop.demo import alzheimer_visits as visits
from meditwin_desktop.demo import brain_anatomy, ensure_demo
from meditwin_desktop.demo.case import DEMO_CASES, demo_case

NAME = "alzheimer-mci"


@pytest.fixture(scope="module")
def case():
    return demo_case(NAME)


def _values(case, name: str) -> list[tuple[str, float]]:
    return [(m.date, m.value) for m in case.measurements if m.name == name]


def test_case_has_five_yearly_visits_per_score_and_its_clinical_data(case):
    for score in visits.SCORES:
        assert [d for d, _ in _values(case, score)] == list(visits.VISIT_DATES), score
    assert [d for d, _ in _values(case, "FDG PET")] == list(visits.FDG_DATES)
    ratios = [m for m in case.measurements if m.name == "Hippocampus volume ratio"]
    assert [m.date for m in ratios] == list(visits.VISIT_DATES)
    assert [m.source for m in ratios] == ["radiology report"] * 4 + [
        f"labels of study {visits.MRI_DATE}"
    ]
    assert _values(case, "Amyloid PET") == [("2025-11-17", 78.0)]
    assert not [m for m in case.measurements if m.name.startswith("CSF")]
    units = {m.name: m.unit for m in case.measurements}
    assert units["MMSE"] == "points" and units["FDG PET"] == "SUVR"
    assert units["Hippocampus volume ratio"] == "fraction" and units["Amyloid PET"] == "CL"
    clinical = case.clinical
    assert clinical["birth_date"] == visits.BIRTH_DATE and clinical["sex"] == "female"
    assert clinical["age_y"] == int(visits.age_at(visits.VISIT_DATES[-1]))
    assert clinical["apoe_genotype"] == "e3/e4" and clinical["anticoagulant"] is False
    assert "amyloid PET positive" in clinical["diagnosis"]
    assert "lecanemab or donanemab" in clinical["board_question"]
    [drug] = case.medications
    assert (drug.name, drug.dose, drug.unit, drug.stop) == ("donepezil", 10.0, "mg/day", "")
    assert DEMO_CASES[NAME]["studies"] and DEMO_CASES[NAME]["image"]


def test_drawn_values_come_from_the_truth():
    """Without noise the values are the contract's Leaspy logistic equations (computed here
    from the loaded model's parameters) at the visit ages, mapped to clinical units."""
    model = visits.model()
    truth = visits.TRUTH
    ages = np.array([visits.age_at(d) for d in visits.VISIT_DATES])
    g = np.exp(model.log_g)
    metric = (g + 1.0) ** 2 / g
    w = np.asarray(truth["sources"]) @ model.mixing_matrix
    rt = np.exp(truth["xi"]) * (ages - truth["tau"])
    y = 1.0 / (1.0 + np.exp(-(metric * (np.exp(model.log_v0) * rt[:, None] + w) - model.log_g)))
    clean = visits.visit_values(noise=False, rounded=False)
    drawn = visits.visit_values()
    assert [(m.name, m.date) for m in clean] == [(m.name, m.date) for m in drawn]
    for exact, noisy in zip(clean, drawn, strict=True):
        k = model.feature_index(exact.name)
        scaling = model.scaling_for(exact.name)
        row = visits.VISIT_DATES.index(exact.date)
        assert exact.value == pytest.approx(float(scaling.to_clinical(y[row, k])), abs=1e-9)
        # the noisy draw: within 4 noise SD (model space) of the truth, plus rounding
        gap = abs(float(scaling.to_model(noisy.value)) - y[row, k])
        step = 1.0 / abs(scaling.at_1 - scaling.at_0)  # one unit of the clinical scale
        assert gap <= 4.0 * model.noise_std[k] + step, (exact.name, exact.date)
    mmse = [m.value for m in drawn if m.name == "MMSE"]
    assert 26 <= mmse[0] <= 28 and 23 <= mmse[-1] <= 25
    assert all(float(v).is_integer() for v in mmse)


def test_untreated_course_crosses_mmse_20_within_five_years_of_the_last_visit():
    model = visits.model()
    last = visits.age_at(visits.VISIT_DATES[-1])
    ages = last + np.linspace(0.0, 5.0, 501)
    y = model.values(ages, visits.TRUTH["xi"], visits.TRUTH["tau"], visits.TRUTH["sources"])
    mmse = model.scaling_for("MMSE").to_clinical(y[:, model.feature_index("MMSE")])
    assert mmse[0] > 20.0 and mmse[-1] < 20.0
    clean = [m.value for m in visits.visit_values(noise=False) if m.name == "MMSE"]
    assert 26.5 <= clean[0] <= 28.5 and 23.0 <= clean[-1] <= 26.0


def test_mri_is_a_t1_mr_study_whose_labels_give_the_last_visits_ratio(case):
    [study] = case.studies
    assert study.modality == "MR" and study.date == visits.MRI_DATE
    image, labels = study.image, study.labels
    assert image.meta["modality"] == "MR"
    assert image.shape == brain_anatomy.SHAPE
    assert np.allclose(image.spacing, 1.2)
    assert sorted(lab.name for lab in labels.labels.values()) == [
        "intracranial", "left hippocampus", "right hippocampus"
    ]  # fmt: skip
    drawn = visits.drawn_ratio_at_mri()
    assert brain_anatomy.hippocampus_ratio(labels) == pytest.approx(drawn, rel=0.02)
    [measured] = [
        m
        for m in case.measurements
        if m.name == "Hippocampus volume ratio" and m.date == visits.MRI_DATE
    ]
    assert measured.value == pytest.approx(brain_anatomy.hippocampus_ratio(labels), rel=1e-5)
    for side in ("left hippocampus", "right hippocampus"):
        assert 2.5 <= labels.volume_ml(side) <= 3.8
    icv = sum(labels.volume_ml(lab.name) for lab in labels.labels.values())
    assert 1350 <= icv <= 1550
    # T1 contrast: white matter (the commonest bright intracranial signal) > hippocampus
    # (grey matter) > ventricle CSF
    values = image.array[labels.mask("intracranial")]
    assert np.percentile(values, 75) > 560
    hippocampus = float(np.median(image.array[labels.mask("left hippocampus")]))
    assert 300 < hippocampus < 500
    i, j, k = np.round(image.lps_to_index([12.0, -6.0, 20.0])).astype(int)  # ventricle body
    assert image.array[k - 1 : k + 2, j - 1 : j + 2, i - 1 : i + 2].mean() < 250


def test_mri_dicom_files_are_mr_image_storage():
    [patient] = [p for p in ensure_demo() if p.case == NAME]
    files = sorted(patient.studies[0].dicom_dir.glob("*.dcm"))
    assert len(files) == brain_anatomy.SHAPE[0]
    assert sum(f.stat().st_size for f in files) < 30e6
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    assert ds.Modality == "MR" and ds.SOPClassUID == pydicom.uid.MRImageStorage
    assert ds.file_meta.MediaStorageSOPClassUID == pydicom.uid.MRImageStorage
    assert ds.SeriesDescription == "MR brain T1 MPRAGE (synthetic demo)"
    assert ds.StudyDescription == "MR brain T1 MPRAGE (synthetic demo)"
    assert ds.StudyDate == visits.MRI_DATE.replace("-", "")


def test_eeg_is_a_19_channel_256_hz_recording_with_an_8_hz_occipital_alpha(case):
    [recording] = case.recordings
    assert recording.kind == "EEG" and recording.start.startswith(visits.MRI_DATE)
    signal = read_recording(Path(recording.file))
    assert signal.channels == visits.EEG_CHANNELS and signal.sfreq == 256.0
    assert signal.duration_s == pytest.approx(180.0)
    assert signal.start.date().isoformat() == visits.MRI_DATE
    freqs, psd = welch(signal.pick(["O1", "O2"]).data, signal.sfreq)
    alpha = (freqs >= 7.0) & (freqs <= 13.0)
    assert freqs[alpha][np.argmax(psd.mean(axis=0)[alpha])] == pytest.approx(8.0)
    _, frontal = welch(signal.pick(["Fz"]).data, signal.sfreq)
    assert psd.mean(axis=0)[freqs == 8.0] > 4 * frontal[0][freqs == 8.0]  # occipital-dominant
    fp1 = signal.data[signal.index("Fp1")] * 1e6
    for onset in visits.BLINKS_S:  # the blinks: > 150 uV on Fp1
        start = int(onset * signal.sfreq)
        assert fp1[start : start + 80].max() > 150.0
    # the platform's markers find the slowed alpha and reject the three artefacts' epochs
    markers = compute_markers(signal)
    assert markers.peak_alpha_hz == pytest.approx(8.0)
    assert 3 <= markers.n_rejected <= 8
