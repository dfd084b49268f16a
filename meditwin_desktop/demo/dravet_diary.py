"""The `dravet-child` demo: six months of a seizure diary drawn from a known count model, and
a synthetic awake EEG with generalised polyspike-wave discharges and one myoclonic seizure.

Everything here is invented; nobody is recorded or described.

Diary truth (`TRUTH`): daily convulsive seizure counts y_t follow the count model of the
issue 21 data contract: negative binomial NB2 (mean mu_t, variance mu_t + alpha mu_t^2) with
a first-order Markov clustering term, log mu_t = log lambda + rho * 1[y_{t-1} > 0]. Drawn as
gamma-Poisson: g ~ Gamma(shape 1/alpha, scale alpha mu_t), y_t ~ Poisson(g). Its long-run
(stationary) rate is analytic (`mean_rate`): with p0(mu) = (1 + alpha mu)^(-1/alpha) the
probability of a seizure-free day, a = 1 - p0(lambda), b = 1 - p0(lambda e^rho), the
stationary share of days after a seizure day is pi = a / (1 - b + a) and the rate is
(1 - pi) lambda + pi lambda e^rho.

The generator is written here, not imported from the Dravet twin: the demo (platform) does
not depend on a twin plug-in, and the diary is drawn by code the twin's fit does not share
(tests/unit/test_demo_dravet.py checks that both give the same long-run rate).

lambda is 0.34/day (alpha 0.8, rho 0.9): 14.1 convulsive seizures per 28 days in the long
run, within the trials' baseline medians (Devinsky 2017: 12.4 and 14.9 per month; Lagae 2019:
17.5-27.3 per 28 days).

From the drawn counts the family's diary is written (`diary_events`), one line per seizure in
the contract's canonical kinds:
- convulsive kinds: generalised tonic-clonic (60 %), hemiclonic (30 %), clonic (5 %), tonic
  (5 %); times of day mostly on waking and falling asleep (a mixture: 30 % around 07:00,
  30 % around 20:30, 15 % at night, 25 % in the day); durations lognormal, median 110 s,
  clipped to 60-240 s; 5 % of them prolonged (330-720 s), each with rescue buccal
  midazolam 5 mg (`details["rescue"]`);
- the first day with at least 4 seizures is a cluster: 4 of them logged as one line
  (`details["count"] = 4`, with fever), any others that day as their own lines;
- the first seizure on or after `STATUS_FROM` is a convulsive status epilepticus (35 min,
  rescue midazolam, "ambulance, PICU 1 night");
- a 5-day holiday (`HOLIDAY`) is "not recorded": what was drawn for those days is not
  logged (the twin must treat them as missing, not seizure-free);
- non-convulsive events drawn apart from the counts: myoclonic jerks (7 % of days, 1-6
  jerks per line) and absences (5 % of days, 4-15 s); plus one myoclonic seizure at
  `MYOCLONIC_AT`, during the EEG.
Days without a line are seizure-free (the family logs seizures only); the diary's first and
last days, when they have no seizure, carry a "no seizure" line so that the period is the
six months (a diary's period defaults to its first and last lines' days).

`SEED` (65) was picked by hand among the 46 seeds of 0-199 whose diaries have an observed
convulsive rate over the reported days within 10 % of the truth's long-run rate, a first
day of 4 or more seizures with at most 6 (the cluster), the status in September, 2-5
prolonged seizures besides it, and no other event in the two hours around the EEG: a
coherent diary for a board (14.5 per 28 days observed), not a claim about the model.

EEG (`write_eeg`): 19 channels of the 10-20 system, 256 Hz, 10 minutes, awake with eyes
closed, on `EEG_DATE` at `EEG_START`: a 1/f background, a posterior rhythm at 8.0 Hz
(the lower end for a 6-year-old), excess diffuse theta around 5.5 Hz (more at the front),
seven brief generalised polyspike-wave discharges (`BURSTS_S`: 3.2-3.9 Hz, 1.1-2.0 s,
fronto-central maximum, 200-300 uV) and, at `MYOCLONIC_S` (the diary's myoclonic event),
a 1.2 s generalised polyspike-wave discharge with the jerk's muscle artefact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np

from meditwin_desktop.core.case import Event
from meditwin_desktop.demo.eeg_synthesis import coloured, peak, pink, write_edf

BIRTH_DATE = "2020-06-14"
DIARY_START = "2026-06-01"
DIARY_END = "2026-11-30"  # inclusive
TRUTH: dict[str, float] = {"rate": 0.34, "dispersion": 0.8, "cluster": 0.9}
"""lambda (seizures/day after a seizure-free day), alpha (NB2 over-dispersion) and rho (log
rate ratio on the day after a seizure day) of the convulsive counts."""
SEED = 65
HOLIDAY = ("2026-08-10", "2026-08-14")  # not recorded (inclusive)
STATUS_FROM = "2026-09-15"  # the status epilepticus: the first seizure from this day
STATUS_DURATION_S = 35 * 60.0
CLUSTER_COUNT = 4
RESCUE = "buccal midazolam 5 mg"
CONVULSIVE_KINDS = (("generalised tonic-clonic", 0.6), ("hemiclonic", 0.3), ("clonic", 0.05),
                    ("tonic", 0.05))  # fmt: skip
PROLONGED_SHARE = 0.05
MYOCLONIC_DAY_P = 0.07
ABSENCE_DAY_P = 0.05


EEG_CHANNELS = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4", "T5",
                "P3", "Pz", "P4", "T6", "O1", "O2")  # fmt: skip
EEG_RATE = 256  # Hz
EEG_SECONDS = 600
EEG_DATE = "2026-10-12"
EEG_START = "10:00:00"
EEG_FILE = "awake_eeg.edf"
EEG_DESCRIPTION = "synthetic EEG (demo), not a patient recording"
POSTERIOR_HZ = 8.0
THETA_HZ = 5.5
BURSTS_S = ((48.2, 1.4, 3.5), (121.6, 1.1, 3.8), (203.4, 1.8, 3.2), (338.9, 1.3, 3.6),
            (412.7, 2.0, 3.4), (489.1, 1.2, 3.9), (561.5, 1.6, 3.3))  # fmt: skip
"""The interictal discharges: (onset s, duration s, frequency Hz)."""
MYOCLONIC_S = 270.0  # onset of the myoclonic seizure in the recording
MYOCLONIC_AT = f"{EEG_DATE}T10:04:30"  # the same moment in the diary
# the discharges' field: generalised, fronto-central maximum
_FIELD = {"Fp1": 0.8, "Fp2": 0.8, "F7": 0.7, "F3": 1.0, "Fz": 1.0, "F4": 1.0, "F8": 0.7,
          "T3": 0.55, "C3": 0.85, "Cz": 0.9, "C4": 0.85, "T4": 0.55, "T5": 0.45, "P3": 0.65,
          "Pz": 0.7, "P4": 0.65, "T6": 0.45, "O1": 0.5, "O2": 0.5}  # fmt: skip


# -- the count model (the contract's, self-contained here) -----------------------------------
def _p_zero(mu: np.ndarray | float, dispersion: np.ndarray | float) -> np.ndarray:
    """NB2 probability of no seizure on a day of mean `mu` (Poisson when alpha = 0)."""
    mu, alpha = np.asarray(mu, float), np.asarray(dispersion, float)
    safe = np.where(alpha > 0, alpha, 1.0)
    return np.where(alpha > 0, (1.0 + safe * mu) ** (-1.0 / safe), np.exp(-mu))


def mean_rate(rate: float, dispersion: float, cluster: float) -> float:
    """Long-run convulsive seizures per day of the count model (stationary, analytic)."""
    a = 1.0 - float(_p_zero(rate, dispersion))
    b = 1.0 - float(_p_zero(rate * np.exp(cluster), dispersion))
    after_seizure = a / (1.0 - b + a)
    return (1.0 - after_seizure) * rate + after_seizure * rate * float(np.exp(cluster))


def simulate_days(
    rate: np.ndarray,
    dispersion: np.ndarray,
    cluster: np.ndarray,
    days: int,
    rng: np.random.Generator,
    first_state: np.ndarray | None = None,
) -> np.ndarray:
    """Daily counts (n, days) of n diaries; `first_state` (bool, n): a seizure the day
    before day 0, drawn from the stationary distribution when None."""
    rate, alpha, rho = (np.asarray(x, float) for x in (rate, dispersion, cluster))
    n = rate.shape[0]
    if first_state is None:
        a = 1.0 - _p_zero(rate, alpha)
        b = 1.0 - _p_zero(rate * np.exp(rho), alpha)
        first_state = rng.random(n) < a / (1.0 - b + a)
    state = np.asarray(first_state, bool)
    counts = np.empty((n, days), dtype=np.int64)
    safe = np.where(alpha > 0, alpha, 1.0)
    for day in range(days):
        mu = rate * np.exp(rho * state)
        gamma = rng.gamma(1.0 / safe, safe * mu)
        counts[:, day] = rng.poisson(np.where(alpha > 0, gamma, mu))
        state = counts[:, day] > 0
    return counts


# -- the diary -------------------------------------------------------------------------------
def _days() -> list[date]:
    first, last = date.fromisoformat(DIARY_START), date.fromisoformat(DIARY_END)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _holiday(day: date) -> bool:
    return HOLIDAY[0] <= day.isoformat() <= HOLIDAY[1]


def drawn_counts(seed: int = SEED) -> np.ndarray:
    """The truth's convulsive counts on every day of the diary period (holiday included)."""
    rng = np.random.default_rng(seed)
    one = np.ones(1)
    return simulate_days(one * TRUTH["rate"], one * TRUTH["dispersion"],
                         one * TRUTH["cluster"], len(_days()), rng)[0]  # fmt: skip


