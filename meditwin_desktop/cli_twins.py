"""`meditwin twins`, `meditwin run` and `meditwin report`: the twin platform, headless.

`run` runs one scenario, or those of a scenarios file (`--scenarios`; the strict format is
described in `core/scenario_file.py`), on a demo case or a case of the library:
- `--set a=1` overrides parameters (in their declared units) for every scenario. The run is
  named by what it sets: "a=1" ("a=1, b=2" for several), or "Baseline" when nothing is set;
  with a scenarios file each scenario's name gets " (a=1)" appended.
- `--case` without `--save` runs and prints and leaves the stored case as it was, so what
  the case's board report compares never changes behind the user's back.
- `--save NAME` (with `--case` only) stores the runs in the case as a named set: one
  scenario is stored as NAME, several as "NAME: <scenario>". The scenarios (with their
  overrides, so that they can be re-run) and their runs replace same-named ones in the case;
  every other scenario and run stays as it was. Results are printed under these names, and
  printed before the case is saved: a failed save still shows them (exit 1, reason on stderr).

- `--export DIR` (an existing folder) also writes each scenario's results as files, after
  printing them (and before saving with --save), one folder per scenario:
      DIR/<scenario>/            the scenario's name made safe for a file name (characters
                                 other than letters, digits, space and . , ( ) + = - become
                                 "_"; names that collide get " (2)", " (3)"...)
        outcomes.json            twin (id, version, title), scenario, status, error, time,
                                 parameters {name: {"value", "unit"}}, outcomes {name:
                                 {"value", "unit", "label", "note"?, "target"?, "off_target"?}},
                                 warnings, and "series", "fields", "overlays", "tables":
                                 {result name: {"file", "label", "unit", ...}}
        <series>.csv             a curve: columns "<x> [<unit>]", "<label> [<unit>]"
        <series>.observed.csv    the patient's observed points of that curve (same columns)
        <field>.nii.gz           a field on an image grid (NIfTI; 0/1 fields as uint8)
        <field>.vtp              values on a surface mesh (VTK PolyData, points in LPS mm,
                                 point data named after the field)
        <overlay>.png            an overlay of the photograph's size, 8-bit grey: a mask as
                                 0/255; values scaled to 1..255 (0: no value) or 0..255, the
                                 scale in outcomes.json ("overlays" -> "scale": low, high, first)
        <table>.csv              a table: its columns, headed "<column> [<unit>]"
  File names are the results' names made safe; existing files of the same names are
  replaced (atomically), others in the folder are left alone. A failed run gets its
  outcomes.json (status and error) only. An export that fails exits 1 with the reason.

`run` output (JSON): {"twin": id, "version": v, "scenarios": [{"name", "status": "ok" |
"failed" | "cancelled", "error": text or null, "outcomes": {name: {"value", "unit"}},
"warnings": [text]}]}; a value of null (undefined for this run) comes with a "note" saying
why (the model's reason, or the outcome's declared meaning such as "never"); a value may
also carry a "note" with the model's caveat.
Exit: 0 every scenario ran (and was saved), 1 some failed or the save failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from meditwin_desktop.cli_cluster import make_runner
from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.case_images import load_case_image
from meditwin_desktop.core.cluster_privacy import protect_case
from meditwin_desktop.core.errors import InputError, MeditwinError
from meditwin_desktop.core.output_paths import output_file, output_folder
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.result_export import export_runs, outcome_entries
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenario_file import read_scenarios
from meditwin_desktop.core.scenarios import (
    BASELINE,
    overrides_label,
    parse_overrides,
    run_scenarios,
)
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.twin import Scenario, Spread, Twin
from meditwin_desktop.core.uncertainty import UncertaintyPlan

log = logging.getLogger(__name__)

__all__ = ["read_scenarios", "report_command", "run_command", "twins_command"]


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


def _case(args: argparse.Namespace) -> tuple[Case, CaseLibrary | None]:
    if args.demo is not None:
        from meditwin_desktop.demo.case import DEMO_CASES, demo_case

        name = args.demo or "thorax-abdomen"
        if DEMO_CASES.get(name, {}).get("image"):
            _start_dicom_workers()
        return demo_case(name), None
    library = CaseLibrary()
    return _with_image(library.load(library.find(args.case))), library


def _with_image(case: Case) -> Case:
    """The case with its image loaded (DICOM workers started first, see below)."""
    if case.image_reference:
        _start_dicom_workers()
    return load_case_image(case)


@contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """Worker processes started inside ignore Ctrl-C (SIG_IGN survives exec, so a spawned
    Python installs no KeyboardInterrupt handler). The terminal sends SIGINT to the whole
    process group; this process handles it and shuts its workers down, where a worker would
    print a traceback. (A Ctrl-C in these few milliseconds is lost.)"""
    handler = signal.getsignal(signal.SIGINT)
    if handler is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


def _start_dicom_workers() -> None:
    from meditwin_desktop.core.imaging.dicom import workers

    with _children_ignore_ctrl_c():
        workers.warm_up()  # each submit starts one process, here in the main thread


def run_json(run, twin: Twin) -> dict:
    """One scenario's entry of the `meditwin run --json` output."""
    outcomes = outcome_entries(run, twin)  # a null value has a note saying why
    warnings = list(run.result.warnings) if run.result is not None else []
    entry = {"name": run.scenario, "status": run.status, "error": run.error,
             "outcomes": outcomes, "warnings": warnings}  # fmt: skip
    if run.result is not None and run.result.uncertainty:
        entry["uncertainty"] = run.result.uncertainty
    if run.result is not None and run.result.sensitivity:  # outcome -> input -> S1, ST
        entry["sensitivity"] = {
            name: {k: {"first_order": v[0], "total": v[1]} for k, v in per_input.items()}
            for name, per_input in run.result.sensitivity.items()
        }
    return entry


