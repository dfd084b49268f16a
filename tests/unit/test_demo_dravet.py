"""The `dravet-child` demo case: six months of a seizure diary drawn from a known count model
(clusters, prolonged seizures, a status epilepticus, a gap), valproate and clobazam, and a
synthetic EEG whose myoclonic seizure is the diary's."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from meditwin_desktop.core.signals import read_recording, welch
from meditwin_desktop.demo import dravet_diary as diary
from meditwin_desktop.demo import ensure_demo
from meditwin_desktop.demo.case import DEMO_CASES, demo_case

NAME = "dravet-child"
CONVULSIVE = {"generalised tonic-clonic", "hemiclonic", "clonic", "tonic", "status epilepticus"}


@pytest.fixture(scope="module")
def case():
    return demo_case(NAME)


def _day(event) -> date:
    return datetime.fromisoformat(event.time).date()


def _convulsive_per_day(events) -> dict[date, int]:
    """Convulsive seizures per day as written (a line counts details["count"], else 1)."""
    days: Counter = Counter()
    for event in events:
        if event.kind in CONVULSIVE:
            days[_day(event)] += int(event.details.get("count", 1))
    return dict(days)


def _reported(day: date) -> bool:
    return not diary.HOLIDAY[0] <= day.isoformat() <= diary.HOLIDAY[1]


def test_case_has_the_child_her_drugs_and_no_imaging(case):
    clinical = case.clinical
    assert (clinical["age_y"], clinical["sex"]) == (6, "female")
    assert (clinical["weight_kg"], clinical["height_cm"]) == (20.0, 115.0)
    assert clinical["birth_date"] == diary.BIRTH_DATE
    assert "SCN1A" in clinical["diagnosis"] and "Arg712*" in clinical["scn1a_variant"]
    assert "fenfluramine, cannabidiol or stiripentol" in clinical["board_question"]
    assert not case.studies and case.image is None and not DEMO_CASES[NAME]["image"]
    drugs = {m.name: m for m in case.medications}
    assert set(drugs) == {"valproate", "clobazam"}  # rescue midazolam: in the events only
    for name, mg_per_kg in (("valproate", 30.0), ("clobazam", 0.5)):
        drug = drugs[name]
        assert (drug.unit, drug.route, drug.stop) == ("mg/day", "oral", "")
        assert drug.dose / clinical["weight_kg"] == pytest.approx(mg_per_kg)
        assert drug.start < diary.DIARY_START


def test_diary_lines_are_the_drawn_convulsive_counts(case):
    """Every convulsive seizure drawn from the truth on a reported day is in the diary (a
    cluster line counts 4, the status replaces one), none on the holiday, none other."""
    events = case.events
    assert events == diary.diary_events()  # deterministic
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert all(diary.DIARY_START <= e.time[:10] <= diary.DIARY_END for e in events)
    assert events[0].time[:10] == diary.DIARY_START and events[-1].time[:10] == diary.DIARY_END
    markers = [e for e in events if e.kind == "no seizure"]
    assert all(not [x for x in events if x.kind in CONVULSIVE and _day(x) == _day(m)]
               for m in markers)  # fmt: skip
    drawn = diary.drawn_counts()
    days = [date.fromisoformat(diary.DIARY_START) + timedelta(days=i) for i in range(183)]
    assert len(drawn) == 183 and days[-1].isoformat() == diary.DIARY_END
    written = _convulsive_per_day(events)
    expected = {d: int(c) for d, c in zip(days, drawn, strict=True) if c and _reported(d)}
    assert written == expected
    kinds = Counter(e.kind for e in events)
    assert kinds["generalised tonic-clonic"] + kinds["hemiclonic"] > 0.8 * sum(
        kinds[k] for k in CONVULSIVE
    )
    assert kinds["myoclonic"] >= 5 and kinds["absence"] >= 3
    assert 90 <= len(events) <= 130 and sum(written.values()) == sum(expected.values()) > 70
    # no exact repeats (same minute, same kind, same count): the diary's duplicate rule
    keys = [(e.time[:16], e.kind, e.details.get("count", 1)) for e in events]
    assert len(set(keys)) == len(keys)


def test_status_cluster_prolonged_and_rescue(case):
    events = case.events
    [status] = [e for e in events if e.kind == "status epilepticus"]
    assert status.time.startswith("2026-09") and status.duration_s == 35 * 60
    assert "midazolam" in status.details["rescue"] and "PICU" in status.note
    [cluster] = [e for e in events if e.kind in CONVULSIVE and e.details.get("count", 1) > 1]
    assert cluster.details["count"] == 4
    assert diary.drawn_counts()[(_day(cluster) - date(2026, 6, 1)).days] >= 4
    prolonged = [e for e in events if e.kind in CONVULSIVE and (e.duration_s or 0) > 300]
    assert 3 <= len(prolonged) <= 6  # the status and 2-5 others
    assert all(e.details.get("rescue") == diary.RESCUE for e in prolonged)
    assert not [e for e in events if (e.duration_s or 0) <= 300 and "rescue" in e.details]
    others = [e for e in events if e.kind in CONVULSIVE and e is not status]
    assert all(60 <= e.duration_s <= 720 for e in others)
    # more on waking and falling asleep: at least half in 05:30-09:00 or 19:00-22:30
    hours = [int(e.time[11:13]) + int(e.time[14:16]) / 60 for e in others]
    around_sleep = [5.5 <= h <= 9.0 or 19.0 <= h <= 22.5 for h in hours]
    assert np.mean(around_sleep) > 0.5


def test_holiday_is_one_not_recorded_period_of_five_days(case):
    [gap] = [e for e in case.events if e.kind == "not recorded"]
    assert gap.time.startswith(diary.HOLIDAY[0]) and gap.duration_s == 5 * 86400
    assert "until" not in gap.details  # an absolute date the pseudonymised export would keep
    inside = [e for e in case.events if e is not gap and not _reported(_day(e))]
    assert inside == []
    assert diary.drawn_counts()[70:75].sum() > 0  # something drawn there was not logged


def test_truth_long_run_rate_matches_simulation_and_the_diary():
    """The analytic stationary rate of the contract's NB2 + Markov model equals a long
    simulation's (4000 x 365 days: Monte Carlo SE ~0.5 %), is 13-16 per 28 days, and the
    diary's observed rate lies in the central 95 % of 2000 simulated diaries like it."""
    rate = diary.mean_rate(**diary.TRUTH)
    assert 13.0 <= 28 * rate <= 16.0
    rng = np.random.default_rng(7)
    n = 4000
    one = np.ones(n)
    long = diary.simulate_days(one * 0.34, one * 0.8, one * 0.9, 365, rng)
    assert long.mean() == pytest.approx(rate, rel=0.02)
    # Poisson without clustering: the rate itself; alpha > 0 leaves the mean unchanged
    poisson = diary.simulate_days(one * 0.5, one * 0.0, one * 0.0, 365, rng)
    assert poisson.mean() == pytest.approx(0.5, rel=0.02)
    assert diary.mean_rate(0.5, 0.0, 0.0) == pytest.approx(0.5)
    like = diary.simulate_days(one[:2000] * 0.34, one[:2000] * 0.8, one[:2000] * 0.9, 183, rng)
    reported = np.array([_reported(date(2026, 6, 1) + timedelta(days=i)) for i in range(183)])
    rates = like[:, reported].mean(axis=1)
    observed = diary.drawn_counts()[reported].mean()
    low, high = np.percentile(rates, [2.5, 97.5])
    assert low <= observed <= high
    assert abs(observed / rate - 1.0) < 0.10


