"""The demo library: demo patients as cases (imaging where there is some, clinical data).

- `thorax-abdomen`: the synthetic CT with ground-truth labels (liver metastases).
- `post-mi-vt`: a cardiac CT after an anterior myocardial infarction, scar with a conducting
  border-zone channel (the substrate of re-entrant VT), with ground-truth labels.
- `post-mi-no-channel`: the same heart and scar without the channel (negative control).
- `crc-liver-followup`: colorectal liver metastases on FOLFOX + bevacizumab, four dated
  abdominal CT studies (baseline, weeks 8, 16, 24) with ground-truth labels; the metastases
  shrink then regrow from known rates (`demo.followup_anatomy.TRUTH`). The lesion diameters
  come measured on the labels (as a radiologist's report would); a ruler in the Follow-up
  workspace replaces one.
- `alzheimer-mci`: a woman with amnestic mild cognitive impairment, amyloid PET positive:
  five yearly visits (scores, FDG PET, hippocampus ratio) drawn from the demonstration Leaspy
  model with a known truth (`demo.alzheimer_visits.TRUTH`), a T1 brain MRI at the last
  visit with hippocampus and intracranial labels (the last visit's hippocampal volumes and
  ratio are measured on them), a resting EEG of that visit, donepezil.
- `dravet-child`: a 6-year-old girl with Dravet syndrome (SCN1A) on valproate and
  clobazam: six months of a seizure diary drawn from a known count model
  (`demo.dravet_diary.TRUTH`: clusters, prolonged seizures with rescue midazolam, a status
  epilepticus, a 5-day gap) and a synthetic awake EEG with polyspike-wave discharges and
  the diary's myoclonic seizure on its trace (no imaging).
- `retina-hypertension`: a 58-year-old man with essential hypertension on amlodipine: colour
  fundus photographs of his right eye at two visits (DICOM Ophthalmic Photography), drawn
  from a known vessel tree (`twins/retina_microcirculation/phantom.py`); at the second visit
  every arteriole is 15 % narrower, the veins unchanged (truth beside each photograph,
  `demo.retina_fundus.read_truth`).
- `neonate-hlhs`: a newborn with hypoplastic left heart syndrome before the Norwood
  operation (clinical data only).
- `fh-patient`: a man with heterozygous familial hypercholesterolaemia (clinical data only).

All are invented; none is a real patient.
"""

from __future__ import annotations

from pathlib import Path

from meditwin_desktop.core.case import Case, Medication, Recording, Study
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

_POST_MI = {
    "age_y": 64, "sex": "male", "weight_kg": 86.0, "height_cm": 176.0,
    "heart_rate_bpm": 72.0, "sbp_mmhg": 112.0, "dbp_mmhg": 70.0,
    "diagnosis": "anterior myocardial infarction (proximal LAD occlusion) 5 years ago; "
    "ischaemic cardiomyopathy, LVEF 30 %; ICD with three appropriate shocks for sustained "
    "monomorphic VT in the last 2 months despite amiodarone",
    "board_question": "Is VT inducible by programmed stimulation, and which ablation target "
    "stops it?",
}  # fmt: skip