def run_command(args: argparse.Namespace) -> int:
    """Run a twin's scenarios on a case, print their outcomes, store them if asked (--save)."""
    registry = discover()
    try:
        twin = registry.get(args.twin)
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    if args.save is not None and args.demo is not None:
        raise InputError(
            "--save stores runs in a case of the library; a demo case is not stored "
            "(use --case, or leave --save out)."
        )
    export = getattr(args, "export", None)
    if export is not None:
        export = output_folder(export)  # before anything runs: a typo costs nothing
    scenarios = scenarios_to_run(
        twin,
        read_scenarios(args.scenarios, twin) if args.scenarios else None,
        parse_overrides(twin, args.set or []),
        args.save,
    )
    case, library = _case(args)
    protect_case(case)  # its name, ID and birth date: never logged, never sent to a cluster
    stored_runs = {twin_id: list(runs) for twin_id, runs in case.runs.items()}
    try:  # a twin split in parts (a VT's pacing sites) runs them side by side
        parts = len(scenarios) * max(1, len(twin.parts(twin.parameters_for({}, {}))))
    except Exception:
        parts = len(scenarios)
    runner = make_runner(args, min(parts, os.cpu_count() or 1), args.timeout)
    try:
        _start_workers(runner)
        plan = None
        if getattr(args, "uncertainty", None):
            plan = UncertaintyPlan(samples=args.uncertainty, seed=args.seed,
                                   sensitivity=args.sensitivity)  # fmt: skip
        elif getattr(args, "sensitivity", False):
            raise InputError("--sensitivity needs --uncertainty N (the number of samples).")
        # TwinInputError before any run
        runs = run_scenarios(twin, case, scenarios, runner, uncertainty=plan)
    finally:
        runner.shutdown()
    code = 0 if all(run.status == "ok" for run in runs) else 1
    if args.save is None or library is None:
        _print_runs(runs, twin, as_json=args.json)
        return max(code, _export(runs, twin, export, args.json))  # the case is left as it was
    try:
        _print_runs(runs, twin, as_json=args.json)
        sys.stdout.flush()  # the results are out before the save is tried
        output_closed = False
    except BrokenPipeError:  # `| head`: what was asked to be saved is saved all the same
        output_closed = True
    code = max(code, _export(runs, twin, export, args.json or output_closed))
    case.runs = stored_runs  # run_scenarios replaced same-named runs in memory: start afresh
    store_runs(case, twin, scenarios, runs)
    try:
        library.save(case)
    except (OSError, sqlite3.Error, MeditwinError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        log.warning("saving the runs failed", exc_info=True, extra={"log_only": True})
        print(f"meditwin: the results above were not saved: {reason}", file=sys.stderr)
        return 1
    if output_closed:
        raise BrokenPipeError(errno.EPIPE, "the output was closed")
    if not args.json:
        names = ", ".join(f"'{s.name}'" for s in scenarios)
        print(f"Saved in case '{case.name}' as {names}.")
    return code


def _export(runs: list[Run], twin: Twin, folder, quiet: bool) -> int:
    """Write the runs' results under `folder` (if given); 0, or 1 with the reason on stderr."""
    if folder is None:
        return 0
    try:
        files = export_runs(runs, twin, folder)
    except (OSError, MeditwinError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        log.warning("exporting the results failed", exc_info=True, extra={"log_only": True})
        print(f"meditwin: the results were not exported to {folder}: {reason}", file=sys.stderr)
        return 1
    message = f"Results of {len(runs)} scenario(s) written to {folder} ({len(files)} files)."
    print(message, file=sys.stderr if quiet else sys.stdout)
    return 0


def scenarios_to_run(
    twin: Twin,
    from_file: list[Scenario] | None,
    common: dict[str, Any],
    save_as: str | None = None,
) -> list[Scenario]:
    """The scenarios `meditwin run` runs, named by what they set.

    No file: one scenario, "Baseline" when nothing is set, else named by --set ("a=1, b=2").
    A file: its scenarios, each with the --set overrides on top and " (a=1)" after its name.
    With `save_as`: one scenario is named `save_as`, several "save_as: <name>".
    """
    label = overrides_label(common)
    if from_file is None:
        scenarios = [Scenario(label or BASELINE, dict(common))]
    else:
        scenarios = [
            Scenario(f"{s.name} ({label})" if label else s.name, {**s.overrides, **common})
            for s in from_file
        ]
    if save_as is not None:
        for scenario in scenarios:
            scenario.name = save_as if len(scenarios) == 1 else f"{save_as}: {scenario.name}"
    return scenarios


def store_runs(case: Case, twin: Twin, scenarios: list[Scenario], runs: list[Run]) -> None:
    """Add scenarios (overrides validated, so they can be re-run) and their runs to the case,
    replacing same-named ones in place and leaving every other one as it was."""
    typed = [
        Scenario(s.name, {k: twin.parameter(k).validate(v) for k, v in s.overrides.items()})
        for s in scenarios
    ]
    case.scenarios[twin.id] = _merge(case.scenarios.get(twin.id, []), typed, lambda s: s.name)
    case.runs[twin.id] = _merge(case.runs.get(twin.id, []), runs, lambda r: r.scenario)


def _merge(old: list, new: list, name: Callable[[Any], str]) -> list:
    replacing = {name(item): item for item in new}
    merged = []
    for item in old:
        if name(item) not in replacing:
            merged.append(item)
        elif replacing[name(item)] is not None:
            merged.append(replacing[name(item)])
            replacing[name(item)] = None  # a repeated old name is dropped
    return merged + [item for item in new if replacing[name(item)] is not None]


def _start_workers(runner: Runner) -> None:
    """Start the runner's worker processes now, ignoring Ctrl-C (see above)."""
    with _children_ignore_ctrl_c():
        runner.warm_up()


def _print_runs(runs: list[Run], twin: Twin, *, as_json: bool) -> None:
    report = {
        "twin": twin.id,
        "version": twin.version,
        "scenarios": [run_json(run, twin) for run in runs],
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    from meditwin_desktop.core.comparison import shown_unit, spread_text, value_text

    absent_texts = {o.absent for o in twin.outcomes if o.absent}
    declared = {o.name: o for o in twin.outcomes}
    for entry in report["scenarios"]:
        print(
            f"{entry['name']}: {entry['status']}"
            + (f" ({entry['error']})" if entry["error"] else "")
        )
        for name, outcome in entry["outcomes"].items():
            value, note = outcome["value"], outcome.get("note", "")
            if value is None:
                text = note if note in absent_texts else f"n/a ({note})"
            else:
                known = declared.get(name)  # at its clinical precision, in the user's units
                shown = (f"{value_text(known, value)} {shown_unit(known)}" if known is not None
                         else f"{value:.6g} {outcome['unit']}").rstrip()  # fmt: skip
                text = shown + (f" ({note})" if note else "")
                if known is not None and "median" in outcome:
                    spread = Spread(*(outcome[k] for k in ("median", "low", "high", "level",
                                                           "p_target", "samples", "failed",
                                                           "undefined")))  # fmt: skip
                    text += " " + spread_text(known, spread)
            print(f"  {name} = {text}".rstrip())
        for warning in entry["warnings"]:
            print(f"  note: {warning}")


def report_command(args: argparse.Namespace) -> int:
    """Write the board report of a stored case."""
    from meditwin_desktop.core.report import write_report

    out = output_file(args.out, ".pdf")  # before anything is loaded or computed
    library = CaseLibrary()
    case = _with_image(library.load(library.find(args.case)))
    registry = discover()
    twin_id = args.twin or next((t for t, runs in case.runs.items() if runs), None)
    if twin_id is None:
        raise InputError(f"No twin has been run on case '{case.name}' yet (see `meditwin run`).")
    try:
        twin = registry.get(twin_id)
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    path = write_report(case, twin, out, pseudonym=args.pseudonym)
    print(f"Report written to {path}")
    return 0
