"""Dravet syndrome: which add-on antiseizure therapy for this child, from the seizure diary
(personalised seizure-count model + trial-calibrated drug effects + safety rules; README.md)."""

from __future__ import annotations

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    ClinicalField,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Target,
    Twin,
    Uncertain,
    tr,
    view_of,
)

from .inputs import UNRECORDED, prepare
from .model import simulate
from .rules import CONSENSUS, NO_ADD_ON, THERAPIES
from .trials import ARMS, citation
from .verification import VERIFICATION

__all__ = ["TWIN", "personalize", "prepare", "simulate"]


COUNT_MODEL = ("Negative binomial daily seizure counts with a Markov (clustering) term: "
               "Troconiz IF et al. J Pharmacokinet Pharmacodyn 2009;36:461-477; Kim et al. "
               "J Clin Pharmacol 2012;52:880-892 (count_model.py)")  # fmt: skip
ADD_ONS = tuple(code for code, therapy in THERAPIES.items() if therapy.add_on)
ECHO = (N_("normal"), N_("valvular heart disease"), N_("pulmonary arterial hypertension"),
        N_("not done"))

CLINICAL_FIELDS = (
    ClinicalField("scn1a_variant", N_("SCN1A variant"), N_("Examination and genetics"),
                  kind="text",
                  help=N_("e.g. c.2134C>T p.(Arg712*), de novo, pathogenic")),
    ClinicalField("echocardiogram", N_("Last echocardiogram"), N_("Examination and genetics"),
                  kind="choice", choices=ECHO,
                  help=N_("Fenfluramine needs an echocardiogram before and during treatment; "
                  "valvular disease or pulmonary hypertension contraindicate it")),
    ClinicalField("diary_unrecorded_days", N_("Days without an entry"), N_("Seizure diary"),
                  kind="choice", choices=UNRECORDED,
                  help=N_("seizure-free: the family writes down every seizure, so a day without "
                  "an entry had none (most diaries); unknown: only days with an entry (a "
                  "seizure, or 'no seizure') count. 'Not recorded' periods are always missing")),
    ClinicalField("diary_time_zone", N_("Time zone"), N_("Seizure diary"), kind="text",
                  help=N_("e.g. Europe/Paris: diary times written in UTC (an app's export) are "
                  "moved to it, for the day of each seizure and its place on the EEG")),
    ClinicalField("diary_start", N_("Kept from"), N_("Seizure diary"), kind="date",
                  help=N_("First day of the diary (default: the first entry's day)")),
    ClinicalField("diary_end", N_("Kept until"), N_("Seizure diary"), kind="date",
                  help=N_("Last day of the diary (default: the last entry's day)")),
)  # fmt: skip

TRIALS = tuple(dict.fromkeys(citation(arm.source) for arm in ARMS))
_SOURCES = ("Lagae 2019, Nabbout 2020, Sullivan 2023 (fenfluramine); Devinsky 2017, Miller "
            "2020 (cannabidiol); Chiron 2000 (stiripentol); Wirrell 2022 consensus (sodium-"
            "channel blockers): README, Trials")  # fmt: skip
_LABEL_SOURCES = tuple(dict.fromkeys(s for t in THERAPIES.values() for s in t.sources))

_TRIAL_CIS = ("each trial's 95 % CI of the placebo-adjusted effect: fenfluramine 0.7 and 0.2 "
              "mg/kg/day 62.3 % (47.7-72.8) and 32.4 % (6.2-51.3) fewer convulsive seizures "
              "(Lagae 2019), 0.4 with stiripentol 54.0 % (35.6-67.2) (Nabbout 2020); "
              "cannabidiol median difference -22.8 points (-41.1 to -5.4) (Devinsky 2017); "
              "stiripentol: no CI published, an assumed SE twice the others' "
              "(effects.TRIAL_SE)")  # fmt: skip
_WORSENING = ("assumed: Guerrini R et al. Epilepsia 1998;39:508-512 and Wirrell EC et al. "
              "Epilepsia 2022;63:1761-1777 give the direction (avoid), no trial the size")
