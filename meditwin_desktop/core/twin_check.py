"""Conformance of a twin to the contract (`meditwin check-twin`), also a third party's.

Checked: metadata complete; every parameter with a label, a unit (numbers), a source and a
valid default inside its range; outcomes with labels (and units); uncertain inputs naming a
number parameter, with a known distribution, a spread and a source; requirements of known
kinds; verification cases well formed; `simulate` a module-level function that pickles
(it runs in another process); on a small case that fits (given by the caller: core does not
know the demo cases) personalize -> prepare -> simulate twice gives the same result, whose
outcomes are finite or None with a reason, and whose inputs and result pickle; the README
next to the twin's code has the required sections (headings or bold lead-ins, matched
loosely). `problems` fail the check; `notes` are said but do not.
"""

from __future__ import annotations

import inspect
import math
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import (
    DISTRIBUTIONS,
    REQUIREMENT_KINDS,
    Parameter,
    Result,
    Twin,
    is_point,
    run_parts,
    view_of,
)

README_NAMES = ("README.md", "README.rst", "README.txt", "README")
# section -> what a heading (or a bold lead-in) naming it looks like (lower case)
README_SECTIONS = {
    "question": r"question|purpose|indication",
    "equations": r"equation|^(the )?model\b|method|mathemat",
    "parameters": r"parameter",
    "validity": r"\bvalidity\b|\bvalid\b",
    "what it does not model": r"not model|limitation",
    "verification": r"verification|validation",
}
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s+(.+?)\s*#*\s*$|\*\*(.+?)\*\*)")
_UNDERLINED = re.compile(r"^(=+|-+)\s*$")  # reStructuredText / setext headings

Cases = Callable[[], Iterable[tuple[str, Any]]]