def test_contract_count_model_agrees_when_present():
    """Part MODEL's `mean_rate` gives the same long-run rate (skipped until it exists)."""
    model = pytest.importorskip("meditwin_twins.dravet_epilepsy.count_model")
    params = model.CountParams(rate=0.34, dispersion=0.8, cluster=0.9)
    assert model.mean_rate(params) == pytest.approx(diary.mean_rate(**diary.TRUTH), rel=1e-9)


def test_diary_days_through_the_diary_module_when_present(case):
    """Part DIARY's daily counts: the holiday missing, the convulsive days as drawn."""
    module = pytest.importorskip("meditwin_desktop.core.seizure_diary")
    days = module.daily_counts(case.events)  # the period: from the first to the last line
    assert days.start == date(2026, 6, 1) and days.days == 183 and days.reported_days == 178
    drawn = diary.drawn_counts().astype(float)
    holiday = ~np.array([_reported(days.start + timedelta(days=i)) for i in range(183)])
    assert np.isnan(days.convulsive[holiday]).all()
    assert np.array_equal(days.convulsive[~holiday], drawn[~holiday])
    assert len(days.status_events) == 1 and days.prolonged >= 3 and days.duplicates == 0


def test_eeg_overlaps_the_diary_myoclonic_seizure(case):
    [recording] = case.recordings
    assert recording.kind == "EEG" and recording.description == diary.EEG_DESCRIPTION
    assert recording.start == f"{diary.EEG_DATE}T{diary.EEG_START}"
    signal = read_recording(Path(recording.file))
    assert signal.channels == diary.EEG_CHANNELS and signal.sfreq == 256.0
    assert signal.duration_s == pytest.approx(600.0)
    assert signal.start == datetime.fromisoformat(recording.start)
    inside = [
        (e, (datetime.fromisoformat(e.time) - signal.start).total_seconds())
        for e in case.events
        if 0 <= (datetime.fromisoformat(e.time) - signal.start).total_seconds() <= 600
    ]
    [(event, onset)] = inside
    assert event.kind == "myoclonic" and onset == pytest.approx(diary.MYOCLONIC_S)
    fz = signal.data[signal.index("Fz")] * 1e6
    at = int(onset * 256)
    seizure = np.ptp(fz[at : at + 300])
    quiet = np.median([np.ptp(fz[i : i + 300]) for i in range(0, 150 * 256, 300)])
    assert seizure > 2.5 * quiet and seizure > 250.0
    for burst_onset, duration, _ in diary.BURSTS_S:  # the interictal discharges, generalised
        start, stop = int(burst_onset * 256), int((burst_onset + duration) * 256)
        assert np.ptp(fz[start:stop]) > 2.0 * quiet
        occipital = signal.data[signal.index("O1"), start:stop] * 1e6
        assert np.ptp(occipital) > 1.2 * quiet


