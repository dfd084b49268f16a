"""Runs on a real Dask cluster (issue 24, point 3): a `dask scheduler` and two `dask worker`
processes (each with its nanny) on loopback, started here as subprocesses.

A cohort-like sweep of the reference twin (analytic: C(T) = C0 exp(-k T)) and a run with
uncertainty of the analytic uncertainty twin go across them while one worker is killed
(SIGKILL); every run ends exactly once with the right value. Then: progress, cancel,
time limits (a cooperative run and one that ignores the stop), a segfault that fails
only its own run, the refusal to send identifiable inputs to a non-local scheduler, an
unreachable scheduler and a scheduler lost mid-run.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import Client

from meditwin_desktop.cli_cluster import make_runner
from meditwin_desktop.core import logs
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.cluster import DaskExecutor, connect
from meditwin_desktop.core.cluster_privacy import (
    birth_date_spellings,
    case_identifiers,
    check_shippable,
    identifiable_values,
    is_local_address,
)
from meditwin_desktop.core.errors import IdentifiableDataError, InputError
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.uncertainty import UncertaintyPlan
from tests.support import reference_twin, uncertain_twin

ROOT = Path(__file__).resolve().parents[2]
TWIN = reference_twin.TWIN
INPUTS = {"grid_affine": np.eye(4)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@dataclass
class LoopbackCluster:
    """A scheduler and its workers, each in a process group of its own."""

    address: str
    folder: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    executor: DaskExecutor | None = None

    def start(self, name: str, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}  # fmt: skip
        # a run may outlive one worker's death, not two (default 3): a segfault costs two
        # worker restarts here instead of four
        env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
        # and a worker holds only the run it is running (default 1.1 x threads: one queued
        # behind it): Dask blames every run a dead worker held, so a run queued twice behind
        # the segfaulting one was failed with it (seen once, on a loaded machine)
        env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
        with open(self.folder / f"{name}.log", "wb") as output:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "dask", *args], cwd=ROOT, env=env, stdout=output,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def kill(self, name: str) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the nanny and its worker process
        process.wait(timeout=10)

    def kill_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)


def _loopback_cluster(folder: Path, workers: int) -> LoopbackCluster:
    port = _free_port()
    cluster = LoopbackCluster(f"tcp://127.0.0.1:{port}", folder)
    cluster.start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                  "--no-dashboard")  # fmt: skip
    for n in range(workers):
        cluster.start(f"worker{n}", "worker", cluster.address, "--nworkers", "1",
                      "--nthreads", "1", "--nanny", "--no-dashboard", "--host", "127.0.0.1",
                      "--name", f"w{n}", "--local-directory", str(folder / f"w{n}"),
                      "--death-timeout", "60")  # fmt: skip
    return cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Scheduler + 2 workers on loopback, and a DaskExecutor connected to them."""
    cluster = _loopback_cluster(tmp_path_factory.mktemp("dask"), workers=2)
    executor = None
    try:
        executor = connect(cluster.address, timeout_s=30)
        executor.client.wait_for_workers(2, timeout=60)
        cluster.executor = executor
        yield cluster
    finally:
        if executor is not None:
            executor.close()
        cluster.kill_all()


def _params(n: int, **overrides) -> dict:
    return TWIN.parameters_for({"c0": 50.0 + 3 * n}, {"rate": 0.1 + 0.02 * n, **overrides})


def _expected(params: dict) -> float:
    return params["c0"] * math.exp(-params["rate"] * params["duration"])


def _worker_pids(client: Client) -> dict[str, int]:
    return client.run(os.getpid)


