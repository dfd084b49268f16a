"""The twin contract (version 2): what every virtual twin declares and provides.

A twin is a plugin (entry-point group `meditwin.twins`) exposing a `Twin` object:
- `parameters` (kinds: number, choice, flag, point, vector, date, file) and `outcomes`
  (unit, display precision, clinical target, clinical resolution) with their sources;
- `requirements`: the case data it needs, of a closed set of kinds (`REQUIREMENT_KINDS`);
- `clinical_fields`: the clinical values it asks for beyond the shared ones (age, sex,
  weight...); the clinical form shows them;
- `personalize(view)`: baseline parameter values from the case, each with provenance;
- `prepare(view)`: the inputs `simulate` needs (arrays, numbers), picklable;
- `simulate(params, inputs, progress, cancelled) -> Result`: a pure, deterministic,
  module-level function (it runs in another process), seeded where random;
- `verification`: the published or analytic references it is checked against
  (`meditwin verify`).

A twin sees the case only through `CaseView` (read-only: labels, images, studies,
measurements, events, medications, recordings, clinical values) and imports only this
module, numpy and scipy (and its own field's libraries); never Qt.

Results carry outcome values (with notes), time series (with observed points), fields on
an image grid or values on a surface mesh, overlays on a 2D image, tables and warnings.
Scenarios are named parameter overrides on the baseline. Units: SI inside models; the
declared unit of a parameter is what users type and see.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from meditwin_desktop.core.clinical import ClinicalField as ClinicalField  # for twins
from meditwin_desktop.core.errors import Cancelled as Cancelled  # for twins: they import only this
from meditwin_desktop.core.errors import InputError as InputError  # for twins
from meditwin_desktop.core.i18n import N_ as N_  # for twins: their text in the user's language
from meditwin_desktop.core.i18n import number as number  # for twins
from meditwin_desktop.core.i18n import tr as tr  # for twins
from meditwin_desktop.core.i18n import tr_n as tr_n  # for twins
from meditwin_desktop.core.imaging.geometry import position_text
from meditwin_desktop.core.photo_marks import AV_MARKS_FIELD as AV_MARKS_FIELD  # for twins
from meditwin_desktop.core.photo_marks import marks_on as marks_on  # for twins
from meditwin_desktop.core.photo_marks import parse_av_marks as parse_av_marks  # for twins
from meditwin_desktop.core.planning import choose_entry as choose_entry  # for twins
from meditwin_desktop.core.planning import path_crossings as path_crossings  # for twins
from meditwin_desktop.core.progress import CancelledFn, ProgressFn
from meditwin_desktop.core.scales import score_range as score_range  # for twins
from meditwin_desktop.core.seizure_diary import NOT_RECORDED as NOT_RECORDED  # for twins
from meditwin_desktop.core.seizure_diary import SEIZURE_FREE as SEIZURE_FREE  # for twins
from meditwin_desktop.core.seizure_diary import DiaryDays as DiaryDays  # for twins
from meditwin_desktop.core.seizure_diary import case_diary as case_diary  # for twins
from meditwin_desktop.core.seizure_diary import daily_counts as daily_counts  # for twins
from meditwin_desktop.core.seizure_diary import event_day as event_day  # for twins
from meditwin_desktop.core.seizure_diary import is_convulsive as is_convulsive  # for twins
from meditwin_desktop.core.seizure_diary import seizure_kind as seizure_kind  # for twins
from meditwin_desktop.core.twin_case import CaseView as CaseView  # for twins
from meditwin_desktop.core.twin_case import view_of

REQUIREMENT_KINDS = ("label", "clinical", "image", "photo", "studies", "measurement",
                     "events", "medications", "recording")  # fmt: skip
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    on_photo: bool = False  # a vector (row, column) of the photograph's pixels (size 2): set
    # by a click on the photograph (a vessel to occlude)
    within: tuple[str, ...] = ()  # a point must lie in one of these labels (if the case has)
    choice_labels: tuple[str, ...] = ()  # what clinicians read for each of `choices`
    value_type: str = ""  # "date" (ISO) or "file" (a path); else from default and choices
    key: int = 0  # a key parameter of the plan (True, or its rank 1, 2...): shown first
    short_labels: tuple[str, ...] = ()  # in scenario names: choices ("BT", "Sano"), a flag's
    # (yes, no) ("smoking", "stops smoking") or a number's short name ("SBP")
    decimals: int | None = None  # decimals shown for a number (None: as typed, up to 4 digits)
    variant_of: str = ""  # a choice this value belongs to (a shunt's diameter: its type)
    variant_defaults: tuple[tuple[str, Any], ...] = ()  # (choice code, default) pairs

    @property
    def kind(self) -> str:
        """'choice', 'flag', 'point', 'vector', 'date', 'file' or 'number'."""
        if self.value_type:
            return self.value_type
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
                    tr("{label}: give {count} numbers ({unit}), e.g. '{example}'; got "
                       "'{value}'.").format(label=tr(self.label), count=self.size,
                                            unit=tr(self.unit), example=format_value(self.default),
                                            value=format_value(value))
                )  # fmt: skip
            number = Parameter(self.name, self.label, self.unit, 0.0, self.minimum, self.maximum)
            return tuple(float(number.validate(item)) for item in items)
        if self.kind == "choice":
            text = str(value)
            if text not in self.choices and text in self.choice_labels:
                text = self.choices[self.choice_labels.index(text)]  # typed as shown
            if text not in self.choices:
                labels = f" ({', '.join(self.choice_labels)})" if self.choice_labels else ""
                if self.choice_labels:
                    labels = " ({})".format(", ".join(tr(c) for c in self.choice_labels))
                raise TwinInputError(
                    tr("{label}: '{value}' is not one of {choices}{labels}.").format(
                        label=tr(self.label), value=text, choices=", ".join(self.choices),
                        labels=labels)
                )  # fmt: skip
            return text
        if self.kind == "date":
            text = str(value).strip()
            if not _DATE.fullmatch(text):
                raise TwinInputError(
                    tr("{label}: '{value}' is not a date (YYYY-MM-DD).").format(
                        label=tr(self.label), value=text
                    )
                )
            return text
        if self.kind == "file":
            text = str(value).strip()
            if not text:
                raise TwinInputError(tr("{label}: give a file.").format(label=tr(self.label)))
            return text
        if self.kind == "flag":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                    raise TwinInputError(
                        tr("{label}: '{value}' is not yes or no.").format(
                            label=tr(self.label), value=value
                        )
                    )
                return value.lower() in ("true", "yes", "1")
            if not isinstance(value, (bool, np.bool_)):
                raise TwinInputError(
                    tr("{label}: {value} is not yes or no.").format(
                        label=tr(self.label), value=repr(value)
                    )
                )
            return bool(value)
        if isinstance(value, (bool, np.bool_)):
            raise TwinInputError(
                tr("{label}: {value} is not a number ({unit}).").format(
                    label=tr(self.label), value=value, unit=tr(self.unit)
                )
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TwinInputError(
                tr("{label}: '{value}' is not a number ({unit}).").format(
                    label=tr(self.label), value=value, unit=tr(self.unit)
                )
            ) from None
        if not math.isfinite(number):
            raise TwinInputError(
                tr("{label}: {value} is not a finite number.").format(
                    label=tr(self.label), value=value
                )
            )
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= number <= high:
            raise TwinInputError(
                tr("{label} must be between {low} and {high} {unit}; {value} {unit} is outside "
                   "the range the model is valid for.").format(
                    label=tr(self.label), low=_shown(low), high=_shown(high),
                    unit=tr(self.unit), value=_shown(number))
            )  # fmt: skip
        return number

    def choice_label(self, code: str) -> str:
        """What clinicians read for a stored choice code."""
        if self.choice_labels and code in self.choices:
            return self.choice_labels[self.choices.index(code)]
        return str(code)

    def short_label(self, value: Any) -> str:
        """A choice or flag value as a scenario's name says it ("Sano", "smoking stopped")."""
        if self.kind == "flag":
            yes, no = self.short_labels or (self.label, f"no {self.label.lower()}")
            return yes if value else no
        code = str(value)
        if self.short_labels and code in self.choices:
            return self.short_labels[self.choices.index(code)]
        return self.choice_label(code)

    def variant_default(self, variant: Any) -> Any | None:
        """This parameter's default for a value of `variant_of` (None: no default of its own;
        a Sano conduit's diameter is 5 mm where a BT shunt keeps the parameter's)."""
        return dict(self.variant_defaults).get(variant)


