"""Anti-amyloid therapy as a slowing of the patient's disease clock, and who the trials
enrolled (eligibility warnings).

A therapy started at age `start` with a relative effect r slows the reparametrised time
(the disease clock, Leaspy's rt = e^xi (t - tau)) by r from then on:

    rt(t) = e^xi (t - tau)                                  t <= start
    rt(t) = e^xi (start - tau) + (1 - r) e^xi (t - start)   t >  start

so every feature's decline from `start` is that of the untreated course over (1 - r) of the
time: to first order a decline slowed by r, the trials' "% slowing" read as a slower
disease (Dickson et al. 2023's "time saved" reading of the same trials). The effect is
assumed to persist beyond the trials' 18 months (an assumption: the trials measured 18
months; open-label extensions are not randomised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meditwin_desktop.core.twin import N_, number, tr

CLARITY_AD = ("van Dyck CH et al. Lecanemab in early Alzheimer's disease (CLARITY-AD). N Engl J "
              "Med 2023;388:9-21: CDR-SB change at 18 months 1.21 vs 1.66 with placebo, a 27 % "
              "slowing")  # fmt: skip
TRAILBLAZER = ("Sims JR et al. Donanemab in early symptomatic Alzheimer disease (TRAILBLAZER-ALZ "
               "2). JAMA 2023;330:512-527: iADRS decline slowed by 35 % at 76 weeks in the "
               "low/medium tau population (22 % in the combined population)")  # fmt: skip
TIME_SAVED = ("Dickson SP et al. 'Time saved' as a demonstration of clinical meaningfulness. "
              "J Prev Alzheimers Dis 2023;10:595-599")  # fmt: skip
AUR = ("Cummings J et al. Lecanemab: appropriate use recommendations. J Prev Alzheimers Dis "
       "2023;10:362-377")  # fmt: skip


@dataclass(frozen=True)
class Therapy:
    """A therapy the twin offers: its effect and the trial's enrolment."""

    code: str
    label: str
    effect_pct: float
    effect_source: str
    mmse_range: tuple[float, float]  # the trial's MMSE at screening
    trial: str


THERAPIES = {
    "lecanemab": Therapy("lecanemab", N_("lecanemab (10 mg/kg every 2 weeks)"), 27.0, CLARITY_AD,
                         (22.0, 30.0), "CLARITY-AD"),
    "donanemab": Therapy("donanemab", N_("donanemab (monthly, stopped at amyloid clearance)"),
                         35.0, TRAILBLAZER, (20.0, 28.0), "TRAILBLAZER-ALZ 2"),
}  # fmt: skip


def disease_clock(
    ages: np.ndarray, xi: float, tau: float, start: float | None = None, effect: float = 0.0
) -> np.ndarray:
    """Leaspy's reparametrised time rt at `ages`, slowed by `effect` (0-1) from `start`."""
    ages = np.asarray(ages, dtype=float)
    pace = np.exp(xi)
    if start is None or effect == 0.0:
        return pace * (ages - tau)
    after = np.maximum(ages - start, 0.0)
    return pace * (ages - tau) - effect * pace * after


def time_gained(horizon_age: float, start: float | None, effect: float) -> float:
    """Years by which the treated disease clock lags the untreated one at `horizon_age`:
    the untreated course reaches the treated stage r (T - start) years earlier."""
    if start is None or effect == 0.0:
        return 0.0
    return float(effect * max(horizon_age - start, 0.0))


def _g(value: float) -> str:
    """`value` as `{:g}` writes it, with the language's decimal separator."""
    text = f"{value:g}"
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])


def eligibility(
    therapy: Therapy,
    *,
    last_mmse: tuple[str, float] | None,
    amyloid_status: str,
    amyloid_pet: list[tuple[str, float]],
    apoe: str,
    anticoagulated: bool,
) -> list[str]:
    """Warnings on who the trial enrolled and the appropriate use recommendations."""
    out = []
    if amyloid_status.startswith("confirmed"):
        pass
    elif amyloid_status == "negative":
        out.append(tr("{therapy}: amyloid is negative in the case; the trials enrolled "
                      "amyloid-positive patients only (not eligible).").format(
            therapy=therapy.code))  # fmt: skip
    else:
        pet = ""
        if amyloid_pet:
            pet = tr(" (amyloid PET {value} CL on {date})").format(
                value=_g(amyloid_pet[-1][1]), date=amyloid_pet[-1][0])  # fmt: skip
        out.append(tr("{therapy}: amyloid is not recorded as confirmed{pet}; the trials "
                      "needed amyloid confirmed by PET or CSF: record the amyloid status in the "
                      "clinical form.").format(therapy=therapy.code, pet=pet))  # fmt: skip
    low, high = therapy.mmse_range
    if last_mmse is None:
        out.append(tr("{therapy}: no MMSE (in points) in the case; {trial} enrolled MMSE "
                      "{low}-{high}.").format(therapy=therapy.code, trial=therapy.trial,
                                              low=_g(low), high=_g(high)))  # fmt: skip
    elif not low <= last_mmse[1] <= high:
        out.append(tr("{therapy}: the last MMSE ({value} on {date}) is outside {trial}'s "
                      "range {low}-{high}: the trial's effect may not apply.").format(
            therapy=therapy.code, value=_g(last_mmse[1]), date=last_mmse[0],
            trial=therapy.trial, low=_g(low), high=_g(high)))  # fmt: skip
    if apoe.replace(" ", "").lower() in ("e4/e4", "ε4/ε4", "4/4"):
        out.append(tr("{therapy}: APOE e4 homozygous: the highest risk of amyloid-related "
                      "imaging abnormalities (ARIA-E in 32.6 % of homozygotes on lecanemab, "
                      "van Dyck 2023; 40.6 % on donanemab, Sims 2023); genotype-informed "
                      "consent and MRI monitoring ({source}).").format(
            therapy=therapy.code, source=AUR))  # fmt: skip
    elif not apoe:
        out.append(tr("{therapy}: APOE genotype not recorded; the risk of ARIA depends on "
                      "it (test before treatment).").format(therapy=therapy.code))  # fmt: skip
    if anticoagulated:
        out.append(tr("{therapy}: the patient takes an anticoagulant: the appropriate use "
                      "recommendations advise against anti-amyloid antibodies (risk of "
                      "intracerebral haemorrhage with ARIA-H) ({source}).").format(
            therapy=therapy.code, source=AUR))  # fmt: skip
    return out
