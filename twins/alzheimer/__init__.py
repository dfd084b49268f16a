"""Alzheimer's disease course: where this patient is heading, and what an anti-amyloid therapy
would change (Leaspy-compatible disease course mapping; see README.md)."""

from __future__ import annotations

import numpy as np

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    ClinicalField,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Twin,
    TwinInputError,
    Uncertain,
    number,
    tr,
    view_of,
)

from . import model as _model
from .inputs import prepare
from .model import BUILT_IN, MILESTONES, simulate
from .personalization import personalize as _fit
from .treatment import CLARITY_AD, THERAPIES, TIME_SAVED, TRAILBLAZER
from .verification import VERIFICATION

__all__ = ["TWIN", "personalize", "prepare", "simulate"]

LEASPY = ("Schiratti JB et al. A Bayesian mixed-effects model to learn trajectories of changes "
          "from repeated manifold-valued observations. J Mach Learn Res 2017;18:1-33; Koval I et "
          "al. AD Course Map charts Alzheimer's disease progression. Sci Rep 2021;11:8020 "
          "(Leaspy, ARAMIS lab, ICM/Inria)")  # fmt: skip
_TODAY = "2026-01-01"  # placeholder default of the date: personalised to the last visit
TREATMENTS = ("none", *THERAPIES)

CLINICAL_FIELDS = (
    ClinicalField("apoe_genotype", N_("APOE genotype"), N_("Examination and genetics"),
                  kind="choice", choices=("e2/e2", "e2/e3", "e2/e4", "e3/e3", "e3/e4", "e4/e4"),
                  help=N_("e4 homozygotes have the highest risk of ARIA on anti-amyloid "
                  "antibodies")),
    ClinicalField("amyloid_status", N_("Amyloid status"), N_("Examination and genetics"),
                  kind="choice", choices=(N_("confirmed (PET)"), N_("confirmed (CSF)"),
                                          N_("negative"), N_("not tested")),
                  help=N_("Anti-amyloid therapy needs amyloid confirmed by PET or CSF")),
    ClinicalField("anticoagulant", N_("On anticoagulants"), N_("History"), kind="flag",
                  help=N_("Also detected from the medications list")),
)  # fmt: skip

PARAMETERS = (
    Parameter(
        "treatment", N_("Anti-amyloid therapy"), "", "none", choices=TREATMENTS,
        choice_labels=(N_("no anti-amyloid therapy"), *(t.label for t in THERAPIES.values())),
        short_labels=("no treatment", *THERAPIES), key=1, source=f"{CLARITY_AD}; {TRAILBLAZER}",
        help=N_("Started on the date below; modelled as a slowing of the disease course"),
    ),
    Parameter("treatment_start", N_("Start of the therapy"), "", _TODAY, value_type="date", key=2,
              source="case (the last visit's date)",
              help=N_("Not before the last visit")),
    Parameter(
        "effect_pct", N_("Slowing of the disease course"), "%", 0.0, 0.0, 90.0, decimals=0,
        variant_of="treatment", variant_defaults=tuple(
            (code, t.effect_pct) for code, t in THERAPIES.items()),
        source=f"{CLARITY_AD}; {TRAILBLAZER}",
        help=N_("The trial's relative slowing of decline (lecanemab 27 % on CDR-SB at 18 months; "
        "donanemab 35 % on iADRS at 76 weeks, low/medium tau), assumed to persist"),
    ),
    Parameter("horizon_y", N_("Horizon"), N_("years"), 5.0, 1.0, 15.0, decimals=1,
              source="clinical choice", short_labels=("horizon",),
              help=N_("How far after the last visit the course is projected")),
    Parameter(
        "milestone_feature", N_("Milestone"), "", "MMSE", choices=tuple(MILESTONES),
        choice_labels=(N_("MMSE at or below a threshold"), N_("CDR-SB at or above a threshold"),
                       N_("FAQ at or above a threshold")),
        source="; ".join(source for _, source in MILESTONES.values()),
        help=N_("The score whose threshold marks the milestone (years to milestone)"),
    ),
    Parameter(
        "milestone_threshold", N_("Milestone threshold"), N_("points"), 20.0, 0.0, 85.0,
        decimals=1,
        variant_of="milestone_feature",
        variant_defaults=(("MMSE", 20.0), ("CDR-SB", 4.5), ("FAQ", 9.0)),
        source="; ".join(source for _, source in MILESTONES.values()),
        help=N_("MMSE 20 or less: moderate AD (NICE); CDR-SB 4.5: mild dementia; FAQ 9: "
                "impairment"),
    ),
    Parameter(
        "onset_shift_y", N_("Shift of the estimated onset age"), N_("years"), 0.0, -15.0, 15.0,
        decimals=1, source="the personalisation's Laplace SD (case)",
        help=N_("Added to the personalised onset age (tau): 0 is the fitted course; a run with "
        "uncertainty samples it within the fit's standard deviation"),
    ),
    Parameter(
        "pace_factor", N_("Factor on the progression pace"), "x", 1.0, 0.2, 5.0, decimals=2,
        source="the personalisation's Laplace SD (case)",
        help=N_("Multiplies the personalised pace (e^xi): 1 is the fitted course; a run with "
        "uncertainty samples it within the fit's standard deviation"),
    ),
    Parameter(
        "model_file", N_("Disease-course model"), "", BUILT_IN, value_type="file",
        source=LEASPY,
        help=N_("A Leaspy logistic model (the JSON written by Leaspy's save); the built-in one "
        "is Leaspy's example model, fitted on synthetic data: a demonstration only"),
    ),
)  # fmt: skip