def _fmt(value: float) -> str:
    return f"{value:g}"


def point_text(value: Any, precision: int | None = 1) -> str:
    """A point outcome as clinicians read it: 'R 94.4 / A 14.0 / S 38.0' (mm)."""
    return position_text(value, 1 if precision is None else precision)


def is_point(value: Any) -> bool:
    """Whether an outcome value is a position: three finite numbers (LPS mm)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)):
        return False
    try:
        numbers = [float(x) for x in value]
    except (TypeError, ValueError):
        return False
    return len(numbers) == 3 and all(math.isfinite(x) for x in numbers)


def _shown(value: float) -> str:
    """`_fmt` with the decimal separator of the language in use (messages)."""
    from meditwin_desktop.core.i18n import decimal_separator

    return _fmt(value).replace(".", decimal_separator())


def format_value(value: Any) -> str:
    """A parameter value as people read and type it (vectors as 'a, b, c', flags yes/no)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list, np.ndarray)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def readable_value(value: Any) -> str:
    """`format_value` for reading in the language in use (the report, messages): decimal
    comma and yes/no in French, a vector's items then separated by '; '. English: the same
    text as `format_value`."""
    from meditwin_desktop.core.i18n import decimal_separator

    if isinstance(value, (bool, np.bool_)):
        return tr("yes") if value else tr("no")
    if isinstance(value, (tuple, list, np.ndarray)):
        separator = "; " if decimal_separator() == "," else ", "
        return separator.join(readable_value(v) for v in value)
    text = format_value(value)
    return text.replace(".", decimal_separator()) if isinstance(value, float) else text


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
    target: Target | None = None  # the clinical target: values outside it are flagged
    resolution: float = 0.0  # differences below this are clinically the same: no "best"
    precision: int | None = None  # decimals shown (None: 4 significant digits)
    limit: bool = False  # a safety limit: a scenario missing its target is "best" at nothing
    point: bool = False  # the value is a position (x, y, z) in LPS mm, marked on the views
    # (a VT's isthmus); points have no target, direction or difference
    categories: tuple[str, ...] = ()  # the value is one of these words (a RECIST category:
    # "CR", "PR", "SD", "PD"); categories have no target, direction or difference either

    @property
    def numeric(self) -> bool:
        """Whether the value is a number (not a position nor a category): only numbers have
        targets, bars, differences and a best scenario."""
        return not self.point and not self.categories

    @property
    def optional(self) -> bool:
        """Whether the model may report no value (None), with `absent` as its meaning."""
        return bool(self.absent)

    def format(self, value: float | None) -> str:
        """The value as the comparison and the report show it."""
        if value is None:
            return self.absent
        if self.point:
            return point_text(value, self.precision)
        if self.categories:
            return str(value)
        return f"{value:.{self.precision}f}" if self.precision is not None else f"{value:.4g}"

    def off_target(self, value: float | None) -> str:
        """'' when `value` meets the target (or there is none), else what is wrong with it
        ("below the target 75-85 %")."""
        if not self.numeric:
            return ""  # a position or a category has no target
        if value is not None and self.precision is not None:
            value = round(value, self.precision)  # judged as shown: "30.0" meets ">= 30"
        if value is None or self.target is None or self.target.met(value):
            return ""
        low = self.target.low if self.target.low is not None else -math.inf
        target = self.target.describe(self.unit)
        if value < low:
            return tr("below the target {target}").format(target=target)
        return tr("above the target {target}").format(target=target)


