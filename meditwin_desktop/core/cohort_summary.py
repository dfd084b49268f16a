"""A cohort's outputs: the table of outcomes and the summary over cases.

`write_outputs` writes, atomically, in the cohort's folder:
- `outcomes.csv`: one row per case and scenario: case (id), line (in the cohort file),
  scenario, status (ok, failed, skipped), error (or why the case was skipped), each
  outcome's value (empty: none), with uncertainty `<outcome>:median`, `:low`, `:high`,
  `:p_target`, and the observed values given (`observed:<outcome>`). Comma-separated,
  numbers with a decimal point, at full precision. `outcomes.parquet` too when pyarrow can
  be imported (it is not a dependency).
- `summary.json` (`summarise_cohort`): per scenario and number outcome, its distribution
  over cases (n, mean, sd, median, quartiles, min, max, the share meeting the clinical
  target); failed runs; skipped cases with the reason; and where observed outcomes are
  given, the agreement (n pairs, bias = mean of predicted - observed, MAE, RMSE, Pearson r,
  Bland-Altman 95 % limits = bias -+ 1.96 sd of the differences) and, with uncertainty, the
  share of observed values inside the predicted interval (coverage).
- `summary.md`: the same for a reader, in the language in use.
Cases are named by their id only.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop import __version__
from meditwin_desktop.core.atomic import write_atomic, write_text_atomic
from meditwin_desktop.core.case import now
from meditwin_desktop.core.cohort import CohortCase
from meditwin_desktop.core.i18n import decimal_separator, number, tr
from meditwin_desktop.core.twin import Outcome, Scenario, Twin
from meditwin_desktop.core.uncertainty import UncertaintyPlan

SPREAD_FIELDS = ("median", "low", "high", "p_target")
LOA_Z = 1.96  # Bland and Altman (1986): 95 % limits of agreement


def _value(record: dict[str, Any] | None, name: str) -> Any:
    return ((record or {}).get("outcomes") or {}).get(name, {}).get("value")


def _number_or_none(value: Any) -> float | None:
    """A finite number, or None (absent, a category, a position)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    return str(value)


def outcome_table(
    twin: Twin,
    cases: Sequence[CohortCase],
    scenarios: Sequence[Scenario],
    records: dict[tuple[str, str], dict[str, Any]],
    with_spread: bool,
) -> tuple[list[str], list[list[Any]]]:
    """The headers and rows of outcomes.csv (values as they are: numbers, text, None)."""
    given = {name for c in cases for values in c.observed.values() for name in values}
    observed = [o.name for o in twin.outcomes if o.name in given]
    headers = ["case", "line", "scenario", "status", "error"]
    for outcome in twin.outcomes:
        headers.append(outcome.name)
        if with_spread and outcome.numeric:
            headers += [f"{outcome.name}:{f}" for f in SPREAD_FIELDS]
    headers += [f"observed:{name}" for name in observed]
    rows = []
    for case in cases:
        for scenario in scenarios:
            record = records.get((case.id, scenario.name)) or {}
            row: list[Any] = [case.id, case.line, scenario.name, record.get("status", ""),
                              record.get("error")]  # fmt: skip
            for outcome in twin.outcomes:
                entry = (record.get("outcomes") or {}).get(outcome.name, {})
                row.append(entry.get("value"))
                if with_spread and outcome.numeric:
                    row += [entry.get(f) for f in SPREAD_FIELDS]
            given = case.observed.get(scenario.name, {})
            row += [given.get(name) for name in observed]
            rows.append(row)
    return headers, rows


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """n, mean, sd (n - 1), median, quartiles (linear interpolation), min and max."""
    data = np.asarray(values, float)
    if not len(data):
        return {"n": 0}
    q1, median, q3 = (float(q) for q in np.percentile(data, [25, 50, 75]))
    return {"n": len(data), "mean": float(data.mean()),
            "sd": float(data.std(ddof=1)) if len(data) > 1 else None,
            "median": median, "q1": q1, "q3": q3,
            "min": float(data.min()), "max": float(data.max())}  # fmt: skip


