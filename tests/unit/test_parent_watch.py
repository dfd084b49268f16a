"""Worker processes do not outlive an application that crashed (os._exit, SIGKILL)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from meditwin_desktop.core.imaging.dicom import workers
    from meditwin_desktop.core.runner import Runner
    sys.path.insert(0, os.getcwd())
    from tests.support.reference_twin import TWIN

    if __name__ == "__main__":
        for future in workers.warm_up():
            future.result(timeout=120)
        runner = Runner()
        params = TWIN.parameters_for({}, {"behaviour": "sleep", "duration": 48})
        handle = runner.submit(TWIN, "slow", params, {"grid_affine": None})
        while handle.status != "running" or handle.progress == 0:
            time.sleep(0.05)
        pool = workers.pool()
        pids = (list(pool._processes) if pool else []) + [runner._workers[0].process.pid]
        print(" ".join(map(str, pids)), flush=True)
        os._exit(9)  # a crash: no atexit, no shutdown of the pools
    """
)


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "\\tZ" not in status.read_text().split("State:")[1].splitlines()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):  # it exited while read
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_application_dies(tmp_path):
    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "crash.py"
    script.write_text(SCRIPT)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:  # files: orphans could hold pipes
        code = subprocess.call([sys.executable, str(script)], cwd=root, stdout=stdout,
                               stderr=stderr, timeout=180)  # fmt: skip
    assert code == 9, err.read_text()
    pids = [int(p) for p in out.read_text().split()]
    assert pids
    deadline = time.monotonic() + 5.0  # the watch polls every 0.5 s
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [p for p in pids if _alive(p)]
    for pid in survivors:
        os.kill(pid, 9)
    assert not survivors, f"worker processes outlived the application: {survivors}"
