"""The `meditwin` command line: headless commands on the same core as the GUI.

Exit codes: 0 done; 1 a run failed, the results were not saved, or the environment failed
(the case library cannot be read, a file cannot be written, an unexpected error: one line
on stderr, the traceback only in the log); 2 bad input (usage, a file or value that cannot
be used); 130 interrupted (Ctrl-C; worker processes are shut down); 141 the output was
closed early (`meditwin run ... | head`), quietly, as a shell reports a process ended by
SIGPIPE. Commands log to the application log file; when it cannot be opened (a read-only
data folder) they run anyway, logging to stderr only.

To add a command: a parser in `build_parser`, a `_cmd_<name>` function, an entry in
`_COMMANDS`.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.errors import InputError, MeditwinError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a closed pipe


def _existing_path(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"'{text}' does not exist")
    return path


def _seconds(text: str) -> float:
    """A time limit: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"give a number of seconds above 0, not '{text}'")
    return value


def _sample_count(text: str) -> int:
    """A number of sampled runs: a whole number from 2 to 100000."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of runs") from None
    if not 2 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"give 2 to 100000 runs, not {value}")
    return value


def _save_name(text: str) -> str:
    """A name to store runs under (the same rule as a scenario's name)."""
    from meditwin_desktop.core.scenario_file import name_problem

    problem = name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"the name {problem}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="meditwin",
        description=f"{APP_NAME}: clinical decision support with virtual twins.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="start the desktop application")
    gui.add_argument(
        "--demo",
        nargs="?",
        const="thorax-abdomen",
        metavar="NAME",
        help="open a case of the demo library (default: the thorax-abdomen CT; also "
        "post-mi-vt, post-mi-no-channel, crc-liver-followup, alzheimer-mci, dravet-child, "
        "neonate-hlhs, fh-patient)",
    )
    gui.add_argument("path", nargs="?", type=_existing_path, help="DICOM folder to open")
    gui.add_argument(
        "--exit-after-render",
        action="store_true",
        help=argparse.SUPPRESS,  # benchmarks: print timings once every view has rendered, exit
    )

    demo = commands.add_parser("demo", help="write the built-in demo patient library")
    demo.add_argument("--out", type=Path, required=True, help="folder to write into")

    dicom = commands.add_parser("dicom", help="scan and load DICOM")
    dicom_commands = dicom.add_subparsers(dest="dicom_command", metavar="ACTION", required=True)
    scan = dicom_commands.add_parser("scan", help="list patients, studies and series under PATH")
    scan.add_argument("path", type=_existing_path)
    scan.add_argument("--json", action="store_true", help="print JSON")
    load = dicom_commands.add_parser("load", help="load series into volumes, print geometry")
    load.add_argument("path", type=_existing_path)
    load.add_argument("--series", help="SeriesInstanceUID (default: every series)")
    load.add_argument("--json", action="store_true", help="print JSON")
    load.add_argument("--nifti", type=Path, metavar="DIR", help="also write each volume as NIfTI")

    twins = commands.add_parser("twins", help="list installed twins")
    twins.add_argument("--json", action="store_true", help="print JSON")

    run = commands.add_parser(
        "run",
        help="run a twin's scenarios on a case, headless",
        description="Run a twin's scenarios on a case and print the outcomes. With --case "
        "the stored case is left unchanged unless --save NAME is given.",
    )
    run.add_argument("twin", help="twin id (see `meditwin twins`)")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--case", help="case id or name in the local library (not changed without --save)"
    )
    source.add_argument("--demo", nargs="?", const="", metavar="NAME", help="a demo case")
    run.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="parameter override, in its declared unit (repeatable); the run is named by what "
        "it sets ('NAME=VALUE'), a scenario of --scenarios gets ' (NAME=VALUE)' appended",
    )
    run.add_argument(
        "--scenarios",
        type=_existing_path,
        metavar="FILE",
        help='scenarios JSON file: {"scenarios": [{"name": "...", "set": {"NAME": value}}]}; '
        "values in the parameters' units, flags as true/false, unknown keys refused",
    )
    run.add_argument(
        "--save",
        type=_save_name,
        metavar="NAME",
        help="store the scenarios and their runs in the case (--case only): one scenario as "
        "NAME, several as 'NAME: scenario'; same-named ones are replaced, others kept",
    )
    run.add_argument(
        "--timeout", type=_seconds, default=600.0, metavar="SECONDS", help="limit per run (600)"
    )
    run.add_argument("--json", action="store_true", help="print JSON")
    run.add_argument(
        "--uncertainty",
        type=_sample_count,
        metavar="N",
        help="run each scenario with uncertainty: N more runs on sampled uncertain inputs "
        "(Latin hypercube); each outcome gets its median, 90%% interval and probability of "
        "meeting its target",
    )
    run.add_argument(
        "--sensitivity",
        action="store_true",
        help="with --uncertainty: a Saltelli design (N rounded up to a power of two, times "
        "inputs + 2 runs) and the Sobol indices of each input",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the sampling (0)")
    run.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="also write each scenario's results under DIR/<scenario>/ (DIR must exist): "
        "outcomes.json, curves and tables as CSV, grid fields as NIfTI, surface maps as VTP, "
        "overlays as PNG",
    )

    report = commands.add_parser("report", help="write the board (MDT) report of a case as PDF")
    report.add_argument("case", help="case id or name in the local library")
    report.add_argument(
        "--out", type=Path, required=True, help="PDF file to write (its folder must exist)"
    )
    report.add_argument("--twin", help="twin id (default: the twin run on the case)")
    report.add_argument("--pseudonym", help="print this instead of the patient's name and ID")

    from meditwin_desktop import (
        cli_board,
        cli_case,
        cli_cases,
        cli_cluster,
        cli_cohort,
        cli_export,
        cli_pacs,
        cli_verify,
    )

    cli_cluster.add_cluster_arguments(run)
    cli_cohort.add_parser(commands)
    cli_cases.add_parser(commands)
    cli_case.add_parser(commands)
    cli_export.add_parser(commands)
    cli_verify.add_parser(commands)
    cli_pacs.add_parser(commands)
    cli_board.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `meditwin` and `python -m meditwin_desktop`; returns the exit code."""
    from meditwin_desktop.core.paths import private_files

    private_files()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        with _command_logging() as log_path:
            return _run_command(args, log_path)
    except KeyboardInterrupt:  # before or after the command itself (its own are handled)
        return EXIT_INTERRUPTED


def _run_command(args: argparse.Namespace, log_path: Path | None) -> int:
    """Run one command; turn every way it can end into an exit code and at most one line."""
    try:
        log.info("command %s", args.command)  # no arguments: they may name a patient
        code = _COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe is reported here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        _say("meditwin: interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        log.info("the output was closed before the command ended", extra={"log_only": True})
        return EXIT_BROKEN_PIPE
    except InputError as error:
        _say(f"meditwin: error: {error}")
        return EXIT_USAGE
    except MeditwinError as error:
        _say(f"meditwin: {error}")
        return EXIT_FAILED
    except sqlite3.Error as error:
        log.warning("case library error", exc_info=True, extra={"log_only": True})
        _say(f"meditwin: The case library cannot be read ({error}).")
        return EXIT_FAILED
    except OSError as error:
        log.warning("file system error", exc_info=True, extra={"log_only": True})
        _say(f"meditwin: {_os_reason(error)}")
        return EXIT_FAILED
    except Exception as error:
        log.exception("unexpected error in `meditwin %s`", args.command, extra={"details": True})
        where = f"details are in the log: {log_path}" if log_path else "details are above"
        _say(f"meditwin: unexpected error ({type(error).__name__}); {where}")
        return EXIT_FAILED


def _os_reason(error: OSError) -> str:
    """'path: reason' for a file-system error (strerror, not the errno's repr)."""
    reason = error.strerror or str(error)
    name = error.filename
    return f"{name}: {reason}." if name else f"{reason}."


def _say(message: str) -> None:
    """One line on stderr (stderr itself may be closed)."""
    with suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)