@dataclass(frozen=True)
class Target:
    """A clinical target of an outcome: a range [low, high], at least `low` (a remnant
    liver of at least 30 %), or at most `high`."""

    low: float | None = None
    high: float | None = None
    source: str = ""  # guideline or paper

    def met(self, value: float) -> bool:
        """Whether a value meets the target."""
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self, unit: str = "") -> str:
        """'75-85 %', '>= 30 %' or '<= 5 mL'."""
        unit = f" {unit}" if unit else ""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}-{self.high:g}{unit}"
        return f">= {self.low:g}{unit}" if self.low is not None else f"<= {self.high:g}{unit}"


@dataclass(frozen=True)
class Requirement:
    """Case data a twin needs; `kind` is one of `REQUIREMENT_KINDS`, `what` names it:

    - label: a label named `what` in the active study; clinical: the value `what` (a number
      may have to lie in [minimum, maximum], a newborn's weight say);
    - image: a 3D image; photo: a 2D photograph; studies: at least `minimum` studies;
    - measurement: at least `minimum` (default 1) values of the measurement `what`;
    - events: at least `minimum` events (of kind `what` if given); medications: at least one;
    - recording: a signal recording (of kind `what`, e.g. EEG).
    """

    kind: str
    what: str
    why: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in REQUIREMENT_KINDS:
            raise ValueError(
                f"Requirement kind '{self.kind}' is not one of {', '.join(REQUIREMENT_KINDS)}."
            )

    def range_text(self) -> str:
        """'outside 1.5-6', 'below 1.5' or 'above 6' (what a value out of range is)."""
        if self.minimum is not None and self.maximum is not None:
            return tr("outside {low}-{high}").format(
                low=_shown(self.minimum), high=_shown(self.maximum)
            )
        if self.minimum is not None:
            return tr("below {low}").format(low=_shown(self.minimum))
        return tr("above {high}").format(high=_shown(self.maximum))

    def out_of_range(self, value: Any) -> bool:
        """Whether a clinical value falls outside [minimum, maximum] (non-numbers do not)."""
        if isinstance(value, (bool, np.bool_)):
            return False
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
    sd: float | None = None  # its standard uncertainty (a fit's standard error, a
    # measurement's error), in the parameter's unit: used by a run with uncertainty where
    # the twin declares the parameter `Uncertain` with `from_case=True`