def agreement(
    predicted: Sequence[float],
    observed: Sequence[float],
    intervals: Sequence[tuple[float | None, float | None]] | None = None,
) -> dict[str, Any]:
    """Predicted against observed: n, bias (mean of predicted - observed), MAE, RMSE,
    Pearson r (3 pairs or more, neither constant), Bland-Altman 95 % limits (2 pairs or
    more) and, given each prediction's interval, the share of observed values inside it."""
    p, o = np.asarray(predicted, float), np.asarray(observed, float)
    result: dict[str, Any] = {"n": len(p)}
    if not len(p):
        return result
    d = p - o
    bias = float(d.mean())
    result.update({"bias": bias, "mae": float(np.abs(d).mean()),
                   "rmse": float(math.sqrt(float((d**2).mean()))),
                   "pearson_r": None, "loa_low": None, "loa_high": None})  # fmt: skip
    if len(d) > 1:
        sd = float(d.std(ddof=1))
        result["loa_low"], result["loa_high"] = bias - LOA_Z * sd, bias + LOA_Z * sd
    if len(p) > 2 and np.ptp(p) > 0 and np.ptp(o) > 0:
        result["pearson_r"] = float(np.corrcoef(p, o)[0, 1])
    if intervals is not None:
        inside = [low <= obs <= high for (low, high), obs in zip(intervals, o, strict=True)
                  if low is not None and high is not None]  # fmt: skip
        result["coverage_n"] = len(inside)
        result["coverage"] = float(np.mean(inside)) if inside else None
    return result


def _on_target(outcome: Outcome, values: list[Any]) -> float | None:
    """The share of the values meeting the outcome's target; an absent value (None) meets
    it when the outcome says absent is best, as in `uncertainty.outcome_spread`."""
    if outcome.target is None or not values:
        return None
    met = [(v is None and outcome.absent_is_best) or
           (v is not None and not outcome.off_target(float(v))) for v in values]  # fmt: skip
    return float(np.mean(met))


def summarise_cohort(
    twin: Twin,
    cases: Sequence[CohortCase],
    scenarios: Sequence[Scenario],
    records: dict[tuple[str, str], dict[str, Any]],
    plan: UncertaintyPlan | None = None,
) -> dict[str, Any]:
    """The content of summary.json."""
    skipped, failures = [], []
    for case in cases:
        first = records.get((case.id, scenarios[0].name)) or {}
        if first.get("status") == "skipped":
            skipped.append({"case": case.id, "reason": first.get("error")})
            continue
        for scenario in scenarios:
            record = records.get((case.id, scenario.name)) or {}
            if record.get("status") != "ok":
                failures.append({"case": case.id, "scenario": scenario.name,
                                 "status": record.get("status", "not run"),
                                 "error": record.get("error")})  # fmt: skip
    statuses = [(records.get((c.id, s.name)) or {}).get("status") for c in cases
                for s in scenarios]  # fmt: skip
    summary: dict[str, Any] = {
        "format": "meditwin-cohort-summary", "version": 1,
        "twin": {"id": twin.id, "version": twin.version, "title": twin.title},
        "written": now(), "app_version": __version__,
        "scenarios": [s.name for s in scenarios],
        "uncertainty": None if plan is None else {"samples": plan.samples, "seed": plan.seed,
                                                  "level": plan.level},
        "cases": {"total": len(cases), "skipped": len(skipped)},
        "runs": {"total": len(cases) * len(scenarios) - len(skipped) * len(scenarios),
                 "ok": statuses.count("ok"), "failed": len(failures)},
        "outcomes": {}, "agreement": {}, "failures": failures, "skipped": skipped,
    }  # fmt: skip
    for scenario in scenarios:
        ok = [(c, records[(c.id, scenario.name)]) for c in cases
              if (records.get((c.id, scenario.name)) or {}).get("status") == "ok"]  # fmt: skip
        summary["outcomes"][scenario.name] = {
            o.name: _outcome_summary(o, [r for _, r in ok], plan is not None)
            for o in twin.outcomes
            if not o.point
        }
        compared = {}
        for outcome in twin.outcomes:
            pairs = [(c, r) for c, r in ok if outcome.name in c.observed.get(scenario.name, {})]
            given = sum(outcome.name in c.observed.get(scenario.name, {}) for c in cases)
            if not given:
                continue
            pairs = [(c, r) for c, r in pairs
                     if _number_or_none(_value(r, outcome.name)) is not None]  # fmt: skip
            entries = [r["outcomes"][outcome.name] for _, r in pairs]
            intervals = ([(e.get("low"), e.get("high")) for e in entries]
                         if plan is not None else None)  # fmt: skip
            found = agreement([e["value"] for e in entries],
                              [c.observed[scenario.name][outcome.name] for c, _ in pairs],
                              intervals)  # fmt: skip
            found["observed"] = given
            found["unit"] = outcome.unit
            compared[outcome.name] = found
        if compared:
            summary["agreement"][scenario.name] = compared
    return summary