DEMO_CASES = {
    "thorax-abdomen": {
        "name": "Demo thorax-abdomen (synthetic)",
        "title": "Thorax-abdomen CT: colorectal liver metastases",
        "patient_id": "MEDITWIN-DEMO-001",
        "image": True,
        "clinical": {
            "age_y": 65, "sex": "male", "weight_kg": 82.0, "height_cm": 178.0,
            "diagnosis": "colorectal cancer, two liver metastases",
            "board_question": "Tumour 1 (right liver, beside the right hepatic vein): "
            "percutaneous microwave ablation with a 5 mm margin, or right hepatectomy?",
        },
    },
    "post-mi-vt": {
        "name": "Demo post-infarction VT (synthetic)",
        "title": "Cardiac CT after myocardial infarction: ventricular tachycardia",
        "patient_id": "MEDITWIN-DEMO-004",
        "image": True,
        "clinical": _POST_MI,
    },
    "post-mi-no-channel": {
        "name": "Demo post-infarction scar without channel (synthetic)",
        "title": "Cardiac CT after myocardial infarction: scar without channel (control)",
        "patient_id": "MEDITWIN-DEMO-005",
        "image": True,
        "clinical": _POST_MI,
    },
    "crc-liver-followup": {
        "name": "Demo colorectal liver metastases follow-up (synthetic)",
        "title": "Abdominal CT follow-up: liver metastases on chemotherapy",
        "patient_id": "MEDITWIN-DEMO-006",
        "image": True,
        "studies": True,  # several dated studies: open with demo_case(), not one series
        "clinical": {
            "age_y": 62, "sex": "female", "weight_kg": 68.0, "height_cm": 165.0,
            "diagnosis": "sigmoid adenocarcinoma, synchronous liver metastases (segments VII "
            "and V)",
            "board_question": "Disease regrowing at week 24 on FOLFOX + bevacizumab: "
            "continue, treatment holiday, switch to FOLFIRI, or ablate the largest "
            "metastasis?",
        },
        # treatment periods; the regimen as twins/tumor_response names it
        "medications": [
            {"name": "FOLFOX + bevacizumab", "dose": 1.0, "unit": "full dose",
             "start": "2026-01-05", "stop": "", "route": "intravenous",
             "note": "mFOLFOX6 (oxaliplatin 85 mg/m2, leucovorin, 5-FU) + bevacizumab "
             "5 mg/kg every 2 weeks, from the baseline scan"},
        ],
    },
    "alzheimer-mci": {
        "name": "Demo amnestic MCI, Alzheimer's disease course (synthetic)",
        "title": "Memory clinic: mild cognitive impairment, amyloid positive (MRI, EEG)",
        "patient_id": "MEDITWIN-DEMO-007",
        "image": True,
        "studies": True,  # a dated MRI, visits and an EEG: open with demo_case()
        "clinical": {
            "age_y": 76, "sex": "female", "weight_kg": 63.0, "height_cm": 161.0,
            "birth_date": "1950-05-21", "apoe_genotype": "e3/e4",
            "amyloid_status": "confirmed (PET)", "anticoagulant": False,
            "diagnosis": "amnestic mild cognitive impairment, amyloid PET positive; memory "
            "complaints for 5 years, followed yearly at the memory clinic",
            "board_question": "Where is her memory decline heading, and what would "
            "lecanemab or donanemab change?",
        },
        "medications": [
            {"name": "donepezil", "dose": 10.0, "unit": "mg/day", "start": "2024-12-02",
             "stop": "", "route": "oral", "note": "cholinesterase inhibitor, at night"},
        ],
    },
    "dravet-child": {
        "name": "Demo Dravet syndrome child (synthetic)",
        "title": "Dravet syndrome: seizure diary and EEG (which add-on therapy?)",
        "patient_id": "MEDITWIN-DEMO-008",
        "image": False,
        "recordings": True,  # an EEG written in the demo library: open with demo_case()
        "clinical": {
            "age_y": 6, "sex": "female", "weight_kg": 20.0, "height_cm": 115.0,
            "birth_date": "2020-06-14",
            "diagnosis": "Dravet syndrome, SCN1A pathogenic variant (de novo, truncating); "
            "first seizure at 5 months (febrile hemiclonic status), developmental delay",
            "scn1a_variant": "c.2134C>T p.(Arg712*), de novo, pathogenic",
            "board_question": "Which add-on therapy for her convulsive seizures: "
            "fenfluramine, cannabidiol or stiripentol?",
        },
        # as the family gives them (mg/day); 30 and 0.5 mg/kg/day at 20 kg
        "medications": [
            {"name": "valproate", "dose": 600.0, "unit": "mg/day", "start": "2021-02-15",
             "stop": "", "route": "oral", "note": "oral solution, 300 mg twice a day"},
            {"name": "clobazam", "dose": 10.0, "unit": "mg/day", "start": "2022-09-05",
             "stop": "", "route": "oral", "note": "5 mg twice a day"},
        ],
    },
    "retina-hypertension": {
        "name": "Demo hypertensive retinopathy follow-up (synthetic)",
        "title": "Fundus photographs: retinal arterioles in treated hypertension",
        "patient_id": "MEDITWIN-DEMO-009",
        "image": True,
        "studies": True,  # two dated photographs: open with demo_case()
        "clinical": {
            "age_y": 58, "sex": "male", "weight_kg": 88.0, "height_cm": 175.0,
            "birth_date": "1967-09-14", "sbp_mmhg": 158.0, "dbp_mmhg": 96.0,
            "iop_mmhg": 16.0,
            "diagnosis": "essential hypertension for 8 years on amlodipine; blood pressure "
            "above target at the last two visits; no diabetes, no visual symptoms",
            "board_question": "How much have his retinal arterioles narrowed, and what would "
            "better blood-pressure control or a branch vein occlusion do to retinal "
            "perfusion?",
        },
        "medications": [
            {"name": "amlodipine", "dose": 5.0, "unit": "mg/day", "start": "2018-04-16",
             "stop": "", "route": "oral", "note": "calcium-channel blocker, in the morning"},
        ],
    },
    "neonate-hlhs": {
        "name": "Demo newborn with HLHS (synthetic)",
        "title": "Newborn with hypoplastic left heart (clinical data)",
        "patient_id": "MEDITWIN-DEMO-002",
        "image": False,
        "clinical": {
            "age_y": 4 / 365.25, "sex": "female", "weight_kg": 3.2, "height_cm": 49.0,
            "heart_rate_bpm": 145.0, "sbp_mmhg": 68.0, "dbp_mmhg": 38.0, "sao2_pct": 84.0,
            "hemoglobin_g_dl": 15.5,
            "diagnosis": "hypoplastic left heart syndrome (mitral and aortic atresia), day 4, "
            "on prostaglandin; Norwood operation planned",
        },
    },
    "fh-patient": {
        "name": "Demo familial hypercholesterolaemia (synthetic)",
        "title": "Familial hypercholesterolaemia (clinical data)",
        "patient_id": "MEDITWIN-DEMO-003",
        "image": False,
        "clinical": {
            "age_y": 45, "sex": "male", "race": "white", "region": "moderate",
            "weight_kg": 84.0, "height_cm": 180.0, "smoker": True, "diabetes": False,
            "total_chol_mg_dl": 310.0, "hdl_mg_dl": 45.0, "ldl_mg_dl": 240.0,
            "sbp_mmhg": 134.0, "bp_treated": False,
            "family_history_premature_chd": True, "tendon_xanthomas": True,
            "fh_genotype": "LDLR",
            "diagnosis": "heterozygous familial hypercholesterolaemia (LDLR variant), "
            "untreated; father had a myocardial infarction at 48",
        },
    },
}  # fmt: skip