DISTRIBUTIONS = ("normal", "lognormal", "uniform", "triangular")


@dataclass(frozen=True)
class Uncertain:
    """A number parameter known only within a spread: a run with uncertainty samples it.

    The distribution is centred on the value a run uses (the personalised value or the
    scenario's), so a measured value carries its measurement error and a published
    constant its published range:
    - normal: `sd` (in the parameter's unit) or `relative_sd` (a fraction of the value);
    - lognormal: median the value, `relative_sd` the sd of its logarithm (or `sd`/value);
    - uniform: from `low` to `high` (absolute, in the parameter's unit), or the value
      times (1 - `relative_sd`, 1 + `relative_sd`);
    - triangular: `low`, the value (the mode) and `high`.
    `from_case`: the spread may come from the case (`Personalized.sd`, a fit's standard
    error), the declared one being the fallback. Samples are kept within the parameter's
    range.
    """

    name: str  # a number parameter
    distribution: str = "normal"
    sd: float | None = None
    relative_sd: float | None = None
    low: float | None = None
    high: float | None = None
    source: str = ""  # paper, year, table: where the spread comes from
    from_case: bool = False


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
    observed_time: np.ndarray | None = None  # the patient's own measurements, drawn as
    observed_values: np.ndarray | None = None  # points beside the prediction
    lower: np.ndarray | None = None  # an uncertainty band around `values` (same times),
    upper: np.ndarray | None = None  # drawn shaded: e.g. the 5th and 95th percentiles
    band_label: str = ""  # what the band is ("90 % interval of the fitted parameters")