# What a run with uncertainty samples (README, Uncertainty): the drug's trial effect within
# its confidence interval (the futures already carry the child-to-child spread and the
# diary's count noise) and the assumed worsening on a sodium-channel blocker. Not the add-on,
# the dose or the horizon (scenario choices). With no add-on neither applies.
UNCERTAIN = (
    Uncertain("effect_se_shift", "normal", sd=1.0,
              source=f"{_TRIAL_CIS}; standard normal in units of the arm's SE"),
    Uncertain("scb_worsening_fold", "triangular", low=1.0, high=2.5,
              source=f"{_WORSENING}: from no change to 2.5-fold, the 1.5 assumed the mode"),
)  # fmt: skip

PARAMETERS = (
    Parameter(
        "add_therapy", N_("Add-on therapy"), "", NO_ADD_ON, choices=(NO_ADD_ON, *ADD_ONS),
        choice_labels=(N_("no add-on (current regimen)"),
                       *(THERAPIES[code].label for code in ADD_ONS)),
        short_labels=("no add-on", *ADD_ONS), key=1, source=_SOURCES,
        help=N_("Added to the current regimen; the sodium-channel blockers are listed so that "
        "the board sees why not (contraindicated in Dravet syndrome, modelled as a worsening)"),
    ),
    Parameter(
        "dose_mg_kg_day", N_("Dose (0: the label's maintenance dose)"), "mg/kg/day", 0.0, 0.0,
        100.0, decimals=2, key=2, source="EMA SmPCs Fintepla, Epidyolex, Diacomit (4.2)",
        help=N_("0 gives the label's maintenance dose for this child: fenfluramine 0.7 (0.4 with "
        "stiripentol), cannabidiol 10, stiripentol 50. A dose between the trials' doses takes "
        "the nearest studied dose below; above the label's maximum for the weight the run is "
        "refused. Not used for sodium-channel blockers"),
    ),
    Parameter(
        "placebo_response", N_("Count the trials' placebo-arm response"), "", True,
        short_labels=("with placebo-arm response", "drug effect only"),
        source="each trial's placebo arm (Lagae 2019; Nabbout 2020 on stiripentol)",
        help=N_("Yes: every scenario, no add-on included, gets the improvement the trials' "
        "placebo arms saw beyond regression to the mean (a drug scenario: the whole trial "
        "arm's response); no: no add-on keeps the diary's rate and a drug gets only its "
        "added effect. Differences between scenarios are the drugs' either way"),
    ),
    Parameter("horizon_weeks", N_("Horizon"), N_("weeks"), 12.0, 4.0, 52.0, decimals=0,
              short_labels=("horizon",), source="the trials' maintenance periods (12 weeks)",
              help=N_("How long the future diaries are simulated, from the therapy's full dose")),
    Parameter("effect_se_shift", N_("Drug effect against the trial's estimate"),
              N_("standard errors"), 0.0, -3.0, 3.0, decimals=1, source=_TRIAL_CIS,
              help=N_("0 takes each trial's estimate of the drug's effect; +1 an effect one "
              "standard error of that estimate stronger, -1 weaker (a run with uncertainty "
              "samples it)")),
    Parameter("scb_worsening_fold", N_("Worsening on a sodium-channel blocker"), "x", 1.5,
              1.0, 4.0, decimals=1, source=_WORSENING,
              help=N_("The median child's seizure-rate multiplier on a sodium-channel blocker: "
              "an assumption (the direction is known, no trial measured the size)")),
    Parameter("futures", N_("Simulated futures"), "", 2000.0, 200.0, 20000.0, decimals=0,
              source="Monte Carlo", help=N_("More futures, smoother probabilities")),
    Parameter("seed", N_("Random seed"), "", 1.0, 0.0, 1e9, decimals=0,
              source="reproducibility", help=N_("The same seed gives the same futures")),
)  # fmt: skip