def _time_of_day(rng: np.random.Generator) -> float:
    """Hours after midnight: waking, falling asleep, night or day."""
    period = rng.choice(4, p=[0.3, 0.3, 0.15, 0.25])
    if period == 0:
        hours = rng.normal(7.0, 0.5)
    elif period == 1:
        hours = rng.normal(20.5, 0.6)
    elif period == 2:
        hours = (rng.uniform(22.0, 30.0)) % 24.0
    else:
        hours = rng.uniform(9.0, 19.0)
    return float(np.clip(hours, 0.0, 23.95))


def _stamp(day: date, hours: float) -> str:
    minutes = round(float(hours) * 60.0)
    return (datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)).isoformat()


def _times(rng: np.random.Generator, count: int) -> list[float]:
    """`count` distinct times of one day (hours), at least 10 minutes apart, in order."""
    times = sorted(_time_of_day(rng) for _ in range(count))
    for i in range(1, len(times)):
        times[i] = max(times[i], times[i - 1] + 10.0 / 60.0)
    shift = max(0.0, times[-1] - 23.95) if times else 0.0
    return [t - shift for t in times]


def diary_events(seed: int = SEED) -> list[Event]:
    """The family's diary: one Event per line, in time order (see the module's docstring)."""
    counts = drawn_counts(seed)
    rng = np.random.default_rng([seed, 1])
    kinds = [k for k, _ in CONVULSIVE_KINDS]
    shares = [p for _, p in CONVULSIVE_KINDS]
    events: list[Event] = []
    status_done = cluster_done = False
    for day, count in zip(_days(), counts, strict=True):
        if _holiday(day) or count == 0:
            continue
        times = _times(rng, int(count))
        if not cluster_done and count >= CLUSTER_COUNT:
            cluster_done = True
            start = times[-CLUSTER_COUNT]
            times = times[:-CLUSTER_COUNT]
            note = f"{CLUSTER_COUNT} seizures within 3 hours, fever 38.4 °C"
            events.append(Event(_stamp(day, start), "generalised tonic-clonic", 95.0,
                                {"count": CLUSTER_COUNT}, note))  # fmt: skip
        for hours in times:
            if not status_done and day.isoformat() >= STATUS_FROM:
                status_done = True
                events.append(Event(_stamp(day, hours), "status epilepticus", STATUS_DURATION_S,
                                    {"rescue": RESCUE}, "ambulance, PICU 1 night"))  # fmt: skip
                continue
            kind = str(rng.choice(kinds, p=shares))
            if rng.random() < PROLONGED_SHARE:
                duration = float(np.round(rng.uniform(330.0, 720.0), -1))
                events.append(Event(_stamp(day, hours), kind, duration, {"rescue": RESCUE},
                                    "midazolam given at 5 minutes"))  # fmt: skip
            else:
                duration = float(np.round(np.clip(110.0 * np.exp(0.35 * rng.normal()), 60, 240)))
                events.append(Event(_stamp(day, hours), kind, duration))
    for day in _days():  # the non-convulsive events, drawn apart from the counts
        myoclonic, absence = rng.random(2) < (MYOCLONIC_DAY_P, ABSENCE_DAY_P)
        if _holiday(day):
            continue
        if myoclonic:
            jerks = int(rng.integers(1, 7))
            details = {"count": jerks} if jerks > 1 else {}
            events.append(Event(_stamp(day, rng.normal(7.5, 0.5)), "myoclonic", 2.0 * jerks,
                                details, "jerks on waking"))  # fmt: skip
        if absence:
            events.append(Event(_stamp(day, rng.uniform(9.0, 18.0)), "absence",
                                float(rng.integers(4, 16))))  # fmt: skip
    for day, note in ((DIARY_START, "diary started"), (DIARY_END, "diary brought to the clinic")):
        if not any(e.time.startswith(day) for e in events):
            events.append(Event(f"{day}T20:00:00", "no seizure", None, {}, note))
    events.append(Event(MYOCLONIC_AT, "myoclonic", 3.0, {},
                        "during the EEG: jerk of both arms, dropped a toy"))  # fmt: skip
    first, last = date.fromisoformat(HOLIDAY[0]), date.fromisoformat(HOLIDAY[1])
    events.append(Event(f"{HOLIDAY[0]}T00:00:00", "not recorded",
                        ((last - first).days + 1) * 86400.0, {},
                        "family holiday: diary not kept"))  # fmt: skip
    events.sort(key=lambda e: e.time)
    return events


