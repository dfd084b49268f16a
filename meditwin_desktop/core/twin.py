"""The twin contract: what every virtual twin declares and provides.

A twin is a plugin (entry-point group `meditwin.twins`) exposing a `Twin` object:
- `parameters` and `outcomes` with units, ranges, defaults and sources;
- `requirements`: the case data it needs (a label, a clinical value...);
- `personalize(case)`: baseline parameter values from the case, each with provenance;
- `prepare(case)`: the inputs `simulate` needs (arrays, numbers), picklable;
- `simulate(params, inputs, progress, cancelled) -> Result`: a pure, deterministic,
  module-level function (it runs in another process), seeded where random.

Results carry outcome values, named time series (with units), named fields on an image
grid or a mesh, and warnings. Scenarios are named parameter overrides on the baseline.
Units: SI inside models; the declared unit of a parameter is what users type and see.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from meditwin_desktop.core.errors import Cancelled as Cancelled  # for twins: they import only this
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.progress import CancelledFn, ProgressFn


class TwinInputError(InputError):
    """A parameter value or case input a twin cannot use (message names it)."""


@dataclass(frozen=True)
class Parameter:
    """A model input the user may change; numbers are in `unit`."""

    name: str
    label: str
    unit: str
    default: float | str | bool | tuple[float, ...]
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    source: str = ""  # paper, year, table (or "clinical convention")
    choices: tuple[str, ...] = ()  # for categorical parameters (e.g. shunt type)
    size: int = 1  # > 1: a vector of numbers (e.g. a point, 3 numbers in LPS mm)
    point: bool = False  # a position in the patient (LPS mm, size 3): set from the crosshair
    within: tuple[str, ...] = ()  # a point must lie in one of these labels (if the case has)

    @property
    def kind(self) -> str:
        """'choice', 'flag', 'point', 'vector' or 'number'."""
        if self.choices:
            return "choice"
        if self.point:
            return "point"
        if self.size > 1:
            return "vector"
        return "flag" if isinstance(self.default, bool) else "number"

    def validate(self, value: Any) -> float | str | bool | tuple[float, ...]:
        """The value as the model takes it; TwinInputError with a clinician-readable reason."""
        if self.kind in ("vector", "point"):
            items = value.replace(",", " ").split() if isinstance(value, str) else value
            try:
                items = list(items)
            except TypeError:
                items = [items]
            if len(items) != self.size:
                raise TwinInputError(
                    f"{self.label}: give {self.size} numbers ({self.unit}), e.g. "
                    f"'{format_value(self.default)}'; got '{format_value(value)}'."
                )
            number = Parameter(self.name, self.label, self.unit, 0.0, self.minimum, self.maximum)
            return tuple(float(number.validate(item)) for item in items)
        if self.kind == "choice":
            text = str(value)
            if text not in self.choices:
                raise TwinInputError(
                    f"{self.label}: '{text}' is not one of {', '.join(self.choices)}."
                )
            return text
        if self.kind == "flag":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                    raise TwinInputError(f"{self.label}: '{value}' is not yes or no.")
                return value.lower() in ("true", "yes", "1")
            if not isinstance(value, (bool, np.bool_)):
                raise TwinInputError(f"{self.label}: {value!r} is not yes or no.")
            return bool(value)
        if isinstance(value, (bool, np.bool_)):
            raise TwinInputError(f"{self.label}: {value} is not a number ({self.unit}).")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TwinInputError(
                f"{self.label}: '{value}' is not a number ({self.unit})."
            ) from None
        if not math.isfinite(number):
            raise TwinInputError(f"{self.label}: {value} is not a finite number.")
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= number <= high:
            raise TwinInputError(
                f"{self.label} must be between {_fmt(low)} and {_fmt(high)} {self.unit}; "
                f"{_fmt(number)} {self.unit} is outside the range the model is valid for."
            )
        return number


def _fmt(value: float) -> str:
    return f"{value:g}"


def format_value(value: Any) -> str:
    """A parameter value as people read and type it (vectors as 'a, b, c', flags yes/no)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list, np.ndarray)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass(frozen=True)
class Outcome:
    """A model result compared across scenarios."""

    name: str
    label: str
    unit: str
    better: str = "none"  # "higher", "lower" or "none"
    help: str = ""
    absent: str = ""  # shown when the model gives None ("never", "not valid at this age")
    absent_is_best: bool = False  # None beats any value (e.g. a threshold "never" reached)

    @property
    def optional(self) -> bool:
        """Whether the model may report no value (None), with `absent` as its meaning."""
        return bool(self.absent)

    def format(self, value: float | None) -> str:
        """The value as the comparison and the report show it."""
        return self.absent if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class Requirement:
    """Case data a twin needs: kind is 'label', 'clinical' or 'image'; `what` names it.

    A clinical number may have to lie in [minimum, maximum] (a newborn's weight, say).
    """

    kind: str
    what: str
    why: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def range_text(self) -> str:
        """'outside 1.5-6', 'below 1.5' or 'above 6' (what a value out of range is)."""
        if self.minimum is not None and self.maximum is not None:
            return f"outside {self.minimum:g}-{self.maximum:g}"
        return f"below {self.minimum:g}" if self.minimum is not None else f"above {self.maximum:g}"

    def out_of_range(self, value: Any) -> bool:
        """Whether a clinical value falls outside [minimum, maximum] (non-numbers do not)."""
        if isinstance(value, (bool, np.bool_)):
            raise TwinInputError(f"{self.label}: {value} is not a number ({self.unit}).")
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        )


@dataclass(frozen=True)
class Personalized:
    """A baseline value taken from the case, and where it came from."""

    value: float | str | bool
    provenance: str  # e.g. "tumour volume 12.4 mL, from label 'tumour 1' of series 3"


