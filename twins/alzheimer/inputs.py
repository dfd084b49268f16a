"""What the Alzheimer twin reads from the case: dated measurements (scores, imaging and
biomarkers, EEG markers), the birth date (ages at the visits), APOE genotype, amyloid status,
anticoagulation and the latest MMSE (treatment eligibility).

A Leaspy model's features are matched to measurement names (case-insensitive; spaces,
hyphens and underscores ignored: "E-Cog Subject" = "ecog subject"). Values of the known
measures are converted to one unit each (`CANONICAL_UNITS`) so that the model's scaling
block (clinical unit -> 0-1) applies whatever unit they were typed in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from meditwin_desktop.core.twin import (
    CaseView,
    TwinInputError,
    number,
    score_range,
    tr,
    view_of,
)

from .leaspy_model import normalise_name as normal_name

DAYS_PER_YEAR = 365.25
# the unit each known measure is used in (core.units converts the others)
CANONICAL_UNITS = {
    "MMSE": "points", "CDR-SB": "points", "ADAS-Cog 13": "points", "FAQ": "points",
    "RAVLT": "points", "E-Cog Subject": "points", "E-Cog Study-partner": "points",
    "Hippocampus volume ratio": "fraction", "Hippocampal volume": "mL",
    "Intracranial volume": "mL", "FDG PET": "SUVR", "Amyloid PET": "CL",
    "CSF Abeta42/40": "ratio", "CSF p-tau181": "pg/mL", "Peak alpha frequency": "Hz",
    "Relative delta power": "fraction", "Relative theta power": "fraction",
    "Relative alpha power": "fraction", "Relative beta power": "fraction",
    "Theta/alpha ratio": "ratio",
}  # fmt: skip
# beyond the scores' scales (core.scales): a ratio of both hippocampi to the skull's volume
# cannot reach 2 % (adults: about 0.3-0.6 %)
PLAUSIBLE = {"Hippocampus volume ratio": (0.0, 0.02)}
MODEL_SPACE = "0-1"
ANTICOAGULANTS = ("warfarin", "acenocoumarol", "fluindione", "phenprocoumon", "apixaban",
                  "rivaroxaban", "edoxaban", "dabigatran", "heparin", "enoxaparin",
                  "tinzaparin", "dalteparin", "fondaparinux")  # fmt: skip


_KNOWN = {normal_name(name): name for name in CANONICAL_UNITS}


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise TwinInputError(
            tr("The {what} '{text}' is not a date: write it as YYYY-MM-DD.").format(
                what=what, text=text
            )
        ) from None


def _measurements(view: CaseView) -> list[dict[str, Any]]:
    """Every measurement, known measures in their canonical unit (values in a model's 0-1
    space stay as they are)."""
    rows = []
    for typed in dict.fromkeys(m.name for m in view.measurements()):
        name = _KNOWN.get(normal_name(typed), typed)
        items = view.measurements(typed)
        units = {m.unit for m in items}
        canonical = CANONICAL_UNITS.get(name)
        if MODEL_SPACE in units and len(units) > 1:
            raise TwinInputError(
                tr(
                    "{name} is recorded both in the model's 0-1 space and in {units}: use one "
                    "of them for every visit."
                ).format(name=typed, units=", ".join(sorted(units - {MODEL_SPACE})))
            )
        if canonical and MODEL_SPACE not in units:
            try:
                items = view.measurements(typed, unit=canonical)
            except Exception:  # core.units.UnitError: a unit of another dimension
                raise TwinInputError(
                    tr(
                        "{name} is recorded in {units}, which cannot be converted to "
                        "{canonical}: correct its unit in the Measurements view."
                    ).format(name=typed, units=", ".join(sorted(units)), canonical=canonical)
                ) from None
        rows += [{"name": name, "value": float(m.value), "unit": m.unit, "date": m.date,
                  "target": m.target, "source": m.source} for m in items]  # fmt: skip
    return rows


def _check_scales(rows: list[dict[str, Any]]) -> None:
    """TwinInputError for a score outside its scale (a typing error, not a patient)."""
    for row in rows:
        low_high = PLAUSIBLE.get(row["name"])
        if row["unit"] == "points":
            low_high = score_range(row["name"])
        if row["unit"] == MODEL_SPACE:
            low_high = (0.0, 1.0)
        if low_high and not low_high[0] <= row["value"] <= low_high[1]:
            unit = "" if row["unit"] in ("points", "fraction") else f" {row['unit']}"
            raise TwinInputError(
                tr(
                    "{name} {value}{unit} on {date} is outside its scale ({low}-{high}): "
                    "correct it in the Measurements view."
                ).format(name=row["name"], value=_g(row["value"]), unit=unit,
                         date=row["date"] or tr("no date"), low=_g(low_high[0]),
                         high=_g(low_high[1]))
            )


def _ages(rows: list[dict[str, Any]], birth: dt.date | None, age_y: float | None) -> str:
    """Each row's age at its date (years); how the ages were obtained."""
    if not rows:
        return ""
    dates = {
        row["date"]: _date(row["date"], tr("date of {name}").format(name=row["name"]))
        for row in rows
    }
    today = dt.date.today()
    for row in rows:
        day = dates[row["date"]]
        if day > today:
            raise TwinInputError(
                tr("{name} is dated {date}, in the future: correct the visit date.").format(
                    name=row["name"], date=row["date"]
                )
            )
        if birth is not None and day <= birth:
            raise TwinInputError(
                tr(
                    "{name} is dated {date}, before the date of birth {birth}: correct the "
                    "visit date or the date of birth."
                ).format(name=row["name"], date=row["date"], birth=birth.isoformat())
            )
    if birth is not None:
        for row in rows:
            row["age"] = (dates[row["date"]] - birth).days / DAYS_PER_YEAR
        return "ages from the date of birth"
    last = max(dates.values())
    for row in rows:
        row["age"] = float(age_y) - (last - dates[row["date"]]).days / DAYS_PER_YEAR
    return (f"no date of birth: the age {float(age_y):g} y is taken as the age at the last "
            f"visit ({last.isoformat()}); enter the date of birth for exact ages")  # fmt: skip


