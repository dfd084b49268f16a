"""`meditwin twins` and `meditwin run`: the twin platform from the command line.

`run` output (JSON): {"twin": id, "version": v, "scenarios": [{"name", "status": "ok" |
"failed" | "cancelled", "error": text or null, "outcomes": {name: {"value", "unit"}},
"warnings": [text]}]}; a value of null (not applicable) comes with a "note" ("never").
Scenarios file: {"scenarios": [{"name": "...", "set": {"param": value, ...}}, ...]}, values
in each parameter's declared unit. Exit: 0 every scenario ran, 1 some failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.case_images import load_case_image
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import BASELINE, parse_overrides, run_scenarios
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.twin import Scenario, Twin, TwinInputError


def twins_command(args: argparse.Namespace) -> int:
    """List installed twins (and plugins that could not be loaded)."""
    registry = discover()
    if args.json:
        print(
            json.dumps(
                {
                    "twins": [t.describe() for t in registry.twins.values()],
                    "problems": registry.problems,
                },
                indent=2,
            )
        )
        return 0
    if not registry.twins:
        print("No twins are installed.")
    for twin in registry.twins.values():
        print(f"{twin.id}\t{twin.title} ({twin.specialty}, version {twin.version})")
    for problem in registry.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def read_scenarios(path: Path, twin: Twin) -> list[Scenario]:
    """Scenarios from a JSON file; InputError naming what is wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = document["scenarios"]
        scenarios = [Scenario(str(e["name"]), dict(e.get("set", {}))) for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"{path} is not a scenarios file ({error}); expected "
            '{"scenarios": [{"name": "...", "set": {"parameter": value}}]}.'
        ) from None
    names = [s.name for s in scenarios]
    if not scenarios or len(set(names)) != len(names):
        raise InputError(f"{path}: scenario names must be present and unique.")
    for scenario in scenarios:
        for name in scenario.overrides:
            twin.parameter(name)
    return scenarios


def _case(args: argparse.Namespace) -> tuple[Case, CaseLibrary | None]:
    if args.demo is not None:
        from meditwin_desktop.demo.case import demo_case

        return demo_case(args.demo or "thorax-abdomen"), None
    library = CaseLibrary()
    case = library.load(library.find(args.case))
    return load_case_image(case), library


def run_json(run, twin: Twin) -> dict:
    """One scenario's entry of the `meditwin run --json` output."""
    declared = {o.name: o for o in twin.outcomes}
    outcomes = {}
    for name, value in run.outcomes.items():
        outcome = declared.get(name)
        entry = {"value": value, "unit": outcome.unit if outcome else ""}
        if value is None and outcome is not None:
            entry["note"] = outcome.absent  # e.g. "never", "outside validity"
        outcomes[name] = entry
    warnings = list(run.result.warnings) if run.result is not None else []
    return {"name": run.scenario, "status": run.status, "error": run.error,
            "outcomes": outcomes, "warnings": warnings}  # fmt: skip


def run_command(args: argparse.Namespace) -> int:
    """Run a twin's scenarios on a case and print their outcomes."""
    registry = discover()
    try:
        twin = registry.get(args.twin)
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    try:
        scenarios = read_scenarios(args.scenarios, twin) if args.scenarios else [Scenario(BASELINE)]
        common = parse_overrides(twin, args.set or [])
    except TwinInputError as error:
        raise InputError(str(error)) from None
    for scenario in scenarios:
        scenario.overrides = {**scenario.overrides, **common}
    case, library = _case(args)
    runner = Runner(timeout_s=args.timeout)
    try:
        runs = run_scenarios(twin, case, scenarios, runner)
    except TwinInputError as error:
        raise InputError(str(error)) from None
    finally:
        runner.shutdown()
    if library is not None:
        case.scenarios[twin.id] = scenarios
        library.save(case)
    absent = {o.name: o.absent for o in twin.outcomes}
    report = {
        "twin": twin.id,
        "version": twin.version,
        "scenarios": [run_json(run, twin) for run in runs],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for entry in report["scenarios"]:
            print(
                f"{entry['name']}: {entry['status']}"
                + (f" ({entry['error']})" if entry["error"] else "")
            )
            for name, outcome in entry["outcomes"].items():
                value = outcome["value"]
                text = absent.get(name, "–") if value is None else f"{value:.6g} {outcome['unit']}"
                print(f"  {name} = {text}".rstrip())
            for warning in entry["warnings"]:
                print(f"  note: {warning}")
    return 0 if all(run.status == "ok" for run in runs) else 1


def report_command(args: argparse.Namespace) -> int:
    """Write the board report of a stored case."""
    from meditwin_desktop.core.report import write_report

    library = CaseLibrary()
    case = load_case_image(library.load(library.find(args.case)))
    registry = discover()
    twin_id = args.twin or next((t for t, runs in case.runs.items() if runs), None)
    if twin_id is None:
        raise InputError(f"No twin has been run on case '{case.name}' yet (see `meditwin run`).")
    try:
        twin = registry.get(twin_id)
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    path = write_report(case, twin, args.out, pseudonym=args.pseudonym)
    print(f"Report written to {path}")
    return 0
