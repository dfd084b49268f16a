"""Tumour response to therapy: RECIST 1.1 and tumour dynamics from serial scans (see
README.md)."""

from __future__ import annotations

import datetime as dt

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Twin,
    Uncertain,
    tr,
    view_of,
)

from .inputs import LONGEST, prepare
from .model import CATEGORIES, simulate
from .recist import Lesion, assess
from .regimens import REGIMENS

try:
    from .verification import VERIFICATION
except ImportError:  # pragma: no cover - written last
    VERIFICATION = ()

__all__ = ["TWIN", "personalize", "prepare", "simulate"]

STEIN = ("Stein WD et al., Clin Cancer Res 2011;17:907-917; Wilkerson J et al., Lancet Oncol "
         "2017;18:143-154 (regression-growth model, R package tumgr)")  # fmt: skip
CLARET = "Claret L et al., J Clin Oncol 2009;27:4103-4108 (tumour-growth-inhibition model)"
RECIST = "Eisenhauer EA et al., Eur J Cancer 2009;45:228-247 (RECIST 1.1)"
TARGETS = ("none", "1", "2", "3", "4", "5")
_TODAY = "2026-01-01"  # placeholder default of the date parameters: personalised to the case


OXNARD = ("Oxnard GR et al., J Clin Oncol 2011;29:3114-3119: lung tumours measured on two CT "
          "scans 15 minutes apart, 84 % of diameter changes within +-10 % (SD about 7 %), from "
          "-23 % to +31 %; each lesion of a scan taken to err alike (one reader, one scan)")


def _error(name: str, label: str) -> Parameter:
    return Parameter(name, label, "%", 0.0, -40.0, 40.0, decimals=0, source=OXNARD,
                     help=N_("Every target lesion's diameter on that scan made this much larger "
                     "(negative: smaller): the scan-to-scan measurement noise a run with "
                     "uncertainty samples; 0 takes the measurements as they are"))  # fmt: skip


def _date(name: str, label: str, help: str, key: int = 0) -> Parameter:
    return Parameter(name, label, "", _TODAY, help=help, source="case (the last scan's date)",
                     value_type="date", key=key)  # fmt: skip


PARAMETERS = (
    Parameter(
        "therapy", N_("Systemic therapy"), "", "continue", choices=("continue", "stop", "switch"),
        choice_labels=(N_("continue the current therapy"), N_("treatment holiday (stop)"),
                       N_("switch to another regimen")),
        short_labels=("continue", "holiday", "switch"),
        help=N_("From the date of the change: continue as recorded in Medications, stop all, or "
        "stop and start the new regimen"), source="scenario", key=1,
    ),
    _date("change_date", N_("Date of the change"),
          N_("When the holiday or the switch starts (not before the last scan)"), key=2),
    Parameter(
        "new_regimen", N_("New regimen"), "", next(iter(REGIMENS)), choices=tuple(REGIMENS),
        choice_labels=tuple(r.label for r in REGIMENS.values()),
        help=N_("Only regimens with a published kill-rate prior are offered (see its source)"),
        source="; ".join(f"{code}: {r.kd_source}" for code, r in REGIMENS.items()), key=3,
    ),
    Parameter(
        "local_lesion", N_("Local treatment of"), "", "none", choices=TARGETS,
        choice_labels=(N_("no local treatment"), N_("target lesion 1"), N_("target lesion 2"),
                       N_("target lesion 3"), N_("target lesion 4"), N_("target lesion 5")),
        short_labels=("", *(f"ablate T{n}" for n in TARGETS[1:])),
        help=N_("Ablation, resection or radiotherapy of one target lesion (numbered as in the "
        "RECIST table: the baseline provenance lists them)"), source="scenario", key=4,
    ),
    _date("local_date", N_("Date of the local treatment"),
          N_("Its diameter leaves the sum from then")),
    Parameter(
        "horizon_days", N_("Horizon"), "days", 91.0, 14.0, 1095.0, decimals=0,
        help=N_("How far after the last scan the projection goes"), source="clinical choice",
        short_labels=("horizon",),
    ),
    Parameter(
        "model", N_("Projection model"), "", "stein", choices=("stein", "tgi"),
        choice_labels=(N_("Stein regression-growth"), N_("Claret TGI")),
        help=N_("Stein's family is fitted to the patient's own scans (the model chosen as tumgr "
        "does); TGI leans on a population prior and needs the treatment periods. Stein's g "
        "and d are reported whichever projects"),
        source=f"{STEIN}; {CLARET}",
    ),
    _error("baseline_scan_error_pct", N_("Measurement error, baseline scan")),
    _error("last_scan_error_pct", N_("Measurement error, last scan")),
)  # fmt: skip