def test_sweep_and_uncertainty_survive_a_killed_worker(cluster):
    runner = Runner(2, executor=cluster.executor, timeout_s=120)
    ends: Counter[str] = Counter()
    progressed: set[str] = set()

    def done(handle) -> None:
        ends[handle.scenario] += 1

    def progress(handle) -> None:
        if 0 < handle.progress < 1:
            progressed.add(handle.scenario)

    client = cluster.executor.client
    scatter, scattered = client.scatter, []

    def counted(data, **kwargs):
        scattered.append(type(data[0]).__name__)
        return scatter(data, **kwargs)

    client.scatter = counted  # the twin and the inputs go once, not once per run
    sweep = [runner.submit(TWIN, f"case {n}", _params(n, work_seconds=0.25), INPUTS,
                           on_done=done, on_progress=progress) for n in range(40)]  # fmt: skip
    plan = UncertaintyPlan(samples=32, seed=11)
    nominal = uncertain_twin.TWIN.parameters_for({}, {})
    uncertain = runner.submit(uncertain_twin.TWIN, "uncertain", nominal, {}, on_done=done,
                              uncertainty=plan)  # fmt: skip

    _wait_for(lambda: sum(h.done() for h in sweep) >= 4)
    pids = _worker_pids(cluster.executor.client)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)  # the worker process itself; its nanny restarts it
    left = sum(not h.done() for h in sweep)
    assert left > 2, "the worker was killed after the sweep had ended"

    for handle in [*sweep, uncertain]:
        assert handle.wait(90), handle.scenario
    time.sleep(0.5)  # a second end, were there one, would come now
    assert all(h.status == "ok" for h in sweep), [(h.scenario, h.error) for h in sweep]
    assert ends == Counter({h.scenario: 1 for h in [*sweep, uncertain]})
    for handle in sweep:  # the analytic answer, to round-off
        assert handle.result.outcomes["final"] == pytest.approx(_expected(handle.params),
                                                                rel=1e-12)  # fmt: skip
    # progress crossed from the workers while they ran (sent at most every 0.2 s: a run of
    # 0.25 s reports once, at 80 %, unless it was slowed down)
    assert len(progressed) >= 10
    del client.scatter
    # two twins and two sets of inputs, sent again only if lost with the killed worker
    kinds = Counter(scattered)
    assert set(kinds) == {"Twin", "dict"} and kinds["Twin"] >= 2 and kinds["dict"] >= 2
    assert len(scattered) <= 8, scattered  # 73 runs

    # the same plan in threads here gives the same numbers: nothing lost, nothing doubled
    with ThreadPoolExecutor(2) as threads:
        here = Runner(2, executor=threads).submit(uncertain_twin.TWIN, "here", nominal, {},
                                                   uncertainty=plan)  # fmt: skip
        assert here.wait(60)
    assert uncertain.status == "ok", uncertain.error
    for outcome in ("linear", "ishigami"):
        there, local = uncertain.result.spread[outcome], here.result.spread[outcome]
        assert (there.median, there.low, there.high, there.p_target) == (
            local.median, local.low, local.high, local.p_target)  # fmt: skip
        assert there.samples == 32 and there.failed == 0
    assert uncertain.result.outcomes["linear"] == 25.0  # the nominal run's own value
    spread = uncertain.result.spread["linear"]  # N(25, 5): 90 % interval 25 -+ 3.68
    assert spread.median == pytest.approx(25.0, abs=0.5)
    assert spread.high - spread.low == pytest.approx(2 * 1.645 * math.sqrt(5), rel=0.2)
    _wait_for(lambda: len(cluster.executor.client.nthreads()) == 2)  # the nanny restarted it


def test_cancel_stops_a_long_run_and_frees_its_worker(cluster):
    runner = Runner(2, executor=cluster.executor, timeout_s=120)
    ends = Counter()
    handle = runner.submit(TWIN, "long", _params(1, work_seconds=30.0), INPUTS,
                           on_done=lambda h: ends.update([h.scenario]))  # fmt: skip
    _wait_for(lambda: handle.progress > 0, 30)  # it runs, and says so
    handle.cancel()
    assert handle.wait(10)
    assert (handle.status, handle.error) == ("cancelled", "cancelled by the user")
    queued = runner.submit(TWIN, "queued", _params(2, work_seconds=30.0), INPUTS)
    queued.cancel()  # before or just after it began: it ends at once either way
    assert queued.wait(10) and queued.status == "cancelled"
    after = [runner.submit(TWIN, f"after {n}", _params(n), INPUTS) for n in range(2)]
    assert all(h.wait(30) and h.status == "ok" for h in after)
    time.sleep(0.3)
    assert ends == Counter({"long": 1})