@dataclass
class Field:
    """A spatial result: values on an image grid (affine, LPS mm) or on a mesh's points."""

    label: str
    unit: str
    values: np.ndarray
    affine: np.ndarray | None = None  # voxel (i, j, k) -> LPS, for values indexed [k, j, i]
    points: np.ndarray | None = None  # (n, 3) LPS mm, for values per point
    faces: np.ndarray | None = None  # (m, 3) triangles of `points`
    times: np.ndarray | None = None  # (T,) ms: values per point over time, shape (T, n),
    # shown with a time slider (a membrane potential movie)
    time_unit: str = "ms"

    def frame(self, index: int | None = None) -> np.ndarray:
        """The values at time frame `index` (the last when None); the values themselves
        when the field does not change over time."""
        if self.times is None:
            return self.values
        return np.asarray(self.values)[-1 if index is None else int(index)]


@dataclass
class Overlay:
    """A result drawn over a 2D image of the case (vessels on a fundus photograph): values
    or a 0/1 mask with the photograph's rows and columns."""

    label: str
    values: np.ndarray  # (rows, columns)
    study: str = ""  # the study it lies on ("" the active one)
    unit: str = ""
    # a map of categories: value 1 is categories[0], 2 is categories[1]... (nan or 0 none),
    # drawn in `colours` with a legend instead of a colour scale (arteries red, veins blue)
    categories: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()


@dataclass
class Table:
    """A small table of results (per lesion, per vessel segment...)."""

    label: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    units: tuple[str, ...] = ()


@dataclass
class Chart:
    """A chart across items of one run (lesions, vessels, seizure types...): `kind` "bars"
    draws one bar per x label (a waterfall plot: each lesion's best change); "lines" draws
    one line per entry of `lines` over the numbers `x` (a spider plot: each lesion's change
    over time). `guides` are labelled horizontal lines (a +20 % progression threshold)."""

    label: str
    kind: str  # "bars" or "lines"
    x: tuple[Any, ...] | np.ndarray  # bar labels (bars) or x values (lines)
    lines: dict[str, np.ndarray]  # bars: one entry, the bar heights; lines: name -> values
    unit: str = ""
    x_label: str = ""
    x_unit: str = ""
    guides: tuple[tuple[str, float], ...] = ()


CHART_KINDS = ("bars", "lines")


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
    overlays: dict[str, Overlay] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)
    # a run with uncertainty (core.uncertainty): the outcomes above are the nominal run's,
    # `spread` how they vary over the sampled uncertain inputs, `sensitivity` which inputs
    # drive each (Sobol indices), `uncertainty` how they were sampled, for the reader
    spread: dict[str, Spread] = field(default_factory=dict)
    sensitivity: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    uncertainty: str = ""


@dataclass
class Spread:
    """An outcome's distribution over the sampled uncertain inputs of a run.

    `low`, `median`, `high`: its percentiles (`level` 0.9: the 5th, 50th and 95th); None is
    the outcome's `absent` meaning ("never") where the model gave none in that many runs,
    or no value at all when fewer than two runs defined the outcome.
    `p_target`: the share of runs meeting the outcome's clinical target (None: no target).
    """

    median: float | None
    low: float | None
    high: float | None
    level: float = 0.9
    p_target: float | None = None
    samples: int = 0  # runs that ended with a result
    failed: int = 0  # runs that failed (a sampled value the model could not take)
    undefined: int = 0  # of `samples`, runs where the outcome had no value (not 'never'):
    # left out of the percentiles and of `p_target`