# What a run with uncertainty samples (README, Uncertainty): the measurement noise of the
# two scans RECIST and the projection lean on most (the baseline sets the -30 % and the
# scaling, the last the category and the projection's start). The fitted parameters' own
# uncertainty is already the curves' band. Not the therapy, dates or model (scenario choices).
UNCERTAIN = (
    Uncertain("baseline_scan_error_pct", "normal", sd=7.0, source=OXNARD),
    Uncertain("last_scan_error_pct", "normal", sd=7.0, source=OXNARD),
)  # fmt: skip

OUTCOMES = (
    Outcome("growth_rate_g_per_day", N_("Growth rate g"), "/day", precision=4,
            help=N_("Stein regression-growth fit of the measured SLD (the same in every "
            "scenario): higher g, shorter survival (Stein 2011)")),
    Outcome("decay_rate_d_per_day", N_("Regression rate d"), "/day", precision=4,
            help=N_("Stein regression-growth fit of the measured SLD (the same in every "
                    "scenario)")),
    Outcome("sld_mm_at_horizon", N_("SLD at the horizon"), "mm", better="lower", precision=0,
            resolution=5.0, help=N_("Projected sum of target-lesion diameters (median); a "
            "difference under 5 mm is RECIST's measurement noise")),
    Outcome("sld_change_pct_at_horizon", N_("SLD change from baseline at the horizon"), "%",
            better="lower", precision=0, resolution=10.0),
    Outcome("time_to_progression_days", N_("Time to RECIST progression"), "days",
            better="higher", precision=0, resolution=14.0,
            absent=N_("not within the horizon"),
            help=N_("Days after the last scan until the projected SLD meets RECIST PD (median)")),
    Outcome("nadir_sld_mm", N_("Nadir SLD (measured)"), "mm", precision=0),
    Outcome("recist_last", N_("RECIST at the last scan"), "", categories=CATEGORIES,
            help=N_("RECIST 1.1 category of the last scan, the rule that decided it in the "
            "RECIST table")),
)  # fmt: skip


def personalize(view: CaseView) -> dict[str, Personalized]:
    """Dates from the last scan; the target lesions listed in the local-treatment
    provenance (their numbers)."""
    view = view_of(view)
    inputs = prepare(view)
    dates = inputs["dates"]
    last = dates[-1] if dates else dt.date.today().isoformat()
    out = {
        "change_date": Personalized(last, tr("the last scan's date")),
        "local_date": Personalized(last, tr("the last scan's date")),
    }
    if dates:
        lesions = [Lesion(n, i["organ"], i["node"], dict(i["values"]))
                   for n, i in inputs["lesions"].items()]  # fmt: skip
        targets = assess(lesions, dates).targets
        numbered = "; ".join(f"{n} = {name}" for n, name in enumerate(targets, 1))
        out["local_lesion"] = Personalized(
            "none", tr("target lesions: {numbered}").format(numbered=numbered)
        )
    return out


TWIN = Twin(
    id="tumor_response",
    title=N_("Tumour response to therapy"),
    specialty="oncology",
    version="1.1",
    question=N_("How is this patient's disease responding, and what happens if the therapy is "
    "continued, paused, switched, or a lesion treated locally?"),
    references=(RECIST, STEIN, CLARET),
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    requirements=(
        Requirement(
            "measurement",
            LONGEST,
            N_("of the target lesions (Follow-up workspace, Measurements view or a CSV file)"),
        ),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    uncertain=UNCERTAIN,
    limitations=(
        N_("Sum of diameters only: no volumes, no non-target lesion sizes (only their "
        "unequivocal progression, as an event)."),
        N_("The Claret TGI population values come from a secondary source, not checked against "
        "the paper's table (see regimens.py); the Stein prior is a prostate-cancer surrogate."),
        N_("Local treatment is assumed complete (the lesion's diameter leaves the sum, no "
        "local recurrence)."),
        N_("Bands are the fitted parameters' 90 % interval, not the spread of future scans."),
    ),
    verification=VERIFICATION,
)