# -- EEG -------------------------------------------------------------------------------------
def _polyspike_wave(t: np.ndarray, freq: float) -> np.ndarray:
    """A polyspike-wave train at times `t` (s from its onset), peak about -1: per cycle three
    spikes (8 ms SD, 35 ms apart) then a slow wave at 55 % of the cycle (surface negative)."""
    period = 1.0 / freq
    tau = np.mod(t, period)
    wave = np.zeros_like(t)
    for centre in (0.02, 0.055, 0.09):
        wave -= 0.8 * np.exp(-0.5 * ((tau - centre) / 0.008) ** 2)
    wave -= 1.0 * np.exp(-0.5 * ((tau - 0.55 * period) / (0.16 * period)) ** 2)
    return wave


@cache
def eeg_signals(seed: int = 20261012) -> np.ndarray:
    """The recording in microvolts, (19, 153600); cached (read-only)."""
    rng = np.random.default_rng(seed)
    n = EEG_RATE * EEG_SECONDS
    t = np.arange(n) / EEG_RATE

    shared = coloured(rng, n, EEG_RATE, pink)
    posterior_rhythm = coloured(rng, n, EEG_RATE, peak(POSTERIOR_HZ, 0.5))
    theta = coloured(rng, n, EEG_RATE, peak(THETA_HZ, 0.9))
    beta = coloured(rng, n, EEG_RATE, peak(18.0, 4.0))
    posterior = {"O1": 1.0, "O2": 1.0, "P3": 0.7, "Pz": 0.75, "P4": 0.7, "T5": 0.6, "T6": 0.6,
                 "C3": 0.35, "Cz": 0.35, "C4": 0.35, "T3": 0.3, "T4": 0.3}  # fmt: skip
    frontal = {"Fz": 1.0, "F3": 0.95, "F4": 0.95, "Cz": 0.9, "C3": 0.85, "C4": 0.85,
               "Fp1": 0.8, "Fp2": 0.8, "F7": 0.75, "F8": 0.75}  # fmt: skip
    data = np.empty((len(EEG_CHANNELS), n))
    for row, name in enumerate(EEG_CHANNELS):
        own = coloured(rng, n, EEG_RATE, pink)
        data[row] = (
            14.0 * (0.6 * shared + 0.8 * own)  # children: a higher-voltage background
            + 35.0 * posterior.get(name, 0.2) * posterior_rhythm
            + 20.0 * frontal.get(name, 0.6) * theta
            + 3.0 * beta
        )
    gains = np.array([_FIELD[name] for name in EEG_CHANNELS])[:, None]
    discharges = [(onset, duration, freq, 230.0) for onset, duration, freq in BURSTS_S]
    discharges.append((MYOCLONIC_S, 1.2, 3.5, 300.0))
    for onset, duration, freq, amplitude in discharges:
        start, stop = int(onset * EEG_RATE), int((onset + duration) * EEG_RATE)
        envelope = np.hanning(stop - start) ** 0.5
        wave = amplitude * envelope * _polyspike_wave(t[start:stop] - onset, freq)
        data[:, start:stop] += gains * wave
    # the jerk: 0.4 s of muscle activity (frontal and temporal) and a slow movement swing
    start, stop = int((MYOCLONIC_S + 0.1) * EEG_RATE), int((MYOCLONIC_S + 0.5) * EEG_RATE)
    burst = np.hanning(stop - start)
    for name in ("Fp1", "Fp2", "F7", "F8", "T3", "T4"):
        muscle = 60.0 * rng.standard_normal(stop - start)
        data[EEG_CHANNELS.index(name), start:stop] += burst * muscle
    data.flags.writeable = False  # cached: shared by every caller
    return data


def write_eeg(path: Path) -> Path:
    """Write the EEG as an EDF+ file (uV, +-1000 uV range, 16 bits) at `path`."""
    return write_edf(
        path, eeg_signals(), EEG_CHANNELS, EEG_RATE, 1000.0,
        datetime.fromisoformat(f"{EEG_DATE}T{EEG_START}"),
        ("DEMO^Dravet-Child", "MEDITWIN-DEMO-008", "Female"),
        "awake eyes closed (synthetic demo)",
        [(0.0, -1, "Awake, eyes closed"), (MYOCLONIC_S + 0.1, -1, "Myoclonic jerk, both arms")],
    )  # fmt: skip


def write_recordings(folder: Path) -> list[Path]:
    """The patient's signal files, written into its demo folder: the EEG."""
    return [write_eeg(Path(folder) / EEG_DATE / "EEG" / EEG_FILE)]