@dataclass
class Scenario:
    """A named set of parameter overrides on top of the personalised baseline."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)


SimulateFn = Callable[[Mapping[str, Any], Mapping[str, Any], ProgressFn, CancelledFn], Result]
MemoryFn = Callable[[Mapping[str, Any], Mapping[str, Any]], float]  # (params, inputs) -> bytes


@dataclass(frozen=True)
class VerificationCase:
    """A check of a twin against a published result or an analytic solution, run by
    `meditwin verify` on the installed software: `compute()` returns the twin's value of
    `quantity`, which must lie within `tolerance` of `reference` (relative when
    `relative`, else absolute, in `unit`)."""

    name: str
    quantity: str
    unit: str
    reference: float
    tolerance: float
    source: str
    compute: Callable[[], float]
    relative: bool = False
    heavy: bool = False  # minutes of computing: skipped by the default test run (a coarse
    # version stays there), run by `meditwin verify`

    def passed(self, value: float) -> bool:
        """Whether `value` agrees with the reference within the tolerance."""
        allowed = self.tolerance * abs(self.reference) if self.relative else self.tolerance
        return math.isfinite(value) and abs(value - self.reference) <= allowed


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
    personalize: Callable[[CaseView], dict[str, Personalized]]
    prepare: Callable[[CaseView], dict[str, Any]]
    simulate: SimulateFn
    limitations: tuple[str, ...] = ()
    clinical_fields: tuple[ClinicalField, ...] = ()  # its own, beyond the shared ones
    verification: tuple[VerificationCase, ...] = ()
    # peak bytes one run needs, from its parameters and inputs (admission control)
    memory_estimate: MemoryFn | None = None
    # independent parts of one run (a VT induction from each pacing site): `split(params)`
    # gives each part's params (they may carry private keys starting with "_"), the runner
    # runs them in parallel workers, `combine(params, inputs, results)` makes the one Result
    split: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None
    combine: Callable[[Mapping[str, Any], Mapping[str, Any], list[Result]], Result] | None = None
    # the number parameters a run with uncertainty samples, with their spread and source
    uncertain: tuple[Uncertain, ...] = ()

    def parts(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The params of each independent part of a run (one part: the params themselves)."""
        if self.split is None or self.combine is None:
            return [dict(params)]
        parts = [dict(part) for part in self.split(params)]
        return parts or [dict(params)]

    def parameter(self, name: str) -> Parameter:
        """The parameter called `name`; TwinInputError naming the known ones otherwise."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters)
        raise TwinInputError(
            tr("{twin} has no parameter '{name}' (it has: {known}).").format(
                twin=tr(self.title), name=name, known=known
            )
        )

    def missing(self, case: Any) -> list[str]:
        """Why this twin does not fit the case (a `CaseView`, or a case: viewed), empty
        when it does."""
        view = view_of(case)
        return [reason for need in self.requirements if (reason := _unmet(need, view))]

    def parameters_for(
        self, baseline: Mapping[str, Any], overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Defaults, then the personalised baseline, then a scenario's overrides, validated."""
        values = {p.name: p.default for p in self.parameters}
        values.update(baseline)
        for name, value in overrides.items():
            self.parameter(name)  # unknown names are an input error
            values[name] = value
        validated = {p.name: p.validate(values[p.name]) for p in self.parameters}
        for p in self.parameters:  # a variant's own default unless the scenario sets one
            if p.variant_of and p.name not in overrides:
                default = p.variant_default(validated.get(p.variant_of))
                if default is not None:
                    validated[p.name] = p.validate(default)
        return validated

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
                 "within": list(p.within), "choice_labels": list(p.choice_labels),
                 "key": p.key, "variant_of": p.variant_of,
                 "variant_defaults": dict(p.variant_defaults)}
                for p in self.parameters
            ],
            "outcomes": [
                {"name": o.name, "label": o.label, "unit": o.unit, "better": o.better,
                 "absent": o.absent, "absent_is_best": o.absent_is_best,
                 "target": None if o.target is None else {"low": o.target.low,
                                                          "high": o.target.high},
                 "resolution": o.resolution, "precision": o.precision, "limit": o.limit,
                 "point": o.point, "categories": list(o.categories)}
                for o in self.outcomes
            ],
            "requirements": [{"kind": r.kind, "what": r.what} for r in self.requirements],
            "uncertain": [
                {"name": u.name, "distribution": u.distribution, "sd": u.sd,
                 "relative_sd": u.relative_sd, "low": u.low, "high": u.high,
                 "source": u.source, "from_case": u.from_case}
                for u in self.uncertain
            ],
            "clinical_fields": [{"key": f.key, "label": f.label, "unit": f.unit,
                                 "kind": f.kind} for f in self.clinical_fields],
            "verification": [v.name for v in self.verification],
        }  # fmt: skip


