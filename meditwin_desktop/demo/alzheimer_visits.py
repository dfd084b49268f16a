"""The `alzheimer-mci` demo: five yearly visits drawn from the shipped demonstration Leaspy
model (so the truth is known), a T1 MRI at the last visit and a resting EEG.

Truth (`TRUTH`): the patient's individual parameters in the Leaspy logistic model of
`twins/alzheimer/data/demo_model.json` (contract.md): acceleration xi, time shift tau (years)
and two sources. At visit age t the model gives each feature's value y_k(t) in its 0-1 space;
the drawn value is y_k(t) + e, e ~ N(0, noise_std_k) (the model's own residual noise, seeded),
mapped to clinical units by the model's scaling (MMSE points, SUVR...), clipped to the
score's scale and rounded (MMSE, RAVLT, FAQ to integers: 1 MMSE point is 0.033 in model
space, half the model's noise standard deviation 0.067; the E-Cog means to 0.01 points; the
FDG SUVR to 0.01; the hippocampus ratio to 6 significant digits). `visit_values(noise=False,
rounded=False)` gives the values the noise was added to.

The truth was chosen (a search over xi, tau and sources on this model) so that, without
noise, MMSE is 27.5 at the first visit, 23.9 at the last, and falls below 20 2.7 years after
it (untreated): mild cognitive impairment progressing to mild dementia. xi = 0.2 is a
slightly faster pace than the average (e^0.2 = 1.22); tau = 75 years is 0.26 SD before the
population mean onset of this model. The noise seed (143) was picked by hand among the seeds
0-299 whose draws keep MMSE at 26-28 at the first visit and 23-25 at the last, never rising
by more than 1 point between visits: one of those with FAQ and the hippocampus ratio
worsening steadily too, a coherent picture for a board (MMSE 27, 27, 25, 23, 23).

Age at a visit = (date - birth date) / 365.25 (years). "FDG PET" is measured at two visits
only; "Amyloid PET" (78 centiloids, 2025: an invented value, clearly amyloid positive) is
not a feature of the model and is not drawn from it.

EEG (`write_eeg`): 19 channels of the 10-20 system, 256 Hz, 3 minutes, resting with eyes
closed: a 1/f background (shared and per channel), an occipital-dominant alpha rhythm
peaking at 8.0 Hz (slowed, as in mild cognitive impairment due to Alzheimer's disease),
fronto-central theta around 6 Hz, two eye blinks (frontal, 200 uV at Fp1/Fp2) and one
movement burst (temporal channels). All of it is invented; nobody is recorded here.
"""

from __future__ import annotations

from datetime import date as _date
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np

from meditwin_desktop.core.case import Measurement
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.demo.eeg_synthesis import coloured, peak, pink, write_edf

BIRTH_DATE = "1950-05-21"
VISIT_DATES = ("2022-11-14", "2023-11-13", "2024-11-18", "2025-11-17", "2026-11-16")
MRI_DATE = VISIT_DATES[-1]
FDG_DATES = (VISIT_DATES[1], VISIT_DATES[3])
TRUTH: dict[str, float | tuple[float, ...]] = {"xi": 0.2, "tau": 75.0, "sources": (-0.4, 0.3)}
"""The patient's individual parameters in the demo Leaspy model: xi (log acceleration),
tau (age, years, at which the patient reaches the model's reference disease stage) and the
sources (space shifts w = sources @ mixing_matrix)."""
NOISE_SEED = 143
SCORES = ("MMSE", "RAVLT", "FAQ", "E-Cog Subject", "E-Cog Study-partner")
RATIO = "Hippocampus volume ratio"
FDG = "FDG PET"
AMYLOID = Measurement("Amyloid PET", 78.0, "CL", "2025-11-17", "", "florbetapir PET report")
# per feature: clinical scale (clipped to it) and decimals kept (None: 6 significant digits)
SCALE = {"MMSE": (0.0, 30.0, 0), "RAVLT": (0.0, 75.0, 0), "FAQ": (0.0, 30.0, 0),
         "E-Cog Subject": (1.0, 4.0, 2), "E-Cog Study-partner": (1.0, 4.0, 2),
         FDG: (0.3, 3.0, 2), RATIO: (0.0, 0.02, None)}  # fmt: skip
SOURCES = {
    "MMSE": "neuropsychology", "RAVLT": "neuropsychology", "FAQ": "study partner interview",
    "E-Cog Subject": "questionnaire", "E-Cog Study-partner": "questionnaire",
    FDG: "FDG PET report", RATIO: "radiology report",
}  # fmt: skip

EEG_CHANNELS = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4", "T5",
                "P3", "Pz", "P4", "T6", "O1", "O2")  # fmt: skip
EEG_RATE = 256  # Hz
EEG_SECONDS = 180
EEG_START = "10:20:00"  # time of day of the recording, at the last visit
ALPHA_PEAK_HZ = 8.0
EEG_FILE = "resting_eyes_closed.edf"
BLINKS_S = (41.3, 117.8)  # onsets of the two eye blinks
MOVEMENT_S = (150.0, 151.5)  # the movement artefact burst


def age_at(date: str) -> float:
    """Age in years at an ISO date: (date - birth date) / 365.25."""
    days = (_date.fromisoformat(date[:10]) - _date.fromisoformat(BIRTH_DATE)).days
    return days / 365.25


@cache
def model():
    """The shipped demonstration Leaspy model the visits are drawn from."""
    from meditwin_twins.alzheimer.leaspy_model import demo_model_path, load_model

    return load_model(demo_model_path())


def _dates_of(feature: str) -> tuple[str, ...]:
    return FDG_DATES if feature == FDG else VISIT_DATES


