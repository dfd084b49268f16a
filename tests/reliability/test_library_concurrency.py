"""The case library under two writers and a reader, one writer SIGKILLed at random points:
every committed revision loads with exactly what its writer saved; no save or load fails."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from meditwin_desktop.core.store import CaseLibrary

ROOT = Path(__file__).resolve().parents[2]
CASE_ID = "shared000001"
SAVES = 100

WRITER = r"""
import sys
import numpy as np
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.twin import Result, TimeSeries
from meditwin_desktop.core.case import Run

root, tag, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
library = CaseLibrary(root, keep=10_000)
array = np.zeros((16, 64, 64), np.uint8)
for n in range(first, last + 1):
    array[:] = 0
    array[n % 16] = 1 + (n % 200)
    array[0, 0, 0] = 1 if tag == "a" else 2
    case = Case(name="Shared patient", patient_id="S1", id="shared000001",
                labels=LabelMap(Volume(array.copy(), np.eye(4)), {1: Label(1, "liver", (1, 2, 3))}),
                clinical={"writer": tag, "n": n})
    series = TimeSeries("x", "", np.arange(50.0), np.full(50, float(n)))
    case.runs["t"] = [Run("t", "1", "Baseline", {"n": n}, "h", "ok", None, {"v": float(n)}, 0.0,
                          "0", "u", "now", Result({"v": float(n)}, {"x": series}))]
    revision = library.save(case)
    print(revision, tag, n, flush=True)
"""

READER = r"""
import sys, time
from meditwin_desktop.core.store import CaseLibrary
library = CaseLibrary(sys.argv[1])
deadline = time.monotonic() + float(sys.argv[2])
loads = 0
while time.monotonic() < deadline:
    if not library.exists("shared000001"):
        time.sleep(0.01)
        continue
    try:
        case = library.load("shared000001")
        n = case.clinical["n"]
        assert not case.problems, case.problems
        assert case.runs["t"][0].result.series["x"].values[0] == n
        assert case.labels.volume.array[n % 16].max() == 1 + n % 200
        loads += 1
    except Exception as error:
        print("FAIL", type(error).__name__, error, flush=True)
print("LOADS", loads, flush=True)
"""


def _start(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _confirmed(output: str, killed: bool = False) -> list[tuple[int, str, int]]:
    """The saves a writer confirmed ("revision tag n" lines). A killed writer's last line
    may be cut short by the kill (seen once in CI: a lone revision number): a save whose
    confirmation did not finish printing is not confirmed, so it is left out."""
    lines = output.splitlines(keepends=True)
    if killed and lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return [(int(r), t, int(n)) for r, t, n in (line.split() for line in lines)]


def test_two_writers_a_killed_one_and_a_reader_lose_nothing(tmp_path):
    rng = random.Random(14)
    CaseLibrary(tmp_path)  # create it once, as the application would
    reader = _start(READER, tmp_path, 60)
    steady = _start(WRITER, tmp_path, "a", 1, SAVES)
    confirmed: list[tuple[int, str, int]] = []
    next_n, kills = 1, 0
    while next_n <= SAVES:  # writer b: killed at random points, restarted where it stopped
        victim = _start(WRITER, tmp_path, "b", next_n, SAVES)
        first = ""
        if kills < 6:
            first = victim.stdout.readline()  # it saves: kill it somewhere in what follows
            time.sleep(rng.uniform(0.0, 0.06))
            victim.send_signal(signal.SIGKILL)
            kills += 1
        out, err = victim.communicate()
        out = first + out
        assert victim.returncode in (0, -signal.SIGKILL), err
        if victim.returncode == 0:
            assert not err.strip(), err
        done = _confirmed(out, killed=victim.returncode == -signal.SIGKILL)
        confirmed += done
        next_n = (done[-1][2] + 1) if done else next_n
    out, err = steady.communicate(timeout=120)
    assert steady.returncode == 0 and not err.strip(), err
    confirmed += _confirmed(out)
    reader.send_signal(signal.SIGTERM)
    reads, _ = reader.communicate(timeout=30)
    assert "FAIL" not in reads, reads
    assert kills == 6 and len([c for c in confirmed if c[1] == "a"]) == SAVES

    library = CaseLibrary(tmp_path)
    revisions = [r for r, _, _ in confirmed]
    assert len(set(revisions)) == len(revisions), "two saves got the same revision number"
    for revision, tag, n in confirmed:  # every confirmed revision loads, as it was saved
        case = library.load(CASE_ID, revision)
        assert (case.clinical["writer"], case.clinical["n"]) == (tag, n)
        assert case.labels.volume.array[0, 0, 0] == (1 if tag == "a" else 2)
        assert case.labels.volume.array[n % 16].max() == 1 + n % 200
        assert case.runs["t"][0].result.series["x"].values[0] == n
        assert not case.problems
    head = library.cases()[0].revision
    assert head == max(r.revision for r in library.history(CASE_ID))


def test_the_reader_ran_while_the_writers_wrote(tmp_path):
    """The reader above is only a check if it loads during saves: here it must load often."""
    CaseLibrary(tmp_path)
    writer = _start(WRITER, tmp_path, "a", 1, 40)
    reader = _start(READER, tmp_path, 4)
    out, _ = reader.communicate(timeout=60)
    writer.communicate(timeout=60)
    assert "FAIL" not in out, out
    assert int(out.split("LOADS")[1]) > 10, out