def _discard_stdout() -> None:
    """Point stdout at devnull, so that the interpreter's last flush cannot fail again
    (the recipe of the Python docs for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (stdout replaced, e.g. under tests)
        pass


class _OneLine(logging.Formatter):
    """Console records: 'warning: message', never a traceback (the log file has it)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _console(record: logging.LogRecord) -> bool:
    """Whether a record is for the console, next to the file (our one-line summary replaces
    the record of an unexpected error there)."""
    return not (getattr(record, "log_only", False) or getattr(record, "details", False))


def _fallback_console(record: logging.LogRecord) -> bool:
    """Whether a record is for the console when there is no log file (all but the detail of
    errors already explained in one line)."""
    return not getattr(record, "log_only", False)


@contextmanager
def _command_logging() -> Iterator[Path | None]:
    """Log to the application log file (and warnings, one line each, to stderr) for the
    duration of a command; yield the log file, or None when it cannot be opened (then
    records go to stderr only). Handlers added here are removed afterwards."""
    from meditwin_desktop.core.logs import PrivacyFilter, setup_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        path: Path | None = setup_logging()
    except OSError as error:
        path = None
        fallback = logging.StreamHandler()
        fallback.setLevel(logging.WARNING)
        fallback.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        fallback.addFilter(_fallback_console)
        fallback.addFilter(PrivacyFilter())
        root.addHandler(fallback)
        log.warning("no log file (%s); logging to stderr only", _os_reason(error).rstrip("."))
    else:
        for handler in root.handlers:
            if handler not in handlers and type(handler) is logging.StreamHandler:
                handler.setFormatter(_OneLine())
                handler.addFilter(_console)
    try:
        yield path
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)