def _unmet(need: Requirement, view: CaseView) -> str:
    """Why the case does not meet one requirement ('' when it does)."""
    why = f" {tr(need.why)}" if need.why else ""
    kind, what = need.kind, need.what
    if kind == "label":
        if view.has_label(what):
            return ""
        return tr("needs a label named '{label}'").format(label=what) + why
    if kind == "clinical":
        value = view.clinical.get(what)
        if value in (None, ""):
            return tr("needs the clinical value '{key}'").format(key=what) + why
        if need.out_of_range(value):
            return tr("'{key}' {value} is {range}").format(
                key=what, value=_shown(float(value)), range=need.range_text()
            ) + why
        return ""
    if kind == "image":
        if view.has_image and _has_grid(view):
            return ""
        return tr("needs an image ({what})").format(what=tr(what)) + why
    if kind == "photo":
        return "" if _has_photo(view) else tr("needs a photograph ({what})").format(
            what=tr(what)) + why  # fmt: skip
    least = int(need.minimum or 1)
    count = {
        "studies": lambda: len(view.studies),
        "measurement": lambda: len(view.measurements(what)),
        "events": lambda: len(view.events(what or None)),
        "medications": lambda: len(view.medications),
        "recording": lambda: len([r for r in view.recordings if not what or r.kind == what]),
    }[kind]()
    if count >= least:
        return ""
    if kind == "studies":
        text = tr("needs at least {least} imaging studies (has {count})")
    elif kind == "measurement" and what:
        text = tr("needs at least {least} measurements of '{what}' (has {count})")
    elif kind == "measurement":
        text = tr("needs at least {least} measurements (has {count})")
    elif kind == "events" and what:
        text = tr("needs at least {least} {what} in the diary (has {count})")
    elif kind == "events":
        text = tr("needs at least {least} events in the diary (has {count})")
    elif kind == "medications":
        text = tr("needs at least {least} medications (has {count})")
    elif what:
        text = tr("needs at least {least} {what} recordings (has {count})")
    else:
        text = tr("needs at least {least} signal recordings (has {count})")
    return text.format(least=least, count=count, what=tr(what) if what else "") + why


def _has_grid(view: CaseView) -> bool:
    try:
        view.image_grid()
    except KeyError:
        return False
    return True


def _has_photo(view: CaseView) -> bool:
    """The active study is a loaded photograph, or the case has one (still on disk: it is
    read when the twin prepares; the views may still be loading it)."""
    try:
        view.photo()
    except KeyError:
        return any(study.photograph for study in view.studies)
    return True


