"""`meditwin cohort run`: a twin over many cases (to be written)."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    """Add `cohort` to the `meditwin` parser."""
    cohort = commands.add_parser("cohort", help="run a twin over a cohort of cases")
    cohort.add_subparsers(dest="cohort_command", metavar="COMMAND")


def cohort_command(args: argparse.Namespace) -> int:
    """Run the cohort subcommand."""
    raise NotImplementedError