def demo_case(
    name: str = "thorax-abdomen",
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Case:
    """A demo case, with its image loaded when it has one (generated on first use)."""
    if name not in DEMO_CASES:
        raise InputError(
            tr("No demo case '{name}' (there is: {cases}).").format(
                name=name, cases=", ".join(DEMO_CASES)
            )
        )
    spec = DEMO_CASES[name]
    if not spec["image"] and not spec.get("recordings"):
        return Case(name=spec["name"], patient_id=spec["patient_id"], id=f"demo-{name}",
                    clinical=dict(spec["clinical"]))  # fmt: skip
    from meditwin_desktop.core.imaging.dicom import load_series
    from meditwin_desktop.core.imaging.nifti import read_label_map
    from meditwin_desktop.demo import ensure_demo

    patients = ensure_demo(progress=progress, cancelled=cancelled)
    [patient] = [p for p in patients if p.patient_id == spec["patient_id"]]
    if name == "alzheimer-mci":
        return _alzheimer_case(name, spec, patient, cancelled)
    if name == "dravet-child":
        return _dravet_case(name, spec, patient)
    if name == "retina-hypertension":
        return _retina_case(name, spec, patient)
    if patient.studies:
        return _followup_case(name, spec, patient, cancelled)
    [image] = load_series(sorted(patient.dicom_dir.glob("*.dcm")), cancelled=cancelled)
    case = Case(
        name=spec["name"],
        patient_id=patient.patient_id,
        id=f"demo-{name}",
        image=image,
        labels=read_label_map(patient.labels_path),
        image_reference={"folder": str(patient.dicom_dir), "series_uid": patient.series_uid},
        clinical=dict(spec["clinical"]),
    )
    case.studies[0].modality = image.meta.get("modality", "")
    return case


def _followup_case(name: str, spec: dict, patient, cancelled: CancelledFn) -> Case:
    """A case with one Study per dated demo study: the first (baseline) active with its
    image loaded, the others loaded on demand from their `reference`; all with labels."""
    from meditwin_desktop.core.imaging.dicom import load_series
    from meditwin_desktop.core.imaging.nifti import read_label_map
    from meditwin_desktop.core.lesions import measure_labels

    studies = []
    for written in patient.studies:
        reference = {
            "folder": str(written.dicom_dir),
            "series_uid": written.series_uid,
            "study_uid": written.study_uid,
            "description": written.description,
        }
        labels = read_label_map(written.labels_path)
        studies.append(
            Study(date=written.date, modality="CT", description=written.description,
                  reference=reference, labels=labels)
        )  # fmt: skip
    [studies[0].image] = load_series(
        sorted(patient.studies[0].dicom_dir.glob("*.dcm")), cancelled=cancelled
    )
    case = Case(name=spec["name"], patient_id=patient.patient_id, id=f"demo-{name}",
                clinical=dict(spec["clinical"]), studies=studies,
                medications=[Medication(**m) for m in spec.get("medications", [])])  # fmt: skip
    case.active = 0
    # the radiologist's report: each metastasis measured on each study's labels (a ruler in
    # the Follow-up workspace replaces a value; the labels give back the truth)
    case.measurements = measure_labels(case)
    return case


def _alzheimer_case(name: str, spec: dict, patient, cancelled: CancelledFn) -> Case:
    """The memory-clinic case: the visits drawn from the demonstration model, the T1 MRI of
    the last visit (loaded, with its labels), its EEG; the last visit's hippocampal volumes
    and ratio measured on the MRI's labels (the drawn ratio the labels were sized to)."""
    from meditwin_desktop.core.brain_volumes import HIPPOCAMPUS_RATIO, brain_measurements
    from meditwin_desktop.core.brain_volumes import from_labels as brain_volumes
    from meditwin_desktop.core.imaging.dicom import load_series
    from meditwin_desktop.core.imaging.nifti import read_label_map
    from meditwin_desktop.demo import alzheimer_visits as visits

    [written] = patient.studies
    reference = {"folder": str(written.dicom_dir), "series_uid": written.series_uid,
                 "study_uid": written.study_uid, "description": "T1 MPRAGE"}  # fmt: skip
    study = Study(date=written.date, modality="MR", description="T1 MPRAGE (visit 5)",
                  reference=reference, labels=read_label_map(written.labels_path))  # fmt: skip
    [study.image] = load_series(sorted(written.dicom_dir.glob("*.dcm")), cancelled=cancelled)
    recordings = [
        Recording(file=str(path), kind="EEG", start=f"{visits.MRI_DATE}T{visits.EEG_START}",
                  description="Resting EEG, eyes closed, 3 min (visit 5)")
        for path in patient.recordings
    ]  # fmt: skip
    case = Case(name=spec["name"], patient_id=patient.patient_id, id=f"demo-{name}",
                clinical=dict(spec["clinical"]), studies=[study], recordings=recordings,
                medications=[Medication(**m) for m in spec.get("medications", [])])  # fmt: skip
    measured = brain_measurements(brain_volumes(study))
    drawn = [
        m for m in visits.visit_values()
        if not (m.name == HIPPOCAMPUS_RATIO and m.date == study.date)
    ]  # fmt: skip
    case.measurements = [*drawn, *measured, visits.AMYLOID]
    return case


def _dravet_case(name: str, spec: dict, patient) -> Case:
    """The Dravet board's case: no imaging, the diary drawn from the count model's truth,
    valproate and clobazam, the synthetic EEG (its myoclonic seizure is in the diary)."""
    from meditwin_desktop.demo import dravet_diary as diary

    recordings = [
        Recording(file=str(path), kind="EEG", start=f"{diary.EEG_DATE}T{diary.EEG_START}",
                  description=diary.EEG_DESCRIPTION)
        for path in patient.recordings
    ]  # fmt: skip
    return Case(name=spec["name"], patient_id=patient.patient_id, id=f"demo-{name}",
                clinical=dict(spec["clinical"]), events=diary.diary_events(),
                recordings=recordings,
                medications=[Medication(**m) for m in spec["medications"]])  # fmt: skip


def _retina_case(name: str, spec: dict, patient) -> Case:
    """The hypertension case: one ophthalmic photograph study per visit (each a DICOM file
    the Studies panel opens by its `reference`), the last visit active with its image read."""
    from meditwin_desktop.core.imaging.photo import read_photo

    studies = []
    for written in patient.studies:
        [photo] = sorted(written.dicom_dir.glob("*.dcm"))
        studies.append(Study(date=written.date, modality="OP", description=written.description,
                             reference={"file": str(photo)}))  # fmt: skip
    studies[-1].image = read_photo(Path(studies[-1].reference["file"]))
    case = Case(name=spec["name"], patient_id=patient.patient_id, id=f"demo-{name}",
                clinical=dict(spec["clinical"]), studies=studies,
                medications=[Medication(**m) for m in spec["medications"]])  # fmt: skip
    case.active = len(studies) - 1
    return case