def _outcome_summary(outcome: Outcome, records: list[dict[str, Any]], spread: bool
                     ) -> dict[str, Any]:  # fmt: skip
    entries = [(r.get("outcomes") or {}).get(outcome.name) for r in records]
    present = [e for e in entries if e is not None]
    values = [e.get("value") for e in present]
    entry: dict[str, Any] = {"label": outcome.label, "unit": outcome.unit}
    if outcome.categories:
        entry["n"] = sum(v is not None for v in values)
        entry["counts"] = {c: sum(v == c for v in values) for c in outcome.categories}
        return entry
    numbers = [x for v in values if (x := _number_or_none(v)) is not None]
    entry.update(distribution(numbers))
    entry["absent"] = len(present) - len(numbers)
    if outcome.target is not None:
        entry["target"] = outcome.target.describe(outcome.unit)
        entry["on_target"] = _on_target(outcome, values)
    if spread:
        chances = [e["p_target"] for e in present if e.get("p_target") is not None]
        entry["mean_p_target"] = float(np.mean(chances)) if chances else None
    return entry


# -- the reader's summary ----------------------------------------------------------------------
def _shown(value: float | None, outcome: Outcome | None = None, extra: int = 0) -> str:
    """A number as the summary shows it (the outcome's precision, the language's decimal
    separator); a dash for none."""
    if value is None:
        return "—"
    if outcome is not None and outcome.precision is not None:
        return number(value, outcome.precision + extra)
    text = f"{value:.{4 + extra}g}"
    return text.replace(".", decimal_separator())


def _share(value: float | None) -> str:
    return "—" if value is None else f"{number(100 * value, 0)} %"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def summary_markdown(summary: dict[str, Any], twin: Twin) -> str:
    """summary.md: the summary for a reader (headings in the language in use)."""
    declared = {o.name: o for o in twin.outcomes}
    runs, cases = summary["runs"], summary["cases"]
    lines = ["# " + tr("Cohort summary: {twin}").format(twin=tr(twin.title)), ""]
    lines += [
        "- " + tr("Twin: {id}, version {version}; written {time}.").format(
            id=twin.id, version=twin.version, time=summary["written"]),
        "- " + tr("Cases: {count}, of which skipped (the twin does not fit): {skipped}.").format(
            count=cases["total"], skipped=cases["skipped"]),
        "- " + tr("Runs: {total}; ok: {ok}; failed: {failed}.").format(
            total=runs["total"], ok=runs["ok"], failed=runs["failed"]),
    ]  # fmt: skip
    plan = summary["uncertainty"]
    if plan:
        lines.append("- " + tr(
            "With uncertainty: {samples} sampled runs per case and scenario (seed {seed}); "
            "intervals of {level} %.").format(samples=plan["samples"], seed=plan["seed"],
                                               level=number(100 * plan["level"], 0)))  # fmt: skip
    lines += [
        "- "
        + tr(
            "Cases are named by their id in the library (a case file by 'file-' "
            "and a hash of its path); no patient name or ID is written here."
        ),
        "",
    ]
    for scenario in summary["scenarios"]:
        lines += ["## " + tr("Scenario: {name}").format(name=scenario), ""]
        lines += _distribution_lines(summary["outcomes"].get(scenario, {}), declared,
                                     bool(plan))  # fmt: skip
        compared = summary["agreement"].get(scenario)
        if compared:
            lines += ["", "### " + tr("Observed and predicted outcomes"), "",
                      tr("Differences are predicted minus observed; the limits of agreement "
                         "(Bland-Altman) are the mean difference plus or minus 1.96 standard "
                         "deviations of the differences."), ""]  # fmt: skip
            lines += _agreement_lines(compared, declared, bool(plan))
        lines.append("")
    lines += ["## " + tr("Failed runs"), ""]
    failed = tr("{case}, {scenario}: {error}")
    lines += ["- " + failed.format(case=f"`{f['case']}`", scenario=f["scenario"],
                                   error=f["error"] or f["status"])
              for f in summary["failures"]] or [tr("No run failed.")]  # fmt: skip
    lines += ["", "## " + tr("Skipped cases"), ""]
    skipped = tr("{case}: {reason}")
    lines += ["- " + skipped.format(case=f"`{s['case']}`", reason=s["reason"])
              for s in summary["skipped"]] or [tr("No case was skipped.")]  # fmt: skip
    return "\n".join(lines) + "\n"


