"""A test twin with analytic uncertainty answers (not a clinical model).

- `linear` = 2 x1 + x2 with x1 ~ N(10, 1) and x2 ~ N(5, 1) (as declared): normal with mean
  25 and variance 5, first-order Sobol indices 4/5 and 1/5, total the same (additive).
- `ishigami` = sin u1 + 7 sin^2 u2 + 0.1 u3^4 sin u1 with u ~ U(-pi, pi)^3 (Ishigami and
  Homma 1990): S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) (Saltelli et al.
  2008, Global Sensitivity Analysis: The Primer, section 4.2 / Sobol' and Levitan 1999).
- a curve x1 * t over t in [0, 1]: its 5-95 % band at t is 10 t +- 1.645 t.
"""

from __future__ import annotations

import math

import numpy as np

from meditwin_desktop.core.twin import (
    CaseView,
    Outcome,
    Parameter,
    Personalized,
    Result,
    Target,
    TimeSeries,
    Twin,
    Uncertain,
)

PI = math.pi


def personalize(case: CaseView) -> dict[str, Personalized]:
    return {}


def prepare(case: CaseView) -> dict:
    return {}


def simulate(params, inputs, progress, cancelled) -> Result:
    if params["fail_above"] and params["x1"] > params["fail_above"]:
        raise ValueError("x1 beyond what this model takes")
    x1, x2 = params["x1"], params["x2"]
    u1, u2, u3 = params["u1"], params["u2"], params["u3"]
    ishigami = math.sin(u1) + 7 * math.sin(u2) ** 2 + 0.1 * u3**4 * math.sin(u1)
    t = np.linspace(0.0, 1.0, 11)
    return Result(
        outcomes={"linear": 2 * x1 + x2, "ishigami": ishigami},
        series={"ramp": TimeSeries("Ramp", "mL", t, x1 * t, "h")},
    )


TWIN = Twin(
    id="uncertain_test",
    title="Analytic uncertainty (test twin)",
    specialty="testing",
    version="1.0",
    question="Not clinical: checks runs with uncertainty against analytic answers.",
    references=("Ishigami and Homma 1990",),
    parameters=(
        Parameter("x1", "First input", "mL", 10.0, -100.0, 100.0, source="test value"),
        Parameter("x2", "Second input", "mL", 5.0, -100.0, 100.0, source="test value"),
        Parameter("u1", "Ishigami 1", "", 0.0, -PI, PI, source="test value"),
        Parameter("u2", "Ishigami 2", "", 0.0, -PI, PI, source="test value"),
        Parameter("u3", "Ishigami 3", "", 0.0, -PI, PI, source="test value"),
        Parameter("fail_above", "Fail above x1", "mL", 0.0, 0.0, 100.0, source="test value"),
    ),
    outcomes=(
        Outcome("linear", "Linear", "mL", "lower", target=Target(high=27.0)),
        Outcome("ishigami", "Ishigami", "", "none"),
    ),
    requirements=(),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    uncertain=(
        Uncertain("x1", "normal", sd=1.0, source="test value"),
        Uncertain("x2", "normal", relative_sd=0.2, source="test value"),
        Uncertain("u1", "uniform", low=-PI, high=PI, source="Ishigami and Homma 1990"),
        Uncertain("u2", "uniform", low=-PI, high=PI, source="Ishigami and Homma 1990"),
        Uncertain("u3", "uniform", low=-PI, high=PI, source="Ishigami and Homma 1990"),
    ),
)