def test_time_limit_fails_the_run_also_when_it_ignores_the_stop(cluster):
    runner = Runner(2, executor=cluster.executor, timeout_s=120)
    polite = runner.submit(TWIN, "polite", _params(1, work_seconds=30.0), INPUTS, timeout_s=1.0)
    deaf = runner.submit(TWIN, "deaf", _params(2, behaviour="ignore_cancel"), INPUTS,
                         timeout_s=1.0)  # fmt: skip
    for handle in (polite, deaf):
        assert handle.wait(30), handle.scenario
        assert handle.status == "failed"
        assert handle.error == "it ran longer than its limit of 1 s"
    # the deaf one's worker was restarted (grace_s after the limit); the cluster serves on
    client = cluster.executor.client
    _wait_for(lambda: len(client.nthreads()) == 2 and not any(client.processing().values()))
    after = [runner.submit(TWIN, f"after {n}", _params(n), INPUTS) for n in range(3)]
    assert all(h.wait(60) and h.status == "ok" for h in after)


def test_a_segfault_fails_only_its_own_run(cluster):
    runner = Runner(2, executor=cluster.executor, timeout_s=120)
    crash = runner.submit(TWIN, "crash", _params(0, behaviour="segfault"), INPUTS)
    others = [runner.submit(TWIN, f"other {n}", _params(n, work_seconds=0.2), INPUTS)
              for n in range(6)]  # fmt: skip
    assert crash.wait(120)
    assert crash.status == "failed"
    assert "the simulation process on worker tcp://127.0.0.1:" in crash.error
    assert "was killed (2 workers died running it" in crash.error
    for handle in others:
        assert handle.wait(60) and handle.status == "ok", handle.error
        assert handle.result.outcomes["final"] == pytest.approx(_expected(handle.params))


PATIENT = Case("Jeanne Dupont", patient_id="IPP-4711", clinical={"birth_date": "1961-03-02"})


def test_identifiable_inputs_are_refused_by_a_remote_scheduler(cluster, caplog):
    remote = DaskExecutor(Client(cluster.address, set_as_default=False), local=False,
                          identifiers=case_identifiers(PATIENT))  # fmt: skip
    try:
        runner = Runner(1, executor=remote)
        notes = {**INPUTS, "shown_diary_notes": ["woke up at 3, seizure"]}
        named = {**INPUTS, "medications": [{"name": "valproate", "note": "per Mme DUPONT"}]}
        born = {**INPUTS, "history": np.array(["onset 1999", "born 02/03/1961"])}
        for inputs, where in [(notes, "shown_diary_notes"), (named, "medications[0].note"),
                              (born, "history[1]")]:  # fmt: skip
            with pytest.raises(IdentifiableDataError) as refused:  # nothing sent
                runner.submit(TWIN, "refused", _params(1), inputs)
            assert where in str(refused.value) and "--allow-identifiable" in str(refused.value)
            assert cluster.address in str(refused.value)
            assert "Dupont" not in str(refused.value) and "1961" not in str(refused.value)
        plan = UncertaintyPlan(samples=8, seed=3)  # every sample of a run is refused too
        with pytest.raises(IdentifiableDataError):
            runner.submit(uncertain_twin.TWIN, "u", uncertain_twin.TWIN.parameters_for({}, {}),
                          {"shown_notes": "x"}, uncertainty=plan)  # fmt: skip
        assert not remote._waiting and not remote._running
        plain = runner.submit(TWIN, "plain", _params(5), {**INPUTS, "shown_notes": []})
        assert plain.wait(30) and plain.status == "ok", plain.error
        remote.allow_identifiable = True  # the user confirmed (the GUI asks)
        sent = runner.submit(TWIN, "allowed", _params(6), notes)
        assert sent.wait(30) and sent.status == "ok", sent.error
        assert not any(s in caplog.text for s in ("Dupont", "DUPONT", "1961", "seizure"))
    finally:
        remote.close()