def _distribution_lines(outcomes: dict[str, Any], declared: dict[str, Outcome], spread: bool
                        ) -> list[str]:  # fmt: skip
    headers = [tr("Outcome"), tr("Unit"), "n", tr("Mean"), tr("SD"), tr("Median"),
               tr("Quartiles"), tr("Range"), tr("No value"), tr("On target")]  # fmt: skip
    if spread:
        headers.append(tr("Mean probability of the target"))
    rows = []
    for name, entry in outcomes.items():
        outcome = declared[name]
        if outcome.categories:
            counts = ", ".join(f"{c}: {n}" for c, n in entry["counts"].items())
            rows.append([tr(outcome.label), "", str(entry["n"]), counts, *[""] * (
                len(headers) - 4)])  # fmt: skip
            continue
        if not entry.get("n"):
            rows.append([tr(outcome.label), tr(outcome.unit), "0", *["—"] * 5,
                         str(entry.get("absent", 0)), "—"] + (["—"] if spread else []))  # fmt: skip
            continue
        on_target = "—"
        if entry.get("target"):
            on_target = f"{_share(entry['on_target'])} ({entry['target']})"
        row = [tr(outcome.label), tr(outcome.unit), str(entry["n"]),
               _shown(entry["mean"], outcome, 1),
               _shown(entry["sd"], outcome, 1), _shown(entry["median"], outcome),
               f"{_shown(entry['q1'], outcome)} – {_shown(entry['q3'], outcome)}",
               f"{_shown(entry['min'], outcome)} – {_shown(entry['max'], outcome)}",
               str(entry["absent"]), on_target]  # fmt: skip
        if spread:
            row.append(_share(entry.get("mean_p_target")))
        rows.append(row)
    return _table(headers, rows)


def _agreement_lines(compared: dict[str, Any], declared: dict[str, Outcome], spread: bool
                     ) -> list[str]:  # fmt: skip
    headers = [tr("Outcome"), tr("Unit"), tr("Pairs"), tr("Bias"), "MAE", "RMSE",
               tr("Pearson r"), tr("95 % limits of agreement")]  # fmt: skip
    if spread:
        headers.append(tr("Observed inside the predicted interval"))
    rows = []
    for name, entry in compared.items():
        outcome = declared[name]
        pairs = tr("{pairs} of {observed}").format(pairs=entry["n"], observed=entry["observed"])
        row = [tr(outcome.label), tr(outcome.unit), pairs]
        if entry["n"]:
            r = entry["pearson_r"]
            row += [_shown(entry["bias"], outcome, 1), _shown(entry["mae"], outcome, 1),
                    _shown(entry["rmse"], outcome, 1), "—" if r is None else number(r, 2),
                    f"{_shown(entry['loa_low'], outcome, 1)} – "
                    f"{_shown(entry['loa_high'], outcome, 1)}"]  # fmt: skip
        else:
            row += ["—"] * 5
        if spread:
            share = _share(entry.get("coverage"))
            row.append(f"{share} ({entry.get('coverage_n', 0)})")
        rows.append(row)
    return _table(headers, rows)


# -- writing ------------------------------------------------------------------------------------
def _csv_text(headers: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _write_parquet(path: Path, headers: list[str], rows: list[list[Any]]) -> bool:
    """outcomes.parquet when pyarrow can be imported (not a dependency); False otherwise."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    columns = {}
    for n, header in enumerate(headers):
        values = [row[n] for row in rows]
        if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
               for v in values) and header != "line":  # fmt: skip
            columns[header] = pa.array([None if v is None else float(v) for v in values],
                                       pa.float64())  # fmt: skip
        elif header == "line":
            columns[header] = pa.array(values, pa.int64())
        else:
            columns[header] = pa.array([None if v is None else _cell(v) for v in values],
                                       pa.string())  # fmt: skip
    write_atomic(path, lambda tmp: pq.write_table(pa.table(columns), tmp), suffix=".parquet")
    return True


def write_outputs(
    folder: Path,
    twin: Twin,
    cases: Sequence[CohortCase],
    scenarios: Sequence[Scenario],
    records: dict[tuple[str, str], dict[str, Any]],
    plan: UncertaintyPlan | None = None,
) -> tuple[list[Path], dict[str, Any]]:
    """Write outcomes.csv (and .parquet), summary.json and summary.md; the files written
    and the summary."""
    folder = Path(folder)
    headers, rows = outcome_table(twin, cases, scenarios, records, plan is not None)
    written = [folder / "outcomes.csv"]
    write_text_atomic(written[0], _csv_text(headers, rows))
    if _write_parquet(folder / "outcomes.parquet", headers, rows):
        written.append(folder / "outcomes.parquet")
    summary = summarise_cohort(twin, cases, scenarios, records, plan)
    text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
    write_text_atomic(folder / "summary.json", text + "\n")
    write_text_atomic(folder / "summary.md", summary_markdown(summary, twin))
    written += [folder / "summary.json", folder / "summary.md"]
    return written, summary
