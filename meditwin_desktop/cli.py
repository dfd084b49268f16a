"""The `meditwin` command line: headless commands on the same core as the GUI."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.errors import InputError, MeditwinError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _existing_path(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"'{text}' does not exist")
    return path


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

    run = commands.add_parser("run", help="run a twin's scenarios on a case, headless")
    run.add_argument("twin", help="twin id (see `meditwin twins`)")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--case", help="case id or name in the local library")
    source.add_argument("--demo", nargs="?", const="", metavar="NAME", help="a demo case")
    run.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="parameter override, in its declared unit (repeatable)",
    )
    run.add_argument("--scenarios", type=_existing_path, help="scenarios JSON file")
    run.add_argument("--timeout", type=float, default=600.0, help="seconds per run (600)")
    run.add_argument("--json", action="store_true", help="print JSON")

    report = commands.add_parser("report", help="write the board (MDT) report of a case as PDF")
    report.add_argument("case", help="case id or name in the local library")
    report.add_argument("--out", type=Path, required=True, help="PDF file to write")
    report.add_argument("--twin", help="twin id (default: the twin run on the case)")
    report.add_argument("--pseudonym", help="print this instead of the patient's name and ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `meditwin` and `python -m meditwin_desktop`; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _COMMANDS[args.command](args)
    except InputError as error:
        print(f"meditwin: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except MeditwinError as error:
        print(f"meditwin: {error}", file=sys.stderr)
        return EXIT_FAILED


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


_COMMANDS = {
    "gui": _cmd_gui,
    "demo": _cmd_demo,
    "dicom": _cmd_dicom,
    "twins": _cmd_twins,
    "run": _cmd_run,
    "report": _cmd_report,
}
