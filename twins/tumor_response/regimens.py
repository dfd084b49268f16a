"""Kill-rate priors of the Claret tumour-growth-inhibition (TGI) model, per regimen.

Model (Claret L, Girard P, Hoff PM, et al. J Clin Oncol 2009;27:4103-4108):
    dSLD/dt = KL*SLD - KD*exp(-lambda*t)*E(t)*SLD
Claret's exposure E was the daily dose in grams (KD in g^-1 week^-1). Here E(t) is the
regimen's dose intensity: 1 = the regimen's standard full-dose schedule averaged over its
cycle (rest days included), so `kd_per_day` = KD * (cycle-averaged daily dose, g) / 7 at a
body-surface area of 1.8 m2. Averaging over the cycle is checked against the explicit
on/off schedule in tests/test_tgi.py.

Where the numbers come from (read this before trusting them):
- The paper's table of estimates is behind the publisher's paywall and was not quoted in
  any source we could reach; every number below is from a SECONDARY source, named in
  `kd_source`, none checked against the paper itself.
- 5-FU: PumasAI-Labs/Pumas-NLME-Handson-2025, Day2/03-Solutions/TGI_model/
  TGI_model_solution.jl (commit a419ac2e), a teaching solution that states it
  "reproduce[s] the model for FU Phase III" of Claret 2009 (PubMed 19636014): KL = 0.015
  week^-1, KD = 0.058 g^-1 week^-1, lambda = 0.042 week^-1, IIV variances 0.556 / 0.540 /
  0.450 (KL / KD / lambda, log scale), additive residual SD 14.9 mm; exposure "daily dose"
  in g; regimen 5-FU 425 mg/m2 days 1-5 every 4 weeks (the Mayo-type bolus schedule).
- Capecitabine is NOT listed. The only number we found is in BioModels MODEL1708310001
  ("Claret2009 - Predicting phase III overall survival in colorectal cancer", NON-CURATED)
  as quoted by a third-party review of that entry: KL = 0.021, KD = 0.025, lambda = 0.053,
  with no units and no exposure scale. Read as per week and per g of daily dose (the 5-FU
  source's metric; 1250 mg/m2 bid days 1-14 q3w = 3.0 g/day cycle-averaged at 1.8 m2) the
  typical patient would shrink by ~50 % at the nadir, read as per unit of standard dose it
  would not shrink at all: the scale is unknown, so no kill rate is given.

Other regimens looked for and NOT listed (no TGI kill-rate estimate found in a source we
could read): FOLFOX, FOLFIRI, FOLFOX + bevacizumab, cetuximab. A switch to one of them cannot be
projected by this model; the twin must say so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from meditwin_desktop.core.twin import N_

WEEK = 7.0  # days
BSA_M2 = 1.8  # body-surface area used to turn mg/m2 into g (as the 5-FU source does)

PUMAS_CLARET_5FU = (
    "Claret 2009 (J Clin Oncol 27:4103) 5-FU phase III TGI model as reproduced in "
    "PumasAI-Labs/Pumas-NLME-Handson-2025 Day2/03-Solutions/TGI_model/TGI_model_solution.jl "
    "(secondary source, not checked against the paper)"
)

# Cycle-averaged daily doses (g/day) at BSA 1.8 m2.
FU_MAYO_G_PER_DAY = 0.425 * BSA_M2 * 5 / 28  # 425 mg/m2 days 1-5 q4w


@dataclass(frozen=True)
class Regimen:
    """A regimen's TGI kill-rate prior and where it comes from."""

    label: str
    kd_per_day: float  # kill rate at dose intensity 1 (standard schedule, cycle-averaged)
    kd_source: str
    lam_per_day: float | None  # resistance rate; None = use the model's population lambda
    notes: str


REGIMENS: dict[str, Regimen] = {
    "5-FU": Regimen(
        label=N_("5-FU 425 mg/m2 days 1-5 every 4 weeks"),
        kd_per_day=0.058 * FU_MAYO_G_PER_DAY / WEEK,
        kd_source=PUMAS_CLARET_5FU,
        lam_per_day=0.042 / WEEK,
        notes=N_(
            "Metastatic colorectal cancer, historical phase III data (n = 252) in Claret "
            "2009. KD = 0.058 g^-1 week^-1 times the cycle-averaged daily dose at 1.8 m2."
        ),
    ),
}


def find_regimen(name: str) -> Regimen | None:
    """The regimen whose code matches `name` (case-insensitive, trimmed), else None."""
    key = name.strip().casefold()
    for code, regimen in REGIMENS.items():
        if code.casefold() == key:
            return regimen
    return None
