"""Where the command line's runs go: local worker processes, or a Dask cluster.

`add_cluster_arguments` adds `--scheduler ADDRESS` (and `--allow-identifiable`) to a
command; `make_runner` builds the Runner the command uses. `Runner.shutdown` closes the
cluster client (and a LocalCluster started for the command).
"""

from __future__ import annotations

import argparse

from meditwin_desktop.core.runner import Runner


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """`--scheduler tcp://HOST:PORT` (a Dask scheduler, or "local" for a LocalCluster here;
    default: this computer's worker processes) and `--allow-identifiable`."""
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster of this scheduler (tcp://HOST:PORT), or on a Dask "
        "cluster started on this computer ('local'); default: worker processes on this "
        "computer. See docs/cluster.md",
    )
    parser.add_argument(
        "--allow-identifiable",
        action="store_true",
        help="let inputs that identify the patient (name, ID, birth date, free text) go to a "
        "scheduler on another computer; refused otherwise",
    )


def make_runner(args: argparse.Namespace, max_parallel: int, timeout_s: float) -> Runner:
    """The Runner a command uses: local worker processes (`max_parallel` of them), or the
    Dask cluster of `--scheduler` (InputError when it cannot be reached)."""
    address = getattr(args, "scheduler", None)
    if not address:
        return Runner(max_parallel=max_parallel, timeout_s=timeout_s)
    from meditwin_desktop.core.cluster import cluster_runner  # dask loads only when asked for

    allow = bool(getattr(args, "allow_identifiable", False))
    return cluster_runner(address, allow_identifiable=allow, max_parallel=max_parallel,
                          timeout_s=timeout_s)  # fmt: skip
