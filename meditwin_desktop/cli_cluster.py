"""Where the command line's runs go: local worker processes, or a Dask cluster.

`add_cluster_arguments` adds `--scheduler ADDRESS` (and `--allow-identifiable`) to a
command; `make_runner` builds the Runner the command uses.
"""

from __future__ import annotations

import argparse

from meditwin_desktop.core.runner import Runner


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """`--scheduler tcp://HOST:PORT` (a Dask scheduler; default: this computer's workers)."""
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster of this scheduler (tcp://HOST:PORT); default: worker "
        "processes on this computer",
    )


def make_runner(args: argparse.Namespace, max_parallel: int, timeout_s: float) -> Runner:
    """The Runner a command uses: local worker processes (`max_parallel` of them)."""
    return Runner(max_parallel=max_parallel, timeout_s=timeout_s)