def check_result(twin: Twin, result: Result) -> None:
    """Refuse results with missing or non-finite outcomes (a diverging model), a movie
    whose frames do not match its times, a band or a chart whose lengths do not match
    (point outcomes become tuples of floats, categories strings)."""
    if not isinstance(result, Result):
        raise TwinInputError(f"{twin.title} returned {type(result).__name__}, not a Result.")
    for name, item in result.fields.items():
        if item.times is None:
            continue
        shape = np.shape(item.values)
        if item.points is None or len(shape) != 2 or shape != (len(item.times), len(item.points)):
            raise TwinInputError(
                f"{twin.title}: the field '{name}' over time has values of shape {shape}; "
                f"a movie needs points and (times, points) = ({len(item.times)}, "
                f"{0 if item.points is None else len(item.points)})."
            )
    _check_bands_and_charts(twin, result)
    for outcome in twin.outcomes:
        if outcome.name not in result.outcomes:
            raise TwinInputError(f"{twin.title} did not compute '{outcome.label}'.")
        value = result.outcomes[outcome.name]
        if value is None:
            if outcome.optional or result.notes.get(outcome.name):
                continue  # undefined for this run, with its declared meaning or a reason
            raise TwinInputError(f"{twin.title} did not compute '{outcome.label}'.")
        if outcome.point:
            if not is_point(value):
                raise TwinInputError(
                    f"{twin.title} gave '{outcome.label}' as {value!r}, not a position "
                    "(three finite numbers, LPS mm)."
                )
            result.outcomes[outcome.name] = tuple(float(x) for x in value)  # JSON-ready
            continue
        if outcome.categories:
            if str(value) not in outcome.categories:
                raise TwinInputError(
                    f"{twin.title} gave '{outcome.label}' as {value!r}, not one of "
                    f"{', '.join(outcome.categories)}."
                )
            result.outcomes[outcome.name] = str(value)
            continue
        if is_point(value) or isinstance(value, str):
            raise TwinInputError(f"{twin.title} gave '{outcome.label}' as {value!r}, not a "
                                 "number.")  # fmt: skip
        if not math.isfinite(float(value)):
            raise TwinInputError(
                f"{twin.title} produced a non-finite {outcome.label} ({value}): the model "
                "diverged for these parameters."
            )


def _check_bands_and_charts(twin: Twin, result: Result) -> None:
    for name, series in result.series.items():
        if (series.lower is None) != (series.upper is None):
            raise TwinInputError(f"{twin.title}: the curve '{name}' has half a band.")
        for edge in (series.lower, series.upper):
            if edge is not None and np.shape(edge) != np.shape(series.values):
                raise TwinInputError(
                    f"{twin.title}: the band of the curve '{name}' has {np.shape(edge)} values "
                    f"for {np.shape(series.values)} on the curve."
                )
    for name, chart in result.charts.items():
        if chart.kind not in CHART_KINDS:
            kinds = ", ".join(CHART_KINDS)
            raise TwinInputError(f"{twin.title}: the chart '{name}' is of kind "
                                 f"'{chart.kind}', not one of {kinds}.")  # fmt: skip
        wrong = [k for k, v in chart.lines.items() if len(v) != len(chart.x)]
        if wrong or (chart.kind == "bars" and len(chart.lines) != 1):
            raise TwinInputError(
                f"{twin.title}: the chart '{name}' has {len(chart.x)} x values but "
                f"{', '.join(wrong) or 'several bar series'} does not match."
            )


def mask_surface(
    mask: np.ndarray,
    affine: np.ndarray,
    *,
    smoothing_iterations: int = 16,
    max_triangles: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth closed surface of a boolean mask [k, j, i]: points (p, 3) LPS mm, faces
    (m, 3) (VTK SurfaceNets, imported on first use: twins stay quick to import)."""
    from meditwin_desktop.core.imaging.surfaces import mask_surface as extract

    return extract(mask, affine, smoothing_iterations=smoothing_iterations,
                   max_triangles=max_triangles)  # fmt: skip


def run_parts(
    twin: Twin,
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: ProgressFn,
    cancelled: CancelledFn,
) -> Result:
    """One run in this process: each part of `twin.parts(params)` in turn, then `combine`
    (the runner does the same with the parts in parallel workers)."""
    parts = twin.parts(params)
    if len(parts) == 1 and (twin.split is None or twin.combine is None):
        return twin.simulate(parts[0], inputs, progress, cancelled)
    results = []
    for index, part in enumerate(parts):
        low, high = index / len(parts), (index + 1) / len(parts)

        def report(fraction: float, message: str, low=low, high=high) -> None:
            progress(low + (high - low) * fraction, message)

        results.append(twin.simulate(part, inputs, report, cancelled))
    assert twin.combine is not None
    return twin.combine(params, inputs, results)


def names(items: Sequence[Parameter] | Sequence[Outcome]) -> list[str]:
    """The names of parameters or outcomes, in order."""
    return [item.name for item in items]
