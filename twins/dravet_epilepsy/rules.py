"""Rules the board must see: contraindications, label dose limits, interactions, monitoring.

Sources are named beside each rule. Interaction sizes (fold changes) are not given: none was
confirmed from a label text in this work, so the rules say what rises, not by how much.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from meditwin_desktop.core.twin import N_, TwinInputError, number, tr

FINTEPLA_SMPC = "EMA SmPC Fintepla (fenfluramine) 2.2 mg/mL, section 4.2 Table 1"
FINTEPLA_FDA = (
    "FDA label FINTEPLA (fenfluramine), boxed warning and Medication Guide: echocardiogram "
    "before, every 6 months during, and once 3-6 months after the last dose (REMS)"
)
FINTEPLA_SMPC_ECHO = (
    "EMA SmPC Fintepla (fenfluramine), section 4.4: echocardiogram before starting, every 6 "
    "months for the first 2 years then yearly, and 3-6 months after the last dose"
)
EPIDYOLEX_SMPC = "EMA SmPC Epidyolex (cannabidiol) 100 mg/mL, sections 4.1-4.2"
EPIDIOLEX_FDA = "FDA label EPIDIOLEX (cannabidiol), section 2.1 (transaminases and bilirubin)"
DIACOMIT_SMPC = "EMA SmPC Diacomit (stiripentol), sections 4.1-4.2"
CONSENSUS = (
    "Wirrell EC et al. International consensus on diagnosis and management of Dravet "
    "syndrome. Epilepsia 2022;63:1761-1777; Guerrini R et al. Lamotrigine and seizure "
    "aggravation in severe myoclonic epilepsy. Epilepsia 1998;39:508-512"
)
GWPCARE5 = (
    "Devinsky O et al. Long-term cannabidiol treatment in patients with Dravet syndrome: an "
    "open-label extension trial. Epilepsia 2019;60:294-302 (GWPCARE5, NCT02224573; PMC7379690), "
    "abstract: 22 of the 128 patients from GWPCARE1 (17.2 %), all taking valproic acid, had "
    "transaminases >= 3 x ULN"
)


@dataclass(frozen=True)
class Therapy:
    """A drug the twin knows. Maxima in mg/kg/day and mg/day (None = no limit in the twin)."""

    code: str
    label: str
    add_on: bool  # a scenario option (trial effect or contraindicated worsening)
    studied_doses: tuple[float, ...]  # mg/kg/day of the pivotal trials
    max_mg_kg_day: float | None
    max_mg_day: float | None
    max_mg_kg_day_with_stiripentol: float | None
    max_mg_day_with_stiripentol: float | None
    contraindicated: bool
    sources: tuple[str, ...]

    @property
    def doses(self) -> tuple[float, ...]:
        """The studied doses (empty: the twin takes no dose for this drug)."""
        return self.studied_doses


def _known(code: str, label: str) -> Therapy:
    return Therapy(code, label, False, (), None, None, None, None, False, ())


def _scb(code: str, label: str) -> Therapy:
    return Therapy(code, label, True, (), None, None, None, None, True, (CONSENSUS,))


THERAPIES: dict[str, Therapy] = {
    "fenfluramine": Therapy("fenfluramine", N_("Fenfluramine (Fintepla)"), True, (0.2, 0.7),
                            0.7,
                            26.0, 0.4, 17.0, False, (FINTEPLA_SMPC, FINTEPLA_FDA)),
    "cannabidiol": Therapy("cannabidiol", N_("Cannabidiol (Epidyolex/Epidiolex)"), True,
                           (10.0, 20.0), 20.0, None, 20.0, None, False,
                           (EPIDYOLEX_SMPC, EPIDIOLEX_FDA)),
    "stiripentol": Therapy("stiripentol", N_("Stiripentol (Diacomit)"), True, (50.0,), 50.0,
                           None,
                           50.0, None, False, (DIACOMIT_SMPC,)),
    "carbamazepine": _scb("carbamazepine", N_("Carbamazepine (Tegretol)")),
    "oxcarbazepine": _scb("oxcarbazepine", N_("Oxcarbazepine (Trileptal)")),
    "phenytoin": _scb("phenytoin", N_("Phenytoin (Dilantin, Di-Hydan)")),
    "lamotrigine": _scb("lamotrigine", N_("Lamotrigine (Lamictal)")),
    "valproate": _known("valproate", N_("Valproate (Depakine, Epilim)")),
    "clobazam": _known("clobazam", N_("Clobazam (Urbanyl, Onfi, Frisium)")),
    "topiramate": _known("topiramate", N_("Topiramate (Topamax, Epitomax)")),
    "levetiracetam": _known("levetiracetam", N_("Levetiracetam (Keppra)")),
    "clonazepam": _known("clonazepam", N_("Clonazepam (Rivotril)")),
    "bromide": _known("bromide", N_("Potassium bromide")),
    "zonisamide": _known("zonisamide", N_("Zonisamide (Zonegran)")),
    "ethosuximide": _known("ethosuximide", N_("Ethosuximide (Zarontin)")),
}  # fmt: skip

NO_ADD_ON = "none"

# Ages the pivotal trials enrolled (years, inclusive): 2-18 in Lagae 2019, Nabbout 2020 and
# Sullivan 2023 (fenfluramine; the EMA SmPC section 4.1 licenses it from 2 years) and in
# Devinsky 2017 and Miller 2020 (cannabidiol), as their abstracts read. STICLO's age range was
# not confirmed: stiripentol is not checked.
TRIAL_AGES: dict[str, tuple[float, float, str]] = {
    "fenfluramine": (2.0, 18.0, "EMA SmPC Fintepla, section 4.1: 2 years of age and older"),
    "cannabidiol": (2.0, 18.0, ""),
}
SODIUM_CHANNEL_BLOCKERS = tuple(c for c, t in THERAPIES.items() if t.contraindicated)

_ALIASES: dict[str, tuple[str, ...]] = {
    "valproate": ("valproate", "valproic acid", "acide valproique", "valproate de sodium",
                  "sodium valproate", "valproate sodium", "divalproex", "valproate semisodique",
                  "depakine", "depakote", "depakene", "epilim", "micropakine", "convulex",
                  "orfiril", "vpa"),
    "clobazam": ("clobazam", "urbanyl", "onfi", "frisium", "sympazan", "likozam", "clb"),
    "stiripentol": ("stiripentol", "diacomit", "stp"),
    "fenfluramine": ("fenfluramine", "fintepla", "ffa"),
    "cannabidiol": ("cannabidiol", "epidyolex", "epidiolex", "cbd"),
    "topiramate": ("topiramate", "topamax", "epitomax"),
    "levetiracetam": ("levetiracetam", "keppra", "lev"),
    "clonazepam": ("clonazepam", "rivotril", "klonopin"),
    "bromide": ("bromide", "potassium bromide", "bromure de potassium", "sodium bromide",
                "bromure"),
    "zonisamide": ("zonisamide", "zonegran"),
    "ethosuximide": ("ethosuximide", "zarontin"),
    "carbamazepine": ("carbamazepine", "tegretol", "cbz"),
    "oxcarbazepine": ("oxcarbazepine", "trileptal", "oxc"),
    "phenytoin": ("phenytoin", "phenytoine", "dilantin", "di hydan", "dihydan", "epanutin",
                  "fosphenytoin", "prodilantin"),
    "lamotrigine": ("lamotrigine", "lamictal", "ltg"),
}  # fmt: skip
_LOOKUP = {alias: code for code, names in _ALIASES.items() for alias in names}


def _normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z]+", " ", text).split())


def drug_code(name: str) -> str | None:
    """Canonical code of a drug name as typed (generic, brand, French; dose words ignored):
    'Depakine Chrono 500 mg' -> 'valproate'; None if unknown."""
    words = _normalise(name).split()
    for size in range(min(3, len(words)), 0, -1):  # longest alias first, at any position
        for start in range(len(words) - size + 1):
            code = _LOOKUP.get(" ".join(words[start : start + size]))
            if code is not None:
                return code
    return None


@dataclass(frozen=True)
class Rules:
    """What the board must see about adding a drug to the current regimen."""

    contraindicated: bool
    warnings: tuple[str, ...]
    interactions: tuple[str, ...]
    monitoring: tuple[str, ...]
    contraindications: tuple[str, ...] = ()  # why the added drug is contraindicated
    on_stiripentol: bool = False  # stiripentol is in the current regimen


def maximum(code: str, on_stiripentol: bool) -> tuple[float | None, float | None]:
    """(mg/kg/day, mg/day) label maxima of a drug, given stiripentol co-medication."""
    item = THERAPIES[code]
    if on_stiripentol:
        return item.max_mg_kg_day_with_stiripentol, item.max_mg_day_with_stiripentol
    return item.max_mg_kg_day, item.max_mg_day


def _check_dose(code: str, dose: float, weight: float | None, on_stiripentol: bool) -> None:
    per_kg, per_day = maximum(code, on_stiripentol)
    item = THERAPIES[code]
    where = tr(" with stiripentol") if on_stiripentol and code == "fenfluramine" else ""
    limit = (f"{_g(per_kg)} mg/kg/day" if per_kg is not None else "") + (
        tr(", at most {per_day} mg/day").format(per_day=_g(per_day))
        if per_day is not None else "")  # fmt: skip
    if dose < 0:
        raise TwinInputError(tr(
            "{label}: a dose cannot be negative ({dose} mg/kg/day)"
        ).format(label=tr(item.label), dose=_g(dose)))
    weight_text = tr(" for {weight} kg").format(weight=_g(weight)) if weight is not None else ""
    if per_kg is not None and dose > per_kg + 1e-9:
        raise TwinInputError(
            tr(
                "{label} {dose} mg/kg/day{weight_text} is above the label maximum{where}: "
                "{limit} ({sources})"
            ).format(
                label=tr(item.label),
                dose=_g(dose),
                weight_text=weight_text,
                where=where,
                limit=limit,
                sources=item.sources[0],
            )
        )
    if per_day is not None and weight is not None and dose * weight > per_day + 1e-6:
        raise TwinInputError(
            tr(
                "{label} {dose} mg/kg/day for {weight} kg is {value} mg/day, above the label "
                "maximum{where}: {limit} ({sources})"
            ).format(
                label=tr(item.label),
                dose=_g(dose),
                weight=_g(weight),
                value=number(dose * weight, 1),
                where=where,
                limit=limit,
                sources=item.sources[0],
            )
        )


def check_regimen(
    add: str,
    dose_mg_kg_day: float | None,
    weight_kg: float | None,
    current: list[tuple[str, float | None]],
    age_y: float | None = None,
) -> Rules:
    """Contraindications, dose limits, interactions and monitoring of adding `add` (a code or
    a name; NO_ADD_ON 'none': the current regimen alone) to `current` ([(drug name as typed,
    mg/kg/day or None)]) for a child of `age_y` years (None: not checked). TwinInputError for
    an unknown drug to add or a dose above the label maximum for the weight, or a drug to add
    that the child already takes."""
    code = add if add in THERAPIES or add == NO_ADD_ON else drug_code(add)
    options = sorted(c for c, t in THERAPIES.items() if t.add_on)
    if code != NO_ADD_ON and (code is None or not THERAPIES[code].add_on):
        raise TwinInputError(
            tr(
                "the twin cannot evaluate adding '{add}'; it knows: {options}"
            ).format(add=add, options=', '.join(options))
        )
    if weight_kg is not None and weight_kg <= 0:
        raise TwinInputError(tr(
            "weight must be positive (got {weight_kg} kg)"
        ).format(weight_kg=_g(weight_kg)))
    warnings: list[str] = []
    interactions: list[str] = []
    monitoring: list[str] = []
    codes: set[str] = set()
    for name, _dose in current:
        found = drug_code(name)
        if found is None:
            warnings.append(tr(
                "'{name}' is not known to the twin: interactions not checked"
            ).format(name=name))
            continue
        codes.add(found)
        if THERAPIES[found].contraindicated:
            warnings.append(
                tr(
                    "current {label}: sodium-channel blockers can worsen seizures in Dravet "
                    "syndrome; consider withdrawing it ({consensus})"
                ).format(label=tr(THERAPIES[found].label), consensus=CONSENSUS)
            )
    on_stp = "stiripentol" in codes
    if code == NO_ADD_ON:
        return Rules(False, tuple(warnings), (), (), (), on_stp)
    if code in codes:  # the trials' effect is that of adding the drug: not of taking it twice
        raise TwinInputError(
            tr(
                "{label} is already in the current regimen: the twin models adding a drug the "
                "child does not take (the trials compared adding it with placebo), not a dose "
                "change. Choose another add-on, or 'none' for the current regimen."
            ).format(label=tr(THERAPIES[code].label))
        )
    if dose_mg_kg_day is not None:
        _check_dose(code, dose_mg_kg_day, weight_kg, on_stp)
    item = THERAPIES[code]
    contraindications: list[str] = []
    if item.contraindicated:
        contraindications.append(
            tr(
                "{label} is a sodium-channel blocker: contraindicated in Dravet syndrome (it "
                "typically worsens seizures; modelled as a worsening) ({consensus})"
            ).format(label=tr(item.label), consensus=CONSENSUS)
        )
    if code == "fenfluramine":
        monitoring.append(
            tr(
                "Echocardiography before starting, during treatment and after stopping: "
                "valvular heart disease and pulmonary arterial hypertension ({fintepla_fda}; "
                "{fintepla_smpc_echo})"
            ).format(fintepla_fda=FINTEPLA_FDA, fintepla_smpc_echo=FINTEPLA_SMPC_ECHO)
        )
        if on_stp:
            interactions.append(
                tr(
                    "With stiripentol: lower fenfluramine maximum, 0.4 mg/kg/day and at most "
                    "17 mg/day ({fintepla_smpc})"
                ).format(fintepla_smpc=FINTEPLA_SMPC)
            )
    if code == "cannabidiol":
        monitoring.append(
            tr(
                "Serum transaminases (ALT, AST) and total bilirubin before starting "
                "({epidiolex_fda})"
            ).format(epidiolex_fda=EPIDIOLEX_FDA)
        )
        if "clobazam" in codes:
            interactions.append(
                tr(
                    "Cannabidiol raises N-desmethylclobazam (norclobazam), the active "
                    "metabolite of clobazam: watch for somnolence, consider lowering clobazam "
                    "(Devinsky O et al. Neurology 2018;90:e1204-e1211, GWPCARE1 part A "
                    "pharmacokinetics)"
                )
            )
        else:
            warnings.append(
                tr(
                    "In the EU, cannabidiol for Dravet syndrome is licensed with clobazam "
                    "({epidyolex_smpc})"
                ).format(epidyolex_smpc=EPIDYOLEX_SMPC)
            )
        if "valproate" in codes:
            interactions.append(
                tr(
                    "Cannabidiol with valproate: raised transaminases are more frequent; check "
                    "liver tests during treatment ({gwpcare5}; {epidiolex_fda})"
                ).format(gwpcare5=GWPCARE5, epidiolex_fda=EPIDIOLEX_FDA)
            )
    if code == "stiripentol":
        if "clobazam" in codes:
            interactions.append(
                tr(
                    "Stiripentol raises clobazam and norclobazam (N-desmethylclobazam) levels "
                    "(enzyme inhibition): watch for somnolence, consider lowering clobazam "
                    "({diacomit_smpc}, section 4.5)"
                ).format(diacomit_smpc=DIACOMIT_SMPC)
            )
        missing = [c for c in ("clobazam", "valproate") if c not in codes]
        if missing:
            warnings.append(
                tr(
                    "Stiripentol is licensed in conjunction with clobazam and valproate; the "
                    "regimen lacks {missing} ({diacomit_smpc}; STICLO: Chiron C et al. Lancet "
                    "2000;356:1638-42)"
                ).format(missing=tr(" and ").join(missing), diacomit_smpc=DIACOMIT_SMPC)
            )
    if code == "fenfluramine" and dose_mg_kg_day is None and on_stp:
        warnings.append(tr(
            "On stiripentol: the fenfluramine maintenance dose is 0.4 mg/kg/day"
        ))
    per_kg, per_day = maximum(code, on_stp)
    if (dose_mg_kg_day is None and item.studied_doses and per_kg is not None
            and per_day is not None and weight_kg is not None
            and per_kg * weight_kg > per_day + 1e-6):  # fmt: skip
        warnings.append(
            tr(
                "For {weight_kg} kg the label's maintenance dose of {label} ({per_kg} "
                "mg/kg/day) is capped at {per_day} mg/day, {value} mg/kg/day ({sources}); the "
                "trials capped it too"
            ).format(
                weight_kg=_g(weight_kg),
                label=tr(item.label),
                per_kg=_g(per_kg),
                per_day=_g(per_day),
                value=number(per_day / weight_kg, 2),
                sources=item.sources[0],
            )
        )
    ages = TRIAL_AGES.get(code)
    if ages is not None and age_y is not None and not ages[0] <= age_y <= ages[1] + 1.0:
        warnings.append(
            tr(
                "Age {age_y} years: the trials of {label} enrolled children aged {low} to "
                "{high} years; the effect shown is outside their evidence"
            ).format(
                age_y=number(age_y, 1),
                label=tr(item.label),
                low=_g(ages[0]),
                high=_g(ages[1]),
            )
            + (f" ({ages[2]})" if ages[2] else "")
        )
    return Rules(item.contraindicated, tuple(warnings), tuple(interactions), tuple(monitoring),
                 tuple(contraindications), on_stp)  # fmt: skip


def _g(value, spec: str = "g") -> str:
    """`value` formatted by `spec` (a `g` format), with the language's decimal separator."""
    text = format(float(value), spec)
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])