def _cmd_gui(args: argparse.Namespace) -> int:
    from meditwin_desktop.demo.case import DEMO_CASES
    from meditwin_desktop.ui.app import run_gui  # Qt only when the GUI is asked for

    if args.demo is not None and args.demo not in DEMO_CASES:
        raise InputError(f"No demo case '{args.demo}' (there is: {', '.join(DEMO_CASES)}).")
    return run_gui(demo=args.demo, path=args.path, exit_after_render=args.exit_after_render)


def _cmd_demo(args: argparse.Namespace) -> int:
    from meditwin_desktop.demo import write_demo

    patients = write_demo(args.out, progress=_print_progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)  # end the progress line
    for patient in patients:
        if patient.dicom_dir is None:
            print(f"{patient.patient_id}: no images (clinical data and signal recordings)")
        else:
            print(f"{patient.patient_id}: DICOM {patient.dicom_dir}, labels {patient.labels_path}")
    return EXIT_OK


def _print_progress(fraction: float, message: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{fraction:4.0%} {message:<50}", end="", file=sys.stderr, flush=True)


def _cmd_dicom(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_dicom import load_command, scan_command

    command = scan_command if args.dicom_command == "scan" else load_command
    return command(args)


def _cmd_twins(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_twins import twins_command

    return twins_command(args)


def _cmd_report(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_twins import report_command

    return report_command(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_twins import run_command

    return run_command(args)


def _cmd_cases(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_cases import cases_command

    return cases_command(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_export import export_command

    return export_command(args)


def _cmd_case(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_case import case_command

    return case_command(args)


def _cmd_verify(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_verify import verify_command

    return verify_command(args)


def _cmd_check_twin(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_verify import check_twin_command

    return check_twin_command(args)


def _cmd_twin(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_verify import twin_command

    return twin_command(args)


def _cmd_cohort(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_cohort import cohort_command

    return cohort_command(args)


def _cmd_pacs(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_pacs import pacs_command

    return pacs_command(args)


def _cmd_board(args: argparse.Namespace) -> int:
    from meditwin_desktop.cli_board import board_command

    return board_command(args)


_COMMANDS = {
    "board": _cmd_board,
    "pacs": _cmd_pacs,
    "cohort": _cmd_cohort,
    "check-twin": _cmd_check_twin,
    "twin": _cmd_twin,
    "verify": _cmd_verify,
    "case": _cmd_case,
    "cases": _cmd_cases,
    "export": _cmd_export,
    "gui": _cmd_gui,
    "demo": _cmd_demo,
    "dicom": _cmd_dicom,
    "twins": _cmd_twins,
    "run": _cmd_run,
    "report": _cmd_report,
}