@dataclass
class CheckReport:
    """What `check_twin` found."""

    twin_id: str
    version: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the twin conforms (notes do not count)."""
        return not self.problems


def check_twin(twin: Twin, cases: Cases | None = None) -> CheckReport:
    """Check `twin`; `cases()` yields (name, case) candidates for the determinism run,
    cheapest first (the first the twin fits is used; none: said in the notes)."""
    report = CheckReport(str(getattr(twin, "id", "")), str(getattr(twin, "version", "")))

    def _determinism(twin: Twin, report: CheckReport) -> None:
        _run_twice(twin, cases, report)

    for check in (
        _metadata,
        _parameters,
        _outcomes,
        _uncertain,
        _requirements,
        _verification,
        _picklable,
        _readme,
        _determinism,
    ):
        try:
            check(twin, report)
        except Exception as error:  # a malformed declaration is a problem, not a crash
            report.problems.append(
                f"{check.__name__.strip('_')}: cannot be checked ({type(error).__name__}: {error})"
            )
    return report


def _metadata(twin: Twin, report: CheckReport) -> None:
    for name in ("id", "title", "specialty", "version", "question"):
        value = getattr(twin, name, "")
        if not isinstance(value, str) or not value.strip():
            report.problems.append(f"metadata: no {name}")
    if twin.id and not re.fullmatch(r"[A-Za-z0-9_.-]+", twin.id):
        report.problems.append(f"metadata: the id '{twin.id}' has spaces or symbols")
    for name in ("references", "limitations"):
        items = getattr(twin, name, ())
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            report.problems.append(
                f"metadata: no {name}" if not items else f"metadata: an empty entry in {name}"
            )


def _parameters(twin: Twin, report: CheckReport) -> None:
    seen: set[str] = set()
    if not twin.parameters:
        report.notes.append("declares no parameters")
    for p in twin.parameters:
        where = f"parameter '{p.name}'"
        if p.name in seen:
            report.problems.append(f"{where}: declared twice")
        seen.add(p.name)
        if not p.label:
            report.problems.append(f"{where}: no label")
        if not p.source:
            report.problems.append(f"{where}: no source (paper, year, table; or 'scenario')")
        kind = p.kind
        if kind in ("number", "vector", "point") and not p.unit:
            report.notes.append(f"{where}: no unit (fine if dimensionless)")
        if kind in ("number", "vector", "point") and (p.minimum is None or p.maximum is None):
            report.problems.append(f"{where}: no range (minimum and maximum)")
        if p.minimum is not None and p.maximum is not None and p.minimum > p.maximum:
            report.problems.append(f"{where}: minimum {p.minimum:g} above maximum {p.maximum:g}")
        if kind == "choice" and p.choice_labels and len(p.choice_labels) != len(p.choices):
            report.problems.append(
                f"{where}: {len(p.choices)} choices but {len(p.choice_labels)} labels"
            )
        if p.on_photo and (kind != "vector" or p.size != 2):
            report.problems.append(f"{where}: a point on the photograph has 2 numbers (row, "
                                   "column)")  # fmt: skip
        if kind == "point" and p.size != 3:
            report.problems.append(f"{where}: a point has 3 numbers (LPS mm), not {p.size}")
        try:
            p.validate(p.default)
        except Exception as error:  # TwinInputError: out of range, not a choice...
            report.problems.append(f"{where}: default {p.default!r} is not valid ({error})")
        _variants(twin, p, where, report)
    if twin.parameters and not any(p.key for p in twin.parameters):
        report.notes.append("no key parameter (key=True): the scenario table shows all alike")


def _variants(twin: Twin, p: Parameter, where: str, report: CheckReport) -> None:
    """Short labels and per-variant defaults (a Sano conduit's own diameter) are coherent."""
    wanted = {"choice": len(p.choices), "flag": 2, "number": 1}.get(p.kind, 0)
    if p.short_labels and len(p.short_labels) != wanted:
        report.problems.append(f"{where}: {len(p.short_labels)} short labels, {wanted} expected")
    if not p.variant_of:
        if p.variant_defaults:
            report.problems.append(f"{where}: variant defaults without variant_of")
        return
    variant = next((q for q in twin.parameters if q.name == p.variant_of), None)
    if variant is None or variant.kind != "choice":
        report.problems.append(f"{where}: variant_of '{p.variant_of}' is not a choice parameter")
        return
    for code, default in p.variant_defaults:
        if code not in variant.choices:
            report.problems.append(f"{where}: variant default for unknown choice '{code}'")
        try:
            p.validate(default)
        except Exception as error:
            report.problems.append(f"{where}: default {default!r} for '{code}' ({error})")


def _outcomes(twin: Twin, report: CheckReport) -> None:
    if not twin.outcomes:
        report.problems.append("declares no outcomes")
    seen: set[str] = set()
    for o in twin.outcomes:
        where = f"outcome '{o.name}'"
        if o.name in seen:
            report.problems.append(f"{where}: declared twice")
        seen.add(o.name)
        if not o.label:
            report.problems.append(f"{where}: no label")
        if not o.unit:
            report.notes.append(f"{where}: no unit (fine if dimensionless)")
        if o.better not in ("higher", "lower", "none"):
            report.problems.append(f"{where}: better is '{o.better}' (higher, lower or none)")
        if o.resolution < 0 or (o.precision is not None and o.precision < 0):
            report.problems.append(f"{where}: negative resolution or precision")
        target = o.target
        if target is not None and target.low is None and target.high is None:
            report.problems.append(f"{where}: a target with neither low nor high")
        if o.point and (o.better != "none" or target is not None or o.limit):
            report.problems.append(f"{where}: a point (a position) has no direction, target "
                                   "or limit")  # fmt: skip
        if o.categories and (o.better != "none" or target is not None or o.limit or o.point):
            report.problems.append(f"{where}: a category has no direction, target or limit "
                                   "and is no position")  # fmt: skip
    if (twin.split is None) != (twin.combine is None):
        report.problems.append("split without combine (or combine without split): a run in "
                               "parts needs both")  # fmt: skip


def _uncertain(twin: Twin, report: CheckReport) -> None:
    """Each declared uncertain input: a number parameter, a known distribution, a spread
    (sd or relative_sd > 0; for uniform and triangular low < high instead), a source."""
    parameters = {p.name: p for p in twin.parameters}
    seen: set[str] = set()
    for u in getattr(twin, "uncertain", ()) or ():
        where = f"uncertain input '{u.name}'"
        if u.name in seen:
            report.problems.append(f"{where}: declared twice")
        seen.add(u.name)
        parameter = parameters.get(u.name)
        if parameter is None:
            report.problems.append(f"{where}: no parameter of that name")
        elif parameter.kind != "number":
            report.problems.append(f"{where}: a {parameter.kind} parameter, not a number")
        if u.distribution not in DISTRIBUTIONS:
            report.problems.append(f"{where}: unknown distribution '{u.distribution}' "
                                   f"(known: {', '.join(DISTRIBUTIONS)})")  # fmt: skip
            continue
        for name in ("sd", "relative_sd"):
            value = getattr(u, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                report.problems.append(f"{where}: {name} must be a finite number >= 0")
        scale = any(v is not None and math.isfinite(v) and v > 0 for v in (u.sd, u.relative_sd))
        bounded = u.low is not None and u.high is not None
        if bounded and not (math.isfinite(u.low) and math.isfinite(u.high) and u.low < u.high):
            report.problems.append(f"{where}: low must be below high")
        elif u.distribution in ("uniform", "triangular"):
            if not bounded and not (u.relative_sd and u.relative_sd > 0):
                report.problems.append(f"{where}: a {u.distribution} distribution needs low "
                                       "< high (or relative_sd > 0)")  # fmt: skip
        elif not scale:
            report.problems.append(f"{where}: no spread (sd or relative_sd > 0)")
        if not (isinstance(u.source, str) and u.source.strip()):
            report.problems.append(f"{where}: no source for its spread")
        if parameter is not None and parameter.kind == "number":
            _uncertain_notes(u, parameter, where, report)


def _uncertain_notes(u: Any, parameter: Parameter, where: str, report: CheckReport) -> None:
    """What a run with uncertainty does that the author may not expect (not problems)."""
    default = float(parameter.default)
    if u.distribution == "lognormal" and default <= 0:
        report.notes.append(f"{where}: lognormal around the default {default:g} (not positive):"
                            " not sampled unless a scenario makes it positive")  # fmt: skip
    if u.distribution == "lognormal" and u.from_case and u.relative_sd:
        report.notes.append(f"{where}: relative_sd takes precedence over the case's sd "
                            "(declare sd to let the case's spread apply)")  # fmt: skip
    if u.low is not None and u.high is not None and u.low < u.high:
        if (parameter.minimum is not None and u.low < parameter.minimum) or (
            parameter.maximum is not None and u.high > parameter.maximum
        ):
            report.notes.append(f"{where}: its range passes the parameter's; samples are "
                                "clipped to it")  # fmt: skip
        if u.distribution == "triangular" and not u.low <= default <= u.high:
            report.notes.append(f"{where}: the default {default:g} lies outside low-high "
                                "(the mode is clamped to the nearer end)")  # fmt: skip


def _requirements(twin: Twin, report: CheckReport) -> None:
    for need in twin.requirements:
        if need.kind not in REQUIREMENT_KINDS:
            report.problems.append(
                f"requirement '{need.what}': unknown kind '{need.kind}' "
                f"(known: {', '.join(REQUIREMENT_KINDS)})"
            )


def _verification(twin: Twin, report: CheckReport) -> None:
    if not twin.verification:
        report.problems.append(
            "declares no verification cases (`meditwin verify` has nothing to run)"
        )
    names: set[str] = set()
    for case in twin.verification:
        where = f"verification case '{case.name}'"
        if case.name in names:
            report.problems.append(f"{where}: declared twice")
        names.add(case.name)
        if not case.quantity or not case.source:
            report.problems.append(f"{where}: no quantity or no source")
        if not (math.isfinite(case.reference) and math.isfinite(case.tolerance)) or (
            case.tolerance < 0
        ):
            report.problems.append(
                f"{where}: reference and tolerance must be finite, tolerance >= 0"
            )
        if not callable(case.compute):
            report.problems.append(f"{where}: compute is not callable")


def _picklable(twin: Twin, report: CheckReport) -> None:
    simulate = twin.simulate
    qualname = getattr(simulate, "__qualname__", "")
    if not inspect.isfunction(simulate) or "<" in qualname or "." in qualname:
        report.problems.append(
            f"simulate ({qualname or type(simulate).__name__}) is not a "
            "module-level function (it runs in another process)"
        )
        return
    try:
        again = pickle.loads(pickle.dumps(simulate))
    except Exception as error:
        report.problems.append(f"simulate does not pickle ({type(error).__name__}: {error})")
        return
    if again is not simulate:
        report.problems.append(
            "simulate unpickles as another function (its module name does not lead back to it)"
        )
    try:  # the runner sends the whole twin to its workers
        pickle.dumps(twin)
    except Exception as error:
        report.problems.append(
            f"the twin does not pickle ({type(error).__name__}: {error}): a lambda in its "
            "verification cases or fields? Use module-level functions or functools.partial"
        )
    for name in ("personalize", "prepare"):
        if not callable(getattr(twin, name, None)):
            report.problems.append(f"{name} is not callable")


# -- the determinism run ----------------------------------------------------------------------


def _quiet(fraction: float, message: str) -> None:
    """No progress display."""


def _never() -> bool:
    return False


def _run_twice(twin: Twin, cases: Cases | None, report: CheckReport) -> None:
    """Personalize, prepare and simulate on the first case that fits, twice."""
    tried = []
    for name, case in _candidates(cases, tried):
        try:
            missing = twin.missing(case)
        except Exception as error:
            report.problems.append(
                f"missing() failed on the case '{name}': {type(error).__name__}: {error}"
            )
            return
        if missing:
            tried.append(f"'{name}' ({missing[0]})")
            continue
        try:
            first, second, inputs = _simulate_twice(twin, case)
        except Exception as error:
            report.problems.append(
                f"on the case '{name}', personalize -> prepare -> simulate "
                f"failed: {type(error).__name__}: {error}"
            )
            return
        report.notes.append(f"ran simulate twice on the case '{name}'")
        _check_result(twin, first, name, report)
        _check_memory_estimate(twin, inputs, report)
        difference = _difference(first, second)
        if difference:
            report.problems.append(
                f"simulate is not deterministic: two runs on '{name}' "
                f"differ in {difference} (seed random numbers)"
            )
        for what, value in (("prepare's inputs", inputs), ("the result", first)):
            try:
                pickle.dumps(value)
            except Exception as error:
                report.problems.append(
                    f"{what} do not pickle ({type(error).__name__}: {error})"
                    "; they cross process boundaries"
                )
        return
    why = "; ".join(tried) if tried else "no case was given"
    report.notes.append(f"determinism not checked: no small case fits this twin ({why})")


def _check_memory_estimate(twin: Twin, inputs: dict, report: CheckReport) -> None:
    """A declared memory estimate is a finite, non-negative number of bytes."""
    if twin.memory_estimate is None:
        return
    params = twin.parameters_for({}, {})
    try:
        estimate = float(twin.memory_estimate(params, inputs))
    except Exception as error:
        report.problems.append(f"memory_estimate failed: {type(error).__name__}: {error}")
        return
    if not math.isfinite(estimate) or estimate < 0:
        report.problems.append(f"memory_estimate gave {estimate!r}, not a number of bytes")


def _candidates(cases: Cases | None, tried: list[str]) -> Iterator[tuple[str, Any]]:
    """The cases offered; one that cannot be made (a demo CT not written) ends the list."""
    if cases is None:
        return
    try:
        yield from cases()
    except Exception as error:
        tried.append(f"a case could not be made: {type(error).__name__}: {error}")


def _simulate_twice(twin: Twin, case: Any) -> tuple[Result, Result, dict]:
    view = view_of(case)
    baseline = {name: p.value for name, p in twin.personalize(view).items()}
    inputs = twin.prepare(view)
    params = twin.parameters_for(baseline, {})
    first = run_parts(twin, params, inputs, _quiet, _never)
    second = run_parts(twin, twin.parameters_for(baseline, {}), twin.prepare(view), _quiet, _never)
    return first, second, inputs


def _check_result(twin: Twin, result: Any, case: str, report: CheckReport) -> None:
    if not isinstance(result, Result):
        report.problems.append(f"simulate returned {type(result).__name__}, not a Result")
        return
    for outcome in twin.outcomes:
        if outcome.name not in result.outcomes:
            report.problems.append(f"outcome '{outcome.name}' missing from the result on '{case}'")
            continue
        value = result.outcomes[outcome.name]
        if value is None:
            if not (outcome.optional or result.notes.get(outcome.name)):
                report.problems.append(
                    f"outcome '{outcome.name}' is None on '{case}' with no "
                    "note saying why (nor a declared `absent` meaning)"
                )
            continue
        if outcome.point:
            if not is_point(value):
                report.problems.append(f"point outcome '{outcome.name}' is {value!r} on "
                                       f"'{case}', not three finite LPS numbers")  # fmt: skip
            continue
        if outcome.categories:
            if value not in outcome.categories:
                report.problems.append(f"category outcome '{outcome.name}' is {value!r} on "
                                       f"'{case}', not one of {outcome.categories}")  # fmt: skip
            continue
        try:
            finite = math.isfinite(float(value))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            report.problems.append(f"outcome '{outcome.name}' is {value!r} on '{case}'")
    extra = set(result.outcomes) - {o.name for o in twin.outcomes}
    if extra:
        report.notes.append(f"undeclared outcomes in the result: {', '.join(sorted(extra))}")


def _same(a: Any, b: Any) -> bool:
    """Deep equality of result parts (arrays and NaN compare equal to themselves)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _difference(a: Result, b: Result) -> str:
    """Which part of two results differs ('' when none)."""
    if not (isinstance(a, Result) and isinstance(b, Result)):
        return "" if type(a) is type(b) else "the type of the result"
    for part in ("outcomes", "series", "fields", "overlays", "tables", "notes", "warnings"):
        x, y = getattr(a, part), getattr(b, part)
        if isinstance(x, dict) and isinstance(y, dict) and x.keys() == y.keys():
            for key in x:
                if not _same(x[key], y[key]):
                    return f"{part} '{key}'"
        elif not _same(x, y):
            return part
    return ""


# -- the README -------------------------------------------------------------------------------


def find_readme(twin: Twin) -> Path | None:
    """The README next to the twin's code: in the folder of the module of `simulate`
    (or `personalize`, `prepare`), or of a package above it."""
    folders: list[Path] = []
    for function in (twin.simulate, twin.personalize, twin.prepare):
        module = inspect.getmodule(function)
        file = getattr(module, "__file__", None)
        if not file:
            continue
        folder = Path(file).resolve().parent
        while True:
            if folder not in folders:
                folders.append(folder)
            if not (folder.parent / "__init__.py").is_file():
                break  # the top of the package
            folder = folder.parent
    for folder in folders:
        for name in README_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def readme_headings(text: str) -> list[str]:
    """Markdown headings, bold lead-ins and underlined (rst) headings, lower case."""
    lines = text.splitlines()
    found = []
    for n, line in enumerate(lines):
        match = _HEADING.match(line)
        if match:
            found.append((match.group(1) or match.group(2)).strip().lower())
        elif n + 1 < len(lines) and line.strip() and _UNDERLINED.match(lines[n + 1]):
            found.append(line.strip().lower())
    return found


def missing_sections(text: str) -> list[str]:
    """The required README sections with no heading that names them."""
    headings = readme_headings(text)
    return [
        section
        for section, pattern in README_SECTIONS.items()
        if not any(re.search(pattern, h) for h in headings)
    ]


def _readme(twin: Twin, report: CheckReport) -> None:
    path = find_readme(twin)
    if path is None:
        report.problems.append("no README.md next to the twin's code")
        return
    missing = missing_sections(path.read_text(encoding="utf-8", errors="replace"))
    if missing:
        report.problems.append(
            f"{path.name}: no section on {', '.join(missing)} (headings "
            "such as '## Question', '## Equations', '## Parameters', "
            "'## Validity', '## What it does not model', "
            "'## Verification')"
        )