def test_what_identifies_a_patient():
    who = case_identifiers(PATIENT)
    assert {"Jeanne Dupont", "Dupont", "Jeanne", "IPP-4711", "19610302", "02.03.1961"} <= set(who)
    assert birth_date_spellings("19610302")[:2] == ["1961-03-02", "19610302"]
    inputs = {"volume": np.zeros((2, 2)), "codes": ["LDLR", "valproate"], "n": 3,
              "deep": {"list": [{"text": "seen by dr. Martin"}, "Dupont's diary"]},
              "paths": "/models/dupont/model.json", "empty_shown": "", "shown_x": "", }  # fmt: skip
    assert identifiable_values(inputs, who) == ["deep.list[1]", "paths"]
    assert identifiable_values({"shown_notes": "x", "shown_none": None}, who) == ["shown_notes"]
    # patients this process has seen (core.logs.protect: cases opened, DICOM read) count too
    logs.protect("ZORGLUB^ALFRED")
    assert identifiable_values({"note": "from zorglub"}) == ["note"]
    assert identifiable_values({"note": "/data/x/y.nii"}) == []  # a path alone is no identity
    with pytest.raises(IdentifiableDataError) as refused:
        check_shippable({"a": "Dupont"}, {"when": "1961-03-02"}, "tcp://10.0.0.5:8786", who)
    assert "a, parameter when" in str(refused.value)
    assert isinstance(refused.value, InputError)
    check_shippable(INPUTS, {"c0": 1.0}, "tcp://10.0.0.5:8786", who)  # numbers only: fine


@pytest.mark.parametrize(
    ("address", "local"),
    [(None, True), ("", True), ("local", True), ("inproc://10.1.2.3/1/2", True),
     ("tcp://127.0.0.1:8786", True), ("tcp://127.3.4.5:1", True), ("localhost:8786", True),
     ("tcp://[::1]:8786", True), ("tls://LOCALHOST:8786", True),
     ("tcp://10.0.0.5:8786", False), ("tcp://scheduler.hospital.org:8786", False),
     ("tcp://[2001:db8::1]:8786", False), ("192.168.1.10:8786", False)],
)  # fmt: skip
def test_local_addresses(address, local):
    assert is_local_address(address) is local


def test_an_unreachable_scheduler_is_a_clear_error():
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    start = time.monotonic()
    with pytest.raises(InputError) as error:
        connect(address, timeout_s=1.0)
    print(f"refused after {time.monotonic() - start:.1f} s")
    assert address in str(error.value) and "could not be reached" in str(error.value)


def test_make_runner_uses_the_scheduler_and_shutdown_closes_it(cluster):
    args = argparse.Namespace(scheduler=cluster.address, allow_identifiable=False)
    runner = make_runner(args, 2, 60.0)
    assert isinstance(runner.executor, DaskExecutor)
    handle = runner.submit(TWIN, "one", _params(3), INPUTS)
    assert handle.wait(30) and handle.status == "ok"
    runner.shutdown()
    assert runner.executor.client.status == "closed"
    local = make_runner(argparse.Namespace(scheduler=None, allow_identifiable=False), 1, 60.0)
    assert local.executor is None
    local.shutdown()