OUTCOMES = (
    Outcome("estimated_onset_age_y", N_("Estimated onset age (tau)"), N_("years"), precision=1,
            help=N_("The age at which the patient reaches the population's reference stage "
            "(Leaspy's time shift); the same in every scenario")),
    Outcome("progression_pace", N_("Progression pace (e^xi)"), "", precision=2,
            help=N_("1 = the population's average pace; 2 = twice as fast")),
    Outcome("mmse_at_horizon", N_("MMSE at the horizon"), N_("points"), better="higher",
            precision=1, resolution=1.5, absent=N_("not in the model"),
            help=N_("Predicted MMSE (0-30); differences under 1.5 points are below the score's "
            "test-retest noise")),
    Outcome("cdr_sb_at_horizon", N_("CDR-SB at the horizon"), N_("points"), better="lower",
            precision=1, resolution=0.5, absent=N_("not in the model")),
    Outcome("adas_cog13_at_horizon", N_("ADAS-Cog 13 at the horizon"), N_("points"),
            better="lower", precision=1, resolution=2.0, absent=N_("not in the model")),
    Outcome("years_to_milestone", N_("Years to the milestone"), N_("years"), better="higher",
            precision=1, resolution=0.25, absent=N_("not within the horizon"),
            absent_is_best=True,
            help=N_("From the last visit until the chosen score crosses its threshold")),
    Outcome("time_gained_y", N_("Time gained against no treatment"), N_("years"),
            better="higher", precision=2, resolution=0.1,
            help=N_("How much later the untreated course would reach this scenario's stage at "
            "the horizon (Dickson SP et al. 'Time saved' as a demonstration of clinical "
            "meaningfulness. J Prev Alzheimers Dis 2023;10:595-599)")),
)  # fmt: skip


# What a run with uncertainty samples (README, Uncertainty): the personalised course within
# the fit's Laplace SDs (onset and pace, each alone: their correlation, 0.35 on the demo, is
# kept only by the curves' own band) and the trial effect within its confidence interval.
# Not the therapy, its start, the horizon or the milestone (scenario choices).
_PRIOR = ("the built-in model's population prior (tau SD 8.4 y, xi SD 0.61), when the case "
          "gives no fit")  # fmt: skip
