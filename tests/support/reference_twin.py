"""A small reference twin for the platform's tests (not a clinical model).

Exponential washout of a tracer from a structure: C(t) = C0 exp(-k t), with C0 from the
case (a label's volume, in mL, stands in for a dose) and the analytic answers
C(T) = C0 exp(-k T) and area under the curve AUC = C0 (1 - exp(-k T)) / k.
`behaviour` makes it misbehave on purpose (raise, return NaN, ignore cancel, sleep,
os._exit, segfault); `work_seconds` makes it burn CPU (for the GUI-stall benchmark).
"""

from __future__ import annotations

import ctypes
import math
import os
import time

import numpy as np

from meditwin_desktop.core.twin import (
    CaseView,
    Field,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Result,
    TimeSeries,
    Twin,
)

BEHAVIOURS = ("normal", "raise", "nan", "ignore_cancel", "sleep", "exit", "segfault")


def personalize(case: CaseView) -> dict[str, Personalized]:
    volume = case.label_volume_ml("liver")
    return {"c0": Personalized(volume, f"liver volume {volume:.1f} mL, from label 'liver'")}


def prepare(case: CaseView) -> dict:
    return {"grid_affine": case.image_grid().affine.copy() if case.has_image else np.eye(4)}


def simulate(params, inputs, progress, cancelled) -> Result:
    behaviour = params["behaviour"]
    if behaviour == "raise":
        raise RuntimeError("deliberate failure in the reference twin")
    if behaviour == "exit":
        os._exit(3)
    if behaviour == "segfault":
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    c0, k, duration = params["c0"], params["rate"], params["duration"]
    start = time.perf_counter()
    steps = 50
    for step in range(steps):
        if behaviour != "ignore_cancel" and cancelled():
            from meditwin_desktop.core.errors import Cancelled

            raise Cancelled()
        if behaviour in ("sleep", "ignore_cancel"):
            time.sleep(0.2)
        while time.perf_counter() - start < params["work_seconds"] * (step + 1) / steps:
            math.sqrt(12345.6789)  # burn CPU
        progress((step + 1) / steps, f"step {step + 1}/{steps}")
    t = np.linspace(0.0, duration, 101)
    curve = c0 * np.exp(-k * t)
    final = float("nan") if behaviour == "nan" else float(curve[-1])
    auc = c0 * (1 - math.exp(-k * duration)) / k
    field = Field("Concentration", "mL", np.full((4, 4, 4), final), affine=inputs["grid_affine"])
    return Result(
        outcomes={"final": final, "auc": auc},
        series={"concentration": TimeSeries("Concentration", "mL", t, curve, "h")},
        fields={"concentration": field},
    )


TWIN = Twin(
    id="reference",
    title="Reference washout (test twin)",
    specialty="testing",
    version="1.0",
    question="Not clinical: exercises the twin platform.",
    references=("Analytic solution of dC/dt = -kC",),
    parameters=(
        Parameter("c0", "Initial amount", "mL", 100.0, 0.0, 1e5, source="case"),
        Parameter("rate", "Washout rate", "1/h", 0.5, 0.01, 10.0, source="test value"),
        Parameter("duration", "Duration", "h", 4.0, 0.1, 48.0, source="test value"),
        Parameter("work_seconds", "CPU work", "s", 0.0, 0.0, 60.0),
        Parameter("behaviour", "Behaviour", "", "normal", choices=BEHAVIOURS),
    ),
    outcomes=(
        Outcome("final", "Amount at the end", "mL", "lower"),
        Outcome("auc", "Area under the curve", "mL h", "higher"),
    ),
    requirements=(Requirement("label", "liver", "to set the initial amount"),),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    limitations=("A test model, not a clinical one.",),
)

BROKEN = "not a twin"  # for the registry test: a plugin that does not honour the contract


def memory_of_duration(params, inputs) -> float:
    """A declared memory estimate for admission tests: 100 MB per hour of duration."""
    return params["duration"] * 1e8