def test_a_lost_scheduler_fails_the_runs_with_the_reason(tmp_path):
    cluster = _loopback_cluster(tmp_path, workers=1)
    executor = None
    try:
        client = Client(cluster.address, timeout=30, set_as_default=False)
        client.wait_for_workers(1, timeout=60)
        executor = DaskExecutor(client, lost_after_s=1.0)
        runner = Runner(1, executor=executor, timeout_s=120)
        ends = Counter()
        running = runner.submit(TWIN, "running", _params(1, work_seconds=30.0), INPUTS,
                                on_done=lambda h: ends.update([h.scenario]))  # fmt: skip
        waiting = runner.submit(TWIN, "waiting", _params(2, work_seconds=30.0), INPUTS,
                                on_done=lambda h: ends.update([h.scenario]))  # fmt: skip
        _wait_for(lambda: running.progress > 0, 30)
        cluster.kill("scheduler")
        for handle in (running, waiting):
            assert handle.wait(30), handle.scenario
            assert handle.status == "failed"
            assert "connection to the cluster's scheduler" in handle.error
            assert cluster.address in handle.error
        later = runner.submit(TWIN, "later", _params(3), INPUTS)
        assert later.wait(30) and later.status == "failed"
        time.sleep(0.3)
        assert ends == Counter({"running": 1, "waiting": 1})
    finally:
        if executor is not None:
            executor.close()
        cluster.kill_all()


def test_a_cohort_with_uncertainty_across_the_cluster_survives_a_killed_worker(
    cluster, tmp_path, monkeypatch
):
    """8 cases of the cardiometabolic twin, each with 48 sampled runs (392 runs), on the
    two workers; one worker is killed mid-cohort. Every (case, scenario) is recorded once,
    ok, with the numbers a run on this computer gives (same seed: same samples)."""
    import json

    from meditwin_desktop.core.cohort import RUNS_FILE, library_cohort, run_cohort
    from meditwin_desktop.core.registry import discover
    from meditwin_desktop.core.scenarios import BASELINE
    from meditwin_desktop.core.store import CaseLibrary
    from meditwin_desktop.core.twin import Scenario
    from meditwin_desktop.demo.case import DEMO_CASES

    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path / "home"))
    library = CaseLibrary()
    for n in range(8):  # LDL-C 170 to 275 mg/dL, ages 40 to 61
        clinical = {**DEMO_CASES["fh-patient"]["clinical"], "age_y": 40 + 3 * n,
                    "ldl_mg_dl": 170.0 + 15 * n}  # fmt: skip
        library.save(Case(name=f"Cohort {n}", patient_id=f"C-{n}", clinical=clinical))
    twin = discover().get("cardiometabolic")
    cases = library_cohort(library)
    plan = UncertaintyPlan(samples=48, seed=3)
    runner = Runner(2, executor=cluster.executor, timeout_s=120)
    killed = []
    for folder in ("cluster", "here"):
        (tmp_path / folder).mkdir()

    def kill_once(progress) -> None:  # from the cohort's own thread, once some are done
        if not killed and progress.runs_done >= 2:
            pids = _worker_pids(cluster.executor.client)
            os.kill(pids[sorted(pids)[0]], signal.SIGKILL)
            killed.append(progress.runs_done)

    there = run_cohort(twin, cases, [Scenario(BASELINE)], runner, tmp_path / "cluster",
                       library=library, plan=plan, progress=kill_once)  # fmt: skip
    assert killed and killed[0] < 8, "the worker was not killed mid-cohort"
    with ThreadPoolExecutor(2) as threads:
        here = run_cohort(twin, cases, [Scenario(BASELINE)], Runner(2, executor=threads),
                          tmp_path / "here", library=library, plan=plan)  # fmt: skip
    lines = [json.loads(line) for line in
             (tmp_path / "cluster" / RUNS_FILE).read_text().splitlines()]  # fmt: skip
    assert sorted(line["case"] for line in lines) == sorted(c.id for c in cases)  # once each
    assert all(line["status"] == "ok" for line in lines), [line.get("error") for line in lines]
    mine = {line["case"]: line for line in lines}
    theirs = {line["case"]: line for line in
              [json.loads(x) for x in (tmp_path / "here" / RUNS_FILE).read_text().splitlines()]}
    for case_id, line in mine.items():
        assert line["key"] == theirs[case_id]["key"]
        assert line["outcomes"] == theirs[case_id]["outcomes"]  # values and spreads
    assert there.failed == here.failed == 0
    _wait_for(lambda: len(cluster.executor.client.nthreads()) == 2)  # restarted by its nanny