UNCERTAIN = (
    Uncertain("onset_shift_y", "normal", sd=8.4, from_case=True,
              source=f"the personalisation's Laplace SD of tau (case); else {_PRIOR}"),
    Uncertain("pace_factor", "lognormal", sd=0.61, from_case=True,
              source=f"the personalisation's Laplace SD of xi = log pace (case); else {_PRIOR}"),
    Uncertain("effect_pct", "normal", relative_sd=0.25,
              source="CLARITY-AD (van Dyck 2023): CDR-SB difference -0.45 (95 % CI -0.67 to "
              "-0.23) on a placebo decline of 1.66, a 27 % slowing (14-40 %): SD 25 % of the "
              "effect; TRAILBLAZER-ALZ 2 (Sims 2023): iADRS 35 %, CI about 20-50 %, a similar "
              "share. A scenario without therapy has no effect to vary"),
)  # fmt: skip


def _fit_sds(view: CaseView) -> dict[str, Personalized]:
    """The built-in model's fit to the case: the SDs of tau and xi (what a run with
    uncertainty samples the onset shift and pace factor within); none when it cannot fit."""
    try:
        model, _ = _model.model_of({})
        found, _, _ = _model._feature_values(model, prepare(view)["measurements"])
        individual = _fit(model, _model.observations(model, found)[0]) if found else None
    except (TwinInputError, ValueError, np.linalg.LinAlgError):
        return {}
    if individual is None:
        return {}
    tau_sd, xi_sd = individual.sd("tau"), individual.sd("xi")
    why = tr("the fitted course (no shift); the fit's SD {sd}, built-in model")
    return {
        "onset_shift_y": Personalized(0.0, why.format(sd=number(tau_sd, 2)), sd=tau_sd),
        "pace_factor": Personalized(1.0, why.format(sd=number(xi_sd, 2)), sd=xi_sd),
    }


def personalize(view: CaseView) -> dict[str, Personalized]:
    """The therapy starts at the last visit by default; the provenance says what was measured;
    the fit's SDs of the onset and pace (for a run with uncertainty)."""
    view = view_of(view)
    inputs = prepare(view)
    rows = inputs["measurements"]
    last = inputs["last_visit"]
    dates = sorted({row["date"][:10] for row in rows})
    names = sorted({row["name"] for row in rows})
    visits = (tr("{count} visit date(s) {first} to {last}").format(
        count=len(dates), first=dates[0], last=dates[-1]) if dates else tr("no visit"))
    why = tr("the last visit's date; {visits}; measured: {names}").format(
        visits=visits, names=", ".join(names) or tr("nothing"))
    return {
        "treatment_start": Personalized(last or _TODAY, why),
        **_fit_sds(view),
    }  # fmt: skip


TWIN = Twin(
    id="alzheimer",
    title=N_("Alzheimer's disease course"),
    specialty=N_("neurology"),
    version="1.1",
    question=N_("Where is this patient's cognitive decline heading, and what would an "
    "anti-amyloid therapy (lecanemab, donanemab) change?"),
    references=(LEASPY, CLARITY_AD, TRAILBLAZER, TIME_SAVED),
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    requirements=(
        Requirement(
            "measurement",
            "MMSE",
            N_("(the visits' scores, dated; a disease course is "
            "charted from the MMSE and whatever else the model has)"),
        ),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    clinical_fields=CLINICAL_FIELDS,
    uncertain=UNCERTAIN,
    limitations=(
        N_("The built-in model is Leaspy's example, fitted on synthetic data: a demonstration; "
        "a site loads its own Leaspy model fitted on its cohort."),
        N_("A therapy is a persistent relative slowing of the whole disease course (the trials "
        "measured 18 months); no ARIA, no dose, no stopping rule."),
        N_("Bands are the personalised parameters' uncertainty (Laplace: about 15-30 % narrower "
        "than the exact posterior, personalization.py), not the spread of "
        "future test scores."),
        N_("Features are matched to measurements by name; scaling to clinical units is the model "
        "file's (a linear map of the scale's ends)."),
    ),
    verification=VERIFICATION,
)
