"""Running twins' verification cases (`meditwin verify`) and writing the evidence as PDF.

Each `VerificationCase` of a twin is a published or analytic reference with a tolerance;
running it calls the twin's own code (`compute()`) on this installation. A case whose
`compute` raises, or returns no finite number, fails with the error kept as text: one
broken case never stops the others. The PDF is installation evidence in the spirit of
ASME V&V 40 (credibility of computational models) and IEC 62304 (software life cycle):
application and twin versions, date, machine, and every case with its result.

Tolerances are reported as the allowed deviation in the case's unit (a relative tolerance
multiplied by the reference), so that `|value - reference| <= tolerance` reads directly.
"""

from __future__ import annotations

import math
import platform
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meditwin_desktop.core.twin import Twin, VerificationCase


@dataclass(frozen=True)
class CaseResult:
    """One verification case run: the value found and whether it agrees."""

    name: str
    quantity: str
    unit: str
    reference: float
    tolerance: float  # allowed deviation, in `unit`
    relative: float | None  # the declared relative tolerance (None: declared absolute)
    source: str
    value: float | None  # None when `compute` failed
    passed: bool
    error: str = ""  # why there is no value
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The case as `meditwin verify --json` prints it."""
        return {
            "name": self.name,
            "quantity": self.quantity,
            "value": self.value,
            "unit": self.unit,
            "reference": _finite(self.reference),
            "tolerance": _finite(self.tolerance),
            "source": self.source,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class TwinVerification:
    """The verification cases of one twin, run."""

    id: str
    version: str
    title: str
    cases: tuple[CaseResult, ...]
    skipped: tuple[str, ...] = ()  # heavy cases left out (`verify --quick`)

    @property
    def passed(self) -> bool:
        """Whether every case passed (a twin without cases has nothing failing)."""
        return all(case.passed for case in self.cases)

    def as_json(self) -> dict[str, Any]:
        """The twin as `meditwin verify --json` prints it."""
        return {
            "id": self.id,
            "version": self.version,
            "cases": [case.as_json() for case in self.cases],
            "skipped": list(self.skipped),
        }


def _finite(value: float) -> float | None:
    """A number for JSON (NaN and infinities are not JSON): None when not finite."""
    return value if math.isfinite(value) else None


def allowed_deviation(case: VerificationCase) -> float:
    """The tolerance in the case's unit."""
    return case.tolerance * abs(case.reference) if case.relative else case.tolerance


def run_case(case: VerificationCase) -> CaseResult:
    """Run one case; an exception or a non-number fails it with the reason (never raises)."""
    start = time.perf_counter()
    value: float | None = None
    error, passed = "", False
    try:
        reference, tolerance = float(case.reference), allowed_deviation(case)
    except (TypeError, ValueError):
        reference, tolerance = math.nan, math.nan
        error = "the case's reference or tolerance is not a number"
    if not error:
        try:
            raw = case.compute()
        except Exception as problem:  # a broken case must not stop the others
            error = f"{type(problem).__name__}: {problem}"
        else:
            try:
                value = float(raw)
            except (TypeError, ValueError):
                error = f"compute() returned {type(raw).__name__} {raw!r:.60}, not a number"
            else:
                if not math.isfinite(value):
                    error, value = f"the computed value is {value}", None
    if not error and value is not None:
        passed = bool(case.passed(value))  # the contract's rule: |value - reference| <= tolerance
    return CaseResult(
        case.name,
        case.quantity,
        case.unit,
        reference,
        tolerance,
        case.tolerance if case.relative else None,
        case.source,
        value,
        passed,
        error,
        time.perf_counter() - start,
    )


def verify_twin(
    twin: Twin, on_case: Callable[[CaseResult], None] | None = None, *, quick: bool = False
) -> TwinVerification:
    """Run every verification case of `twin` (`quick`: not the heavy ones, minutes each);
    `on_case` sees each result as it comes."""
    results = []
    skipped = tuple(case.name for case in twin.verification if quick and case.heavy)
    for case in twin.verification:
        if case.name in skipped:
            continue
        result = run_case(case)
        if on_case is not None:
            on_case(result)
        results.append(result)
    return TwinVerification(twin.id, twin.version, twin.title, tuple(results), skipped)


def as_json(verifications: Iterable[TwinVerification]) -> dict[str, Any]:
    """`{"twins": [{"id", "version", "cases": [...]}]}`."""
    return {"twins": [v.as_json() for v in verifications]}


def _number(value: float | None) -> str:
    return "no value" if value is None else f"{value:.6g}"


def tolerance_text(result: CaseResult) -> str:
    """'2.1 ± 0.1 %' or '175 ± 1.75e-07 mmol/L-years (relative 1e-09)'."""
    unit = f" {result.unit}" if result.unit else ""
    text = f"{result.reference:.6g} ± {result.tolerance:.3g}{unit}"
    return text + (f" (relative {result.relative:g})" if result.relative is not None else "")


def case_lines(result: CaseResult) -> list[str]:
    """How `meditwin verify` prints one case: verdict and name, value against reference,
    source (and the error, if any)."""
    unit = f" {result.unit}" if result.unit else ""
    value = f"{_number(result.value)}{unit}" if not result.error else f"error: {result.error}"
    return [
        f"{'PASS' if result.passed else 'FAIL'}  {result.name}",
        f"      {result.quantity}: {value} (reference {tolerance_text(result)})",
        f"      source: {result.source}",
    ]


