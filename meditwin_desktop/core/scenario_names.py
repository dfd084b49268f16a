"""Scenarios named by what they change: "100 W · 10 min", "BT 4.0 mm", "Sano 5.0 mm",
"statin high + ezetimibe", from a scenario's parameters against the baseline's.

A scenario keeps its automatic name until the user names it: a name is automatic when it
is the name its parameters gave it before an edit (or that name with " (2)"...), or an
old default ("Scenario 2"). No Qt here: the twin panel and the command line share it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from meditwin_desktop.core.twin import Parameter, Twin, TwinInputError, format_value

UNCHANGED = "As baseline"  # a scenario that changes nothing yet
SEPARATOR = " · "
MOST = 3  # changes named; more are counted ("+2 more")
_OLD_DEFAULT = re.compile(r"(Scenario|New scenario)( \d+)?( copy)*")
_NUMBERED = re.compile(r"(.*) \((\d+)\)")


def plan_order(twin: Twin) -> list[Parameter]:
    """The twin's parameters, key parameters first (by rank, then as declared)."""
    key = sorted((p for p in twin.parameters if p.key), key=lambda p: int(p.key))
    return key + [p for p in twin.parameters if not p.key]


def number_text(parameter: Parameter, value: Any) -> str:
    """A number as cells and names show it: its declared decimals, more where the value has
    them (62.5 W is never shown as '62 W': the model runs 62.5), else up to 4 digits."""
    number = float(value)
    if parameter.decimals is not None:
        text = f"{number:.{parameter.decimals}f}"
        if float(text) != number:  # digits the declared decimals would hide
            text = f"{number:.6g}"
        return text
    return f"{number:.4g}"


def with_unit(parameter: Parameter, value: Any) -> str:
    """'100 W', '1.5 × reference', '2' (no unit)."""
    text = number_text(parameter, value)
    unit = parameter.unit
    if unit.startswith("x "):  # "x reference": a factor
        return f"×{text}"
    return f"{text} {unit}".strip()


def _duration(value: float) -> str:
    """Seconds as a planner says them: '10 min', '90 s', '7.5 min'."""
    minutes = value / 60.0
    if value >= 60 and math.isclose(minutes * 2, round(minutes * 2)):
        return f"{minutes:g} min"
    return f"{value:g} s"


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values are the same (numbers to 1e-9, points element-wise)."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        try:
            return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        except TypeError:
            return False
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return a == b


def _fragment(parameter: Parameter, value: Any) -> str:
    """How one changed value reads in a name."""
    kind = parameter.kind
    if kind in ("choice", "flag"):
        return parameter.short_label(value)
    if kind in ("point", "vector"):
        return f"{parameter.label.lower()} moved"
    if kind != "number":
        return f"{parameter.label} {format_value(value)}"
    text = _duration(float(value)) if parameter.unit == "s" else with_unit(parameter, value)
    if parameter.short_labels:  # "SBP 130 mmHg"
        return f"{parameter.short_labels[0]} {text}"
    return text if parameter.key else f"{parameter.label} {text}"


def changes(twin: Twin, baseline: Mapping[str, Any], overrides: Mapping[str, Any]) -> list[str]:
    """What a scenario changes, as name fragments, key parameters first; TwinInputError
    when its overrides are not valid."""
    before = twin.parameters_for(baseline, {})
    after = twin.parameters_for(baseline, overrides)
    changed = {p.name for p in twin.parameters if not same_value(before[p.name], after[p.name])}
    variants = {p.variant_of for p in twin.parameters if p.variant_of}
    fragments = []
    for parameter in plan_order(twin):
        name = parameter.name
        if parameter.variant_of:  # "Sano 5.0 mm": named with its variant
            if name in changed or parameter.variant_of in changed:
                variant = twin.parameter(parameter.variant_of)
                label = variant.short_label(after[variant.name])
                fragments.append(f"{label} {with_unit(parameter, after[name])}")
        elif name in changed and name not in variants:  # a variant reads with its value
            fragments.append(_fragment(parameter, after[name]))
    return fragments


def automatic_name(
    twin: Twin, baseline: Mapping[str, Any], overrides: Mapping[str, Any]
) -> str | None:
    """The name a scenario gets from what it changes ("100 W · 10 min"); "As baseline"
    when it changes nothing; None when its overrides are not valid (keep its name)."""
    try:
        fragments = changes(twin, baseline, overrides)
    except TwinInputError:
        return None
    if not fragments:
        return UNCHANGED
    if len(fragments) > MOST + 1:
        fragments = [*fragments[:MOST], f"+{len(fragments) - MOST} more"]
    return SEPARATOR.join(fragments)


def is_automatic(name: str, automatic: str | None) -> bool:
    """Whether `name` was given automatically (as `automatic`, perhaps numbered "(2)", or
    an old default such as "Scenario 2"): the user has not named the scenario."""
    if _OLD_DEFAULT.fullmatch(name):
        return True
    if automatic is None:
        return False
    numbered = _NUMBERED.fullmatch(name)
    return name == automatic or (numbered is not None and numbered.group(1) == automatic)


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name (2)`, `name (3)`... the first not taken."""
    taken = set(taken)
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate
