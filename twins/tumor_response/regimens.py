"""Kill-rate priors of the Claret tumour-growth-inhibition (TGI) model, per regimen.

Model (Claret et al., J Clin Oncol 2009;27:4103-4108):
    dSLD/dt = KL*SLD - KD*exp(-lambda*t)*E(t)*SLD
Here E(t) is the regimen's dose intensity (1 = the regimen's standard full-dose schedule,
rest weeks included, e.g. capecitabine 1250 mg/m2 bid days 1-14 q3w); KD is the kill rate
at E = 1, per day. Time in days (the paper's estimates are per week: divided by 7 here).

Only regimens for which a published TGI kill-rate estimate was found are listed. Regimens
looked for and NOT listed (no kill-rate estimate found in the sources we could read):
5-FU/leucovorin (Claret 2009 estimated one, but its value was not accessible to us),
FOLFOX, FOLFIRI, FOLFOX + bevacizumab, cetuximab. A switch to one of them cannot be
projected by this model; the twin must say so instead of guessing.

SOURCE CAVEAT (read before use): the Claret 2009 Table of estimates is behind the
publisher's paywall and is not quoted in any source we could reach. The capecitabine
numbers below are those carried by the BioModels entry MODEL1708310001 ("Claret2009 -
Predicting phase III overall survival in colorectal cancer", non-curated, cites Claret
2009): KL = 0.021, KD = 0.025, lambda = 0.053, read by us as per week (the paper's time
base). They were NOT checked against the paper; their time unit and the exposure scale of
KD (dose units) are not stated in what we could read. Treat them as unverified.
"""

from __future__ import annotations

from dataclasses import dataclass

WEEK = 7.0  # days

BIOMODELS_CLARET = (
    "BioModels MODEL1708310001 (non-curated SBML of Claret L, Girard P, Hoff PM, et al. "
    "J Clin Oncol 2009;27:4103-4108): KD = 0.025 /week, lambda = 0.053 /week; "
    "NOT verified against the paper's table (not accessible); exposure scale assumed "
    "E = 1 at the standard full-dose schedule"
)


@dataclass(frozen=True)
class Regimen:
    """A regimen's TGI kill-rate prior and where it comes from."""

    label: str
    kd_per_day: float  # kill rate at dose intensity 1
    kd_source: str
    lam_per_day: float | None  # resistance rate; None = use the model's population lambda
    notes: str


REGIMENS: dict[str, Regimen] = {
    "capecitabine": Regimen(
        label="Capecitabine 1250 mg/m2 bid, days 1-14 every 3 weeks",
        kd_per_day=0.025 / WEEK,
        kd_source=BIOMODELS_CLARET,
        lam_per_day=0.053 / WEEK,
        notes=(
            "Metastatic colorectal cancer, phase II (n = 34) in Claret 2009. Unverified "
            "secondary source (see module docstring)."
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
