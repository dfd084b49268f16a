"""`meditwin cohort run`: a twin over a cohort of cases, resumable (see docs/cohort.md).

    meditwin cohort run TWIN (--cases FILE | --all) [--scenarios F] [--uncertainty N]
        [--seed S] [--timeout S] [--scheduler ADDRESS] --out DIR [--json]

`--cases FILE`: a CSV with a `case` column (library id or name, or a case file / DICOM
folder / photograph, relative to FILE's folder), optional `scenario` and
`observed:<outcome>` columns (`core/cohort.py`); `--all`: every case of the library.
Scenarios: those of `--scenarios` (the format of `meditwin run --scenarios`), else the
Baseline. Each run is appended to DIR/runs.jsonl as it ends; the same command on the same
DIR goes on where it stopped (runs whose case, parameters and twin are unchanged are not
run again; failed runs are retried). At the end: DIR/outcomes.csv (and .parquet when
pyarrow is installed), DIR/summary.json and DIR/summary.md (`core/cohort_summary.py`).
Cases are named by their id only. Progress on stderr (not with --json). Exit: 0 every run
ended ok (skipped cases included), 1 some runs failed, 2 bad input, 130 interrupted (the
finished runs are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from meditwin_desktop.cli import _existing_path, _sample_count, _seconds
from meditwin_desktop.cli_cluster import add_cluster_arguments, make_runner
from meditwin_desktop.core.errors import InputError


def add_parser(commands) -> None:
    """Add `cohort` to the `meditwin` parser."""
    cohort = commands.add_parser("cohort", help="run a twin over a cohort of cases")
    actions = cohort.add_subparsers(dest="cohort_command", metavar="COMMAND", required=True)
    run = actions.add_parser(
        "run",
        help="run a twin's scenarios on many cases, resumable",
        description="Run a twin's scenarios on every case of a cohort file or of the library. "
        "Each run is kept in DIR/runs.jsonl as it ends; the same command on the same DIR "
        "resumes without redoing finished runs. Writes DIR/outcomes.csv, DIR/summary.json "
        "and DIR/summary.md. Cases are named by their id only.",
    )
    run.add_argument("twin", help="twin id (see `meditwin twins`)")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--cases",
        type=_existing_path,
        metavar="FILE",
        help="CSV with a column 'case' (library id or name, or a case file path relative to "
        "FILE), optional 'scenario' and 'observed:<outcome>' columns (',' or ';')",
    )
    source.add_argument("--all", action="store_true", help="every case of the library")
    run.add_argument(
        "--scenarios",
        type=_existing_path,
        metavar="FILE",
        help="scenarios JSON file (as for `meditwin run`); default: the Baseline only",
    )
    run.add_argument(
        "--uncertainty",
        type=_sample_count,
        metavar="N",
        help="run each scenario with uncertainty (N sampled runs): median, 90%% interval "
        "and probability of the target per outcome, and coverage of observed values",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the sampling (0)")
    run.add_argument(
        "--timeout", type=_seconds, default=600.0, metavar="SECONDS", help="limit per run (600)"
    )
    run.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder of the results (created if missing; reuse it to resume)",
    )
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_cluster_arguments(run)


def cohort_command(args: argparse.Namespace) -> int:
    """Run the cohort subcommand."""
    from meditwin_desktop.core.cohort import library_cohort, read_cohort_file
    from meditwin_desktop.core.registry import discover
    from meditwin_desktop.core.scenario_file import read_scenarios
    from meditwin_desktop.core.scenarios import BASELINE
    from meditwin_desktop.core.store import CaseLibrary
    from meditwin_desktop.core.twin import Scenario
    from meditwin_desktop.core.uncertainty import UncertaintyPlan

    try:
        twin = discover().get(args.twin)
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    scenarios = (read_scenarios(args.scenarios, twin) if args.scenarios
                 else [Scenario(BASELINE, {})])  # fmt: skip
    library = CaseLibrary()
    if args.cases is not None:
        cases = read_cohort_file(args.cases, twin, scenarios, library)
    else:
        cases = library_cohort(library)
        if not cases:
            raise InputError("The case library has no case (see `meditwin case import`).")
    out = _out_folder(args.out)
    plan = (UncertaintyPlan(samples=args.uncertainty, seed=args.seed)
            if args.uncertainty else None)  # fmt: skip
    with _only_run_in(out):
        return _run(args, twin, cases, scenarios, plan, library, out)


def _run(args, twin, cases, scenarios, plan, library, out: Path) -> int:
    from meditwin_desktop.cli_twins import _start_dicom_workers, _start_workers
    from meditwin_desktop.core.cohort import RUNS_FILE, needs_images, run_cohort
    from meditwin_desktop.core.cohort_summary import write_outputs
    from meditwin_desktop.core.runner import ResultCache

    runner = make_runner(args, os.cpu_count() or 1, args.timeout)
    runner.cache = ResultCache(size=16)  # results are written out as they end
    progress = None if args.json else _Progress()
    try:
        if needs_images(twin):
            _start_dicom_workers()
        _start_workers(runner)
        result = run_cohort(twin, cases, scenarios, runner, out, library=library, plan=plan,
                            progress=progress, ahead=_ahead(runner))  # fmt: skip
    except KeyboardInterrupt:
        if progress is not None:
            progress.end()
        print(f"meditwin: stopped; the finished runs are kept in {out / RUNS_FILE}: run the "
              "same command again to go on.", file=sys.stderr, flush=True)  # fmt: skip
        raise
    finally:
        runner.shutdown()
    if progress is not None:
        progress.end()
    files, summary = write_outputs(out, twin, cases, scenarios, result.records, plan)
    state = result.progress
    if args.json:
        print(json.dumps({"out": str(out), "files": [f.name for f in files],
                          "ran": state.ran, "reused": state.reused, "summary": summary},
                         indent=2, ensure_ascii=False))  # fmt: skip
    else:
        runs = summary["runs"]
        print(
            f"Cohort of {len(cases)} case(s) x {len(scenarios)} scenario(s) with {twin.id}: "
            f"{runs['ok']} run(s) ok ({state.reused} from an earlier session), "
            f"{runs['failed']} failed, {summary['cases']['skipped']} case(s) skipped."
        )
        names = ", ".join(f.name for f in files)
        parquet = "" if any(f.suffix == ".parquet" for f in files) else (
            " (no outcomes.parquet: pyarrow is not installed)")  # fmt: skip
        print(f"Written to {out}: {names}{parquet}.")
    return 0 if result.failed == 0 else 1


def _out_folder(path: Path) -> Path:
    """The output folder, created (0700) if missing; its parent must exist."""
    from meditwin_desktop.core.output_paths import output_folder

    path = Path(path).expanduser()
    if not path.exists() and not path.is_symlink():
        output_folder(path.parent)
        path.mkdir(mode=0o700)
    return output_folder(path)


@contextmanager
def _only_run_in(out: Path) -> Iterator[None]:
    """Hold DIR/.lock: two cohort runs must not append to the same runs.jsonl."""
    from meditwin_desktop.core.locks import LockBusy, file_lock

    try:
        with file_lock(out / ".lock", exclusive=True, blocking=False):
            yield
    except LockBusy:
        raise InputError(f"Another cohort run is writing to {out}; wait for it to end or "
                         "choose another --out folder.") from None  # fmt: skip


def _ahead(runner) -> int:
    """Runs kept in flight: twice the workers (a cluster's threads when there is one), so
    that no worker waits while the next cases are loaded, and memory stays bounded."""
    workers = runner.max_parallel
    client = getattr(runner.executor, "client", None)
    if client is not None:
        with suppress(Exception):  # an older or other client: the local count
            workers = max(workers, sum(client.nthreads().values()))
    return 2 * max(1, workers)


class _Progress:
    """Cases done / total, runs failed and the time left, on stderr: one line rewritten
    on a terminal (twice a second at most), else a line every 10 s."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False  # a line is on the terminal, to end with a newline
        self.finished = False

    def __call__(self, state) -> None:
        now = time.monotonic()
        final = state.runs_done >= state.runs
        if self.finished or (not final and now - self.last < (0.5 if self.tty else 10.0)):
            return
        self.last, self.finished = now, final
        eta = state.eta_s()
        left = "" if eta is None or final else f", about {_duration(eta)} left"
        text = (f"cohort: {state.cases_done}/{state.cases} cases, {state.runs_done}/"
                f"{state.runs} runs ({state.reused} done before), {state.failed} failed, "
                f"{state.skipped} skipped{left}")  # fmt: skip
        try:
            if self.tty:
                print(f"\r{text:<100}", end="", file=sys.stderr, flush=True)
                self.shown = True
            else:
                print(text, file=sys.stderr, flush=True)
        except (OSError, ValueError):  # stderr closed
            pass

    def end(self) -> None:
        if self.tty and self.shown:
            print(file=sys.stderr, flush=True)
            self.shown = False


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