def model_values(dates: tuple[str, ...] = VISIT_DATES) -> np.ndarray:
    """The truth's model-space values (n_dates, n_features), without noise."""
    ages = [age_at(d) for d in dates]
    return model().values(ages, TRUTH["xi"], TRUTH["tau"], TRUTH["sources"])


def visit_values(*, noise: bool = True, rounded: bool = True) -> list[Measurement]:
    """Every feature of the model at its visits, in clinical units (see the module's
    docstring): drawn with the model's noise, or without (`noise=False`) to check the truth."""
    m = model()
    clean = model_values()
    rng = np.random.default_rng(NOISE_SEED)
    drawn = clean + rng.standard_normal(clean.shape) * m.noise_std if noise else clean
    rows = []
    for k, feature in enumerate(m.features):
        scaling = m.scaling_for(feature)
        low, high, decimals = SCALE[feature]
        for date in _dates_of(feature):
            value = float(scaling.to_clinical(drawn[VISIT_DATES.index(date), k]))
            if rounded:
                value = float(np.clip(value, low, high))
                value = float(f"{value:.6g}") if decimals is None else round(value, decimals)
                value = value + 0.0  # no -0.0
            rows.append(Measurement(feature, value, scaling.unit, date, "", SOURCES[feature]))
    return rows


def drawn_ratio_at_mri() -> float:
    """The drawn hippocampus volume ratio at the MRI visit (the MRI's labels are sized to it)."""
    [value] = [m.value for m in visit_values() if m.name == RATIO and m.date == MRI_DATE]
    return value


def build_studies() -> list[tuple[str, str, Volume, LabelMap]]:
    """The one imaging study: the T1 MRI at the last visit, (date, description, MR, labels)."""
    from meditwin_desktop.demo import brain_anatomy

    mr, labels = brain_anatomy.build(drawn_ratio_at_mri())
    return [(MRI_DATE, "", mr, labels)]  # the study description stays the series one


# -- EEG ----------------------------------------------------------------------------------------
def eeg_signals(seed: int = 20261116) -> np.ndarray:
    """The recording in microvolts, (19, 46080)."""
    rng = np.random.default_rng(seed)
    n = EEG_RATE * EEG_SECONDS
    t = np.arange(n) / EEG_RATE

    shared = coloured(rng, n, EEG_RATE, pink)
    alpha = coloured(rng, n, EEG_RATE, peak(ALPHA_PEAK_HZ, 0.5))
    theta = coloured(rng, n, EEG_RATE, peak(6.0, 0.8))
    beta = coloured(rng, n, EEG_RATE, peak(18.0, 4.0))
    # per channel weights (uV rms): alpha strongest at the back, theta fronto-central
    posterior = {"O1": 1.0, "O2": 1.0, "P3": 0.7, "Pz": 0.75, "P4": 0.7, "T5": 0.6, "T6": 0.6,
                 "C3": 0.4, "Cz": 0.4, "C4": 0.4, "T3": 0.3, "T4": 0.3}  # fmt: skip
    central = {"Fz": 1.0, "Cz": 1.0, "F3": 0.85, "F4": 0.85, "C3": 0.8, "C4": 0.8, "Pz": 0.7}
    data = np.empty((len(EEG_CHANNELS), n))
    for row, name in enumerate(EEG_CHANNELS):
        own = coloured(rng, n, EEG_RATE, pink)
        data[row] = (
            9.0 * (0.6 * shared + 0.8 * own)
            + 22.0 * posterior.get(name, 0.22) * alpha
            + 7.0 * central.get(name, 0.5) * theta
            + 2.5 * beta
        )
    # eye blinks: a 0.3 s positive wave, largest at Fp1/Fp2, falling off backwards
    blink_gain = {"Fp1": 1.0, "Fp2": 1.0, "F7": 0.45, "F8": 0.45, "F3": 0.4, "F4": 0.4, "Fz": 0.45}
    for onset in BLINKS_S:
        wave = 200.0 * np.exp(-0.5 * ((t - onset - 0.15) / 0.07) ** 2)
        for name, gain in blink_gain.items():
            data[EEG_CHANNELS.index(name)] += gain * wave
    # a movement: slow swings and muscle activity on the temporal channels for 1.5 s
    start, stop = (int(s * EEG_RATE) for s in MOVEMENT_S)
    burst = np.hanning(stop - start)
    for name in ("T3", "T4", "T5", "T6", "F7", "F8"):
        swing = 180.0 * np.sin(2 * np.pi * 1.3 * t[start:stop] + rng.uniform(0, 2 * np.pi))
        muscle = 40.0 * rng.standard_normal(stop - start)
        data[EEG_CHANNELS.index(name), start:stop] += burst * (swing + muscle)
    return data


def write_eeg(path: Path, date: str = MRI_DATE) -> Path:
    """Write the resting EEG as an EDF+ file (uV, +-800 uV range, 16 bits) at `path`."""
    return write_edf(
        path, eeg_signals(), EEG_CHANNELS, EEG_RATE, 800.0,
        datetime.fromisoformat(f"{date}T{EEG_START}"),
        ("DEMO^Alzheimer-MCI", "MEDITWIN-DEMO-007", "Female"),
        "resting eyes closed (synthetic demo)", [(0.0, -1, "Resting, eyes closed")],
    )  # fmt: skip


def write_recordings(folder: Path) -> list[Path]:
    """The patient's signal files, written into its demo folder: the EEG of the last visit."""
    return [write_eeg(Path(folder) / MRI_DATE / "EEG" / EEG_FILE, MRI_DATE)]