OUTCOMES = (
    Outcome("convulsive_seizures_per_28d", N_("Convulsive seizures per 28 days (median)"),
            N_("seizures"),
            better="lower", precision=1, resolution=1.0,
            help=N_("Median of the simulated futures over the horizon (the trials' primary "
            "endpoint; the median, as the trials report, since a few children worsen a lot "
            "and pull the mean up); its 80 % interval is in the next two rows")),
    Outcome("convulsive_seizures_per_28d_low", N_("Convulsive seizures: 80 % interval, low"),
            N_("seizures"), precision=1, help=N_("10th percentile of the simulated futures")),
    Outcome("convulsive_seizures_per_28d_high", N_("Convulsive seizures: 80 % interval, high"),
            N_("seizures"), precision=1, help=N_("90th percentile of the simulated futures")),
    Outcome("p_responder_50_pct", N_("Chance of >= 50 % fewer convulsive seizures"), "%",
            better="higher", precision=0, resolution=5.0, absent=N_("no seizure to reduce"),
            help=N_("Share of simulated futures with at most half the diary's frequency over the "
            "horizon (the trials' responder definition, for this child)")),
    Outcome("p_seizure_free_28d_pct", N_("Chance of 28 days without a convulsive seizure"), "%",
            better="higher", precision=0, resolution=2.0,
            help=N_("In the first 28 days of the horizon")),
    Outcome("days_with_seizures_per_28d", N_("Days with a convulsive seizure per 28 days"),
            N_("days"), better="lower", precision=1, resolution=1.0),
    Outcome("prolonged_seizures_per_year", N_("Prolonged seizures (> 5 min) per year"),
            N_("seizures"), better="lower", precision=1, resolution=1.0,
            absent=N_("no durations in the diary"),
            help=N_("Convulsive seizures lasting over 5 minutes (rescue medication needed)")),
    Outcome("contraindications", N_("Contraindications"), "", better="lower", precision=0,
            target=Target(high=0, source=CONSENSUS), limit=True,
            help=N_("Rules this regimen breaks (a sodium-channel blocker in Dravet syndrome, "
            "fenfluramine with valvular disease...): such a scenario is marked best at nothing")),
)  # fmt: skip


def personalize(view: CaseView) -> dict[str, Personalized]:
    """The horizon stays the trials' 12 weeks; its provenance says what the diary holds."""
    inputs = prepare(view_of(view))
    counts = [v for v in inputs["convulsive"] if v is not None]
    return {
        "horizon_weeks": Personalized(12.0, tr(
            "diary {start} to {end}: {days} days reported, {seizures} convulsive seizures"
        ).format(start=inputs["start"], end=inputs["end"], days=len(counts),
                 seizures=int(sum(counts)))),
    }  # fmt: skip


TWIN = Twin(
    id="dravet_epilepsy",
    title=N_("Dravet syndrome: add-on therapy"),
    specialty=N_("neurology"),
    version="1.1",
    question=N_("With this child's seizure pattern and current regimen, what can each add-on "
    "therapy be expected to do to convulsive seizures, how likely is a 50 % response, and "
    "what must not be given?"),
    references=tuple(dict.fromkeys((COUNT_MODEL, *TRIALS, *_LABEL_SOURCES, CONSENSUS))),
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    requirements=(
        Requirement(
            "events",
            "",
            N_("(the seizure diary: import the family's diary or enter "
            "the seizures in Case data > Diary)"),
        ),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    clinical_fields=CLINICAL_FIELDS,
    uncertain=UNCERTAIN,
    limitations=(
        N_("Drug effects are the pivotal trials' (12-14 weeks, children and young adults on "
        "their regimens then); no titration, no tolerance, no long-term loss of effect."),
        N_("The count model has no trend or seasonality (the notes say when a trend is seen); "
        "convulsive seizures only are modelled."),
        N_("Each child's response is lognormal: it has a worsening tail no trial reported "
        "(about 1 child in 10 twice as many seizures on fenfluramine): the headline is the "
        "median."),
        N_("Sodium-channel blockers' worsening is a direction from the literature with an "
        "assumed size, shown so the board sees why not, not a prediction."),
        N_("Interactions and monitoring are rules from the labels and the consensus; blood "
        "levels are not modelled."),
    ),
    verification=VERIFICATION,
)