# -- the evidence (PDF) -----------------------------------------------------------------------


def machine_description() -> str:
    """Host, operating system, Python, numpy and scipy versions."""
    import numpy
    import scipy

    return (
        f"{platform.node() or 'unknown host'}; {platform.platform()}; "
        f"{platform.machine()}; Python {platform.python_version()}; numpy {numpy.__version__}; "
        f"scipy {scipy.__version__}"
    )


def write_evidence(
    path: Path | str,
    verifications: list[TwinVerification],
    problems: Iterable[str] = (),
) -> Path:
    """Write the verification evidence as PDF (atomically) and return its path.

    `problems`: twins that could not be loaded (they are part of the evidence too)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from meditwin_desktop import APP_NAME, __version__
    from meditwin_desktop.core.atomic import write_atomic
    from meditwin_desktop.core.output_paths import output_file

    path = output_file(path, ".pdf")
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    cases = [c for v in verifications for c in v.cases]
    failed = [c for c in cases if not c.passed]
    verdict = (
        f"ALL {len(cases)} CASES PASSED"
        if cases and not failed
        else f"{len(failed)} OF {len(cases)} CASES FAILED"
        if failed
        else "NO CASES RUN"
    )
    green, red, grey = "#1b7f3b", "#b02a1f", "#555555"

    class Pages:
        """Text flowing over A4 pages."""

        def __init__(self, pdf: PdfPages) -> None:
            self.pdf, self.figure, self.y, self.number = pdf, None, 0.0, 0

        def new(self) -> None:
            self.flush()
            self.number += 1
            self.figure = Figure(figsize=(8.27, 11.69))
            self.figure.text(
                0.06, 0.965, "Installation verification evidence", fontsize=15, weight="bold"
            )
            self.figure.text(
                0.06,
                0.945,
                f"{APP_NAME} {__version__} — {stamp} — page {self.number}",
                fontsize=8,
                color=grey,
            )
            self.y = 0.92

        def flush(self) -> None:
            if self.figure is not None:
                self.pdf.savefig(self.figure)
                self.figure = None

        def line(self, text: str, size: float = 9.0, width: int = 105, **style) -> None:
            for part in textwrap.wrap(text, width) or [""]:
                if self.figure is None or self.y < 0.05:
                    self.new()
                self.figure.text(0.06, self.y, part, fontsize=size, va="top", **style)
                self.y -= size * 0.0017

        def gap(self, size: float = 0.008) -> None:
            self.y -= size

        def keep(self, height: float) -> None:
            """Start a new page unless `height` fits on this one (a case stays whole)."""
            if self.figure is None or self.y - height < 0.05:
                self.new()

    def pages(pdf: PdfPages) -> None:
        out = Pages(pdf)
        out.new()
        for text in (
            f"Application: {APP_NAME} {__version__}",
            f"Date: {stamp}",
            f"Machine: {machine_description()}",
            "Twins: " + (", ".join(f"{v.id} {v.version}" for v in verifications) or "none"),
        ):
            out.line(text, 9.5)
        out.gap()
        out.line(
            "Each installed twin was run on this installation against the published results "
            "and analytic solutions it declares (its verification cases), in the spirit of "
            "ASME V&V 40 (credibility of computational models) and IEC 62304 (medical device "
            "software life cycle). A case passes when |value - reference| <= tolerance.",
            9.0,
        )
        out.gap()
        out.line(
            f"Result: {verdict}", 12, weight="bold", color=red if failed or not cases else green
        )
        for problem in problems:
            out.line(f"Not loaded: {problem}", 8.5, color=red)
        for verification in verifications:
            out.keep(0.1)
            out.gap(0.012)
            out.line(
                f"{verification.title} — {verification.id}, version {verification.version}",
                11,
                weight="bold",
            )
            if not verification.cases:
                out.line("This twin declares no verification cases.", 9, color=red)
            for case in verification.cases:
                out.keep(0.07)
                out.gap(0.004)
                out.line(
                    f"{'PASS' if case.passed else 'FAIL'}   {case.name}",
                    9.5,
                    weight="bold",
                    color=green if case.passed else red,
                )
                unit = f" {case.unit}" if case.unit else ""
                value = f"error: {case.error}" if case.error else f"{_number(case.value)}{unit}"
                out.line(f"{case.quantity}: {value}; reference {tolerance_text(case)}", 8.5)
                out.line(f"Source: {case.source}", 7.5, color=grey, width=125)
            if verification.skipped:
                out.line(f"NOT RUN (heavy, skipped by --quick): {', '.join(verification.skipped)}",
                         8.5, color=red)  # fmt: skip
        out.gap(0.03)
        out.line(
            "Run by (name, role): ______________________    Signature: ______________    "
            "Date: ____________",
            9,
        )
        out.flush()

    def write(tmp: Path) -> None:
        with PdfPages(
            tmp, metadata={"Creator": APP_NAME, "Title": "Installation verification evidence"}
        ) as pdf:
            pages(pdf)

    write_atomic(path, write, suffix=".pdf")
    return path