@dataclass
class TimeSeries:
    """A named curve: values over time (or over another quantity), with units.

    `x_label` names the horizontal quantity when it is not time (a pressure-volume loop
    has x = volume); `guides` are labelled horizontal lines drawn with the curve (a
    clinical threshold, say).
    """

    label: str
    unit: str
    time: np.ndarray
    values: np.ndarray
    time_unit: str = "s"
    x_label: str = "time"
    guides: tuple[tuple[str, float], ...] = ()


@dataclass
class Field:
    """A spatial result: values on an image grid (affine, LPS mm) or on a mesh's points."""

    label: str
    unit: str
    values: np.ndarray
    affine: np.ndarray | None = None  # voxel (i, j, k) -> LPS, for values indexed [k, j, i]
    points: np.ndarray | None = None  # (n, 3) LPS mm, for values per point
    faces: np.ndarray | None = None  # (m, 3) triangles of `points`


@dataclass
class Result:
    """What one simulation produced.

    An outcome may be None when it is undefined for this run (no tumour near the target,
    say): `notes[name]` then says why, shown as "n/a" with that reason; without a note the
    outcome's declared `absent` text is its meaning. `notes` may also qualify a value that
    is defined (e.g. "extrapolated beyond the validated range"). `warnings` concern the
    whole scenario.
    """

    outcomes: dict[str, float | None]
    series: dict[str, TimeSeries] = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # outcome name -> why n/a, or caveat


@dataclass
class Scenario:
    """A named set of parameter overrides on top of the personalised baseline."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)


SimulateFn = Callable[[Mapping[str, Any], Mapping[str, Any], ProgressFn, CancelledFn], Result]


class CaseLike(Protocol):
    """What twins may read from a case (see `core.case.Case`)."""

    image: Any
    labels: Any
    clinical: Mapping[str, Any]


@dataclass(frozen=True)
class Twin:
    """A virtual twin: declarations plus three functions."""

    id: str
    title: str
    specialty: str
    version: str
    question: str
    references: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    outcomes: tuple[Outcome, ...]
    requirements: tuple[Requirement, ...]
    personalize: Callable[[CaseLike], dict[str, Personalized]]
    prepare: Callable[[CaseLike], dict[str, Any]]
    simulate: SimulateFn
    limitations: tuple[str, ...] = ()

    def parameter(self, name: str) -> Parameter:
        """The parameter called `name`; TwinInputError naming the known ones otherwise."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters)
        raise TwinInputError(f"{self.title} has no parameter '{name}' (it has: {known}).")

    def missing(self, case: CaseLike) -> list[str]:
        """Why this twin does not fit the case (empty when it does)."""
        reasons = []
        for need in self.requirements:
            if need.kind == "label":
                names = (
                    {lab.name.lower() for lab in case.labels.labels.values()}
                    if (case.labels is not None)
                    else set()
                )
                if need.what.lower() not in names:
                    reasons.append(f"needs a label named '{need.what}' {need.why}".strip())
            elif need.kind == "clinical" and case.clinical.get(need.what) in (None, ""):
                reasons.append(f"needs the clinical value '{need.what}' {need.why}".strip())
            elif need.kind == "clinical" and need.out_of_range(case.clinical[need.what]):
                value = float(case.clinical[need.what])
                reasons.append(f"'{need.what}' {value:g} is {need.range_text()} {need.why}".strip())
            elif need.kind == "image" and case.image is None:
                reasons.append(f"needs an image ({need.what}) {need.why}".strip())
        return reasons

    def parameters_for(
        self, baseline: Mapping[str, Any], overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Defaults, then the personalised baseline, then a scenario's overrides, validated."""
        values = {p.name: p.default for p in self.parameters}
        values.update(baseline)
        for name, value in overrides.items():
            self.parameter(name)  # unknown names are an input error
            values[name] = value
        return {p.name: p.validate(values[p.name]) for p in self.parameters}

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (for `meditwin twins --json`)."""
        return {
            "id": self.id, "title": self.title, "specialty": self.specialty,
            "version": self.version, "question": self.question,
            "references": list(self.references),
            "parameters": [
                {"name": p.name, "label": p.label, "unit": p.unit, "default": p.default,
                 "min": p.minimum, "max": p.maximum, "choices": list(p.choices),
                 "help": p.help, "source": p.source, "size": p.size, "kind": p.kind,
                 "within": list(p.within)}
                for p in self.parameters
            ],
            "outcomes": [
                {"name": o.name, "label": o.label, "unit": o.unit, "better": o.better,
                 "absent": o.absent, "absent_is_best": o.absent_is_best}
                for o in self.outcomes
            ],
            "requirements": [{"kind": r.kind, "what": r.what} for r in self.requirements],
        }  # fmt: skip


def check_result(twin: Twin, result: Result) -> None:
    """Refuse results with missing or non-finite outcomes (a diverging model)."""
    if not isinstance(result, Result):
        raise TwinInputError(f"{twin.title} returned {type(result).__name__}, not a Result.")
    for outcome in twin.outcomes:
        if outcome.name not in result.outcomes:
            raise TwinInputError(f"{twin.title} did not compute '{outcome.label}'.")
        value = result.outcomes[outcome.name]
        if value is None:
            if outcome.optional or result.notes.get(outcome.name):
                continue  # undefined for this run, with its declared meaning or a reason
            raise TwinInputError(f"{twin.title} did not compute '{outcome.label}'.")
        if not math.isfinite(float(value)):
            raise TwinInputError(
                f"{twin.title} produced a non-finite {outcome.label} ({value}): the model "
                "diverged for these parameters."
            )


def names(items: Sequence[Parameter] | Sequence[Outcome]) -> list[str]:
    """The names of parameters or outcomes, in order."""
    return [item.name for item in items]