def test_eeg_background_of_a_six_year_old(case):
    """Posterior rhythm at 8 Hz, occipital-dominant; more theta (4-7 Hz) than alpha at Fz;
    the discharges' repetition rate 3-4 Hz (their spectrum's low peak)."""
    signal = read_recording(Path(case.recordings[0].file))
    clean = slice(0, 40 * 256)  # before the first discharge
    freqs, psd = welch(signal.pick(["O1", "O2"]).data[:, clean], signal.sfreq)
    alpha = (freqs >= 6.5) & (freqs <= 13.0)
    assert freqs[alpha][np.argmax(psd.mean(axis=0)[alpha])] == pytest.approx(8.0, abs=0.5)
    _, fz = welch(signal.pick(["Fz"]).data[:, clean], signal.sfreq)
    assert psd.mean(axis=0)[freqs == 8.0] > 3 * fz[0][freqs == 8.0]
    theta = fz[0][(freqs >= 4.0) & (freqs < 7.0)].sum()
    assert theta > fz[0][(freqs >= 8.0) & (freqs < 13.0)].sum()
    onset, duration, freq = diary.BURSTS_S[4]  # the 2 s discharge at 3.4 Hz
    burst = signal.data[signal.index("Fz"), int(onset * 256) : int((onset + duration) * 256)]
    spectrum = np.abs(np.fft.rfft(burst * np.hanning(burst.size), 8 * 256))
    f = np.fft.rfftfreq(8 * 256, 1 / 256)
    band = (f >= 1.5) & (f <= 6.0)
    peak = f[band][np.argmax(spectrum[band])]
    assert 3.0 <= peak <= 4.0 and peak == pytest.approx(freq, abs=0.4)


def test_manifest_lists_the_recording_without_imaging():
    [patient] = [p for p in ensure_demo() if p.case == NAME]
    assert patient.dicom_dir is None and patient.labels_path is None and not patient.studies
    assert [p.name for p in patient.recordings] == [diary.EEG_FILE]
    assert patient.recordings[0].is_file()
