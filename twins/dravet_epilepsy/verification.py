"""Verification cases of the Dravet twin, run by `meditwin verify` on an installation:

- virtual trials: the twin's effects applied to simulated cohorts with each pivotal trial's
  inclusion criterion and baseline reproduce the trial's median reduction and responder rates
  (virtual_trials.py: tolerances are two standard errors of the trial's own sampling error);
- the seizure-count model: parameter recovery, 80 % interval coverage, the long-run rate's
  closed form, a short diary refused (count_checks.py);
- the diary read as days: time zones and DST nights, repeats, clusters logged with a count,
  unknown against seizure-free days (`core.seizure_diary.daily_counts`, which the twin reads).

The tests beside the twin run the same functions, coarser where they are slow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import VerificationCase, daily_counts

from . import count_checks
from .virtual_trials import verification_cases as virtual_trial_cases

PROPERTY = "a property the method must have (no published number: see count_checks.py)"
DIARY = "the diary's rules (core/seizure_diary.py; README 'The diary')"


@dataclass(frozen=True)
class _Entry:
    """A diary line as the case holds it."""

    time: str
    kind: str
    duration_s: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""


# (name, entries, daily_counts arguments, expected convulsive counts per day; NaN = missing)
DIARY_CASES: tuple[tuple[str, tuple[_Entry, ...], dict[str, Any], tuple[float, ...]], ...] = (
    ("DST fall-back night: 02:30 twice is two seizures",
     (_Entry("2024-10-27T02:30:00+02:00", "GTC"), _Entry("2024-10-27T02:30:00+01:00", "GTC"),
      _Entry("2024-10-28T08:00:00+01:00", "tonic")),
     {"tz": "Europe/Paris"}, (2.0, 1.0)),
    ("DST spring-forward night: a UTC time moves to the next day",
     (_Entry("2024-03-30T23:30:00Z", "GTC"), _Entry("2024-03-31T03:15:00+02:00", "clonic")),
     {"tz": "Europe/Paris"}, (2.0,)),
    ("A repeated line is counted once",
     (_Entry("2024-06-01T08:00:00", "GTC"), _Entry("2024-06-01T08:00:00", "GTC"),
      _Entry("2024-06-02T08:00:00", "tonic")),
     {}, (1.0, 1.0)),
    ("A cluster logged as one line with a count",
     (_Entry("2024-06-01T06:00:00", "GTC", details={"count": 4}),
      _Entry("2024-06-03T06:00:00", "myoclonic")),
     {}, (4.0, 0.0, 0.0)),
    ("Days without an entry: seizure-free",
     (_Entry("2024-06-01T08:00:00", "GTC"), _Entry("2024-06-03", "no seizure"),
      _Entry("2024-06-05T08:00:00", "GTC")),
     {"unrecorded_days": "seizure-free"}, (1.0, 0.0, 0.0, 0.0, 1.0)),
    ("Days without an entry: unknown",
     (_Entry("2024-06-01T08:00:00", "GTC"), _Entry("2024-06-03", "no seizure"),
      _Entry("2024-06-05T08:00:00", "GTC")),
     {"unrecorded_days": "unknown"}, (1.0, np.nan, 0.0, np.nan, 1.0)),
    ("A 'not recorded' period is missing, not seizure-free",
     (_Entry("2024-06-01T08:00:00", "GTC"),
      _Entry("2024-06-02T00:00:00", "not recorded", 2 * 86400.0),
      _Entry("2024-06-05T08:00:00", "GTC")),
     {}, (1.0, np.nan, np.nan, 0.0, 1.0)),
)  # fmt: skip


def diary_case_error(index: int) -> float:
    """Days whose convulsive count differs from the expected one (NaN must match NaN)."""
    _name, entries, arguments, expected = DIARY_CASES[index]
    days = daily_counts(entries, **arguments)
    got, want = np.asarray(days.convulsive, float), np.asarray(expected, float)
    if got.shape != want.shape:
        return float(abs(len(got) - len(want)) + len(want))
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    return float(np.sum(~same))


VERIFICATION = (
    *virtual_trial_cases(),
    VerificationCase(
        "Count model: recovery of the rate (1-year diaries)", "observed / predicted median "
        "relative error", "", 1.0, 0.35, PROPERTY,
        partial(count_checks.recovery_error_ratio, "rate"),
    ),
    VerificationCase(
        "Count model: recovery of the over-dispersion (1-year diaries)", "observed / predicted "
        "median relative error", "", 1.0, 0.35, PROPERTY,
        partial(count_checks.recovery_error_ratio, "dispersion"),
    ),
    VerificationCase(
        "Count model: 80 % interval of the mean rate covers the truth", "coverage over 200 "
        "diaries", "", 0.80, count_checks.binomial_tolerance(200), PROPERTY,
        partial(count_checks.coverage, "mean_rate", 200), heavy=True,
    ),
    VerificationCase(
        "Count model: 80 % interval coverage with 20 % of days missing", "coverage over 200 "
        "diaries", "", 0.80, count_checks.binomial_tolerance(200), PROPERTY,
        partial(count_checks.coverage, "mean_rate", 200, missing_share=0.2), heavy=True,
    ),
    VerificationCase(
        "Count model: long-run rate, closed form against simulation", "z", "", 0.0, 4.0,
        "the two-state Markov chain's stationary mean (count_model.mean_rate)",
        count_checks.mean_rate_simulation_z,
    ),
    VerificationCase(
        "Count model: a 27-day diary is refused", "refused", "", 1.0, 0.0,
        "at least 28 reported days (count_model.MIN_REPORTED_DAYS)",
        partial(count_checks.refuses_short_diary, 27),
    ),
    *(VerificationCase(f"Diary: {name}", "days wrong", "days", 0.0, 0.0, DIARY,
                       partial(diary_case_error, n))
      for n, (name, *_rest) in enumerate(DIARY_CASES)),
)  # fmt: skip