def prepare(view: CaseView) -> dict[str, Any]:
    """The dated measurements with ages, and what eligibility needs; TwinInputError for an
    undated or out-of-scale value, a visit in the future or before birth."""
    view = view_of(view)
    clinical = view.clinical
    rows = _measurements(view)
    undated = [row for row in rows if not row["date"]]
    if undated:
        row = undated[0]
        raise TwinInputError(
            tr(
                "{name} {value} has no date: a disease course needs the date of every visit "
                "(Measurements view)."
            ).format(name=row["name"], value=_g(row["value"]))
        )
    _check_scales(rows)
    birth_text = clinical.get("birth_date")
    birth = _date(birth_text, tr("date of birth")) if birth_text else None
    age_y = clinical.get("age_y")
    if birth is None and age_y in (None, ""):
        raise TwinInputError(
            tr(
                "The ages at the visits need the date of birth (or at least the age): enter it "
                "in the clinical form."
            )
        )
    how = _ages(rows, birth, age_y)
    if birth is not None and age_y not in (None, ""):
        today = (dt.date.today() - birth).days / DAYS_PER_YEAR
        first = min((row["age"] for row in rows), default=today)
        if not first - 1.0 <= float(age_y) <= today + 1.0:
            how = (f"the age in the clinical form ({float(age_y):g} y) does not match the date "
                   f"of birth {birth.isoformat()} ({today:.0f} y today): the ages at the visits "
                   "come from the date of birth; check both")  # fmt: skip
    medications = [m.name for m in view.medications if not m.stop]
    anticoagulated = bool(clinical.get("anticoagulant")) or any(
        drug in name.lower() for name in medications for drug in ANTICOAGULANTS
    )
    mmse = [row for row in rows if row["name"] == "MMSE" and row["unit"] == "points"]
    amyloid_pet = [row for row in rows if row["name"] == "Amyloid PET"]
    return {
        "measurements": rows,
        "ages_from": how,
        "apoe": str(clinical.get("apoe_genotype") or ""),
        "amyloid_status": str(clinical.get("amyloid_status") or ""),
        "amyloid_pet": [(row["date"], row["value"]) for row in amyloid_pet],
        "anticoagulated": anticoagulated,
        "last_mmse": (mmse[-1]["date"], mmse[-1]["value"]) if mmse else None,
        "last_visit": max((row["date"][:10] for row in rows), default=""),
        # any dated row's (date, age) fixes the age of any date (the therapy's start)
        "age_anchor": (rows[0]["date"][:10], rows[0]["age"]) if rows else None,
    }


_NO_BIRTH = re.compile(
    r"no date of birth: the age (\S+) y is taken as the age at the last visit \((\S+)\); "
    r"enter the date of birth for exact ages"
)
_MISMATCH = re.compile(
    r"the age in the clinical form \((\S+) y\) does not match the date of birth (\S+) "
    r"\((\S+) y today\): the ages at the visits come from the date of birth; check both"
)


def ages_text(how: str) -> str:
    """`inputs["ages_from"]` (English: the inputs do not depend on the language) in the
    language in use."""
    if found := _NO_BIRTH.fullmatch(how):
        return tr(
            "no date of birth: the age {age} y is taken as the age at the last visit ({date}); "
            "enter the date of birth for exact ages"
        ).format(age=_decimal(found[1]), date=found[2])
    if found := _MISMATCH.fullmatch(how):
        return tr(
            "the age in the clinical form ({age} y) does not match the date of birth {birth} "
            "({today} y today): the ages at the visits come from the date of birth; check both"
        ).format(age=_decimal(found[1]), birth=found[2], today=found[3])
    return how


def _decimal(text: str) -> str:
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])


def _g(value: float) -> str:
    """`value` as `{:g}` writes it, with the language's decimal separator."""
    return _decimal(f"{value:g}")


def by_feature(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by normalised name."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[normal_name(row["name"])].append(row)
    return grouped
