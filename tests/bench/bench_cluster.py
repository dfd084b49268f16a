"""What a Dask cluster costs per run, and what a 64-worker one would give (issue 24, point 4).

1. A trivial run (the reference twin of tests/support, work 0) through (i) the runner's own
   process pool, `Runner(max_parallel=W)`, the reference, and (ii) a LocalCluster of W
   single-threaded workers, `Runner(executor=core.cluster.connect(None, W))`, W = 1, 2:
   - latency: runs one at a time (submit, wait), median ms per run;
   - throughput: N runs submitted at once, wall time / N;
   - for reference, a bare dask task (`client.submit(noop).result()`) on the same cluster;
   and the dask - pool difference per run (target: < 20 ms), with the ratio dask / pool.
2. Memory: resident set (RSS) of each dask worker process and each pool worker, after
   the runs.
3. A projection to W = 64 workers: T(N) = ceil(N / W) (c + o) + N s + D (runs of equal
   length, W at a time), where
   c = a run's compute time (one core), o = the per-run overhead on a worker (the dask
   latency measured here), s = the serial per-run cost in the scheduler and in this
   process's dispatcher (from the W = 1 and W = 2 throughputs: t_W = s + p / W, so
   s = 2 t_2 - t_1; dask's documentation says about 1 ms per task), and
   D = the inputs sent once to the workers (scatter, then copied worker to worker:
   about log2(W) rounds of size / bandwidth). Two sweeps:
   - VT induction: `--vt-sites` pacing sites x `--vt-scenarios` scenarios, c = `--vt-s`
     per site (default 61 s: the mean of the three demo sites, twins/vt_ablation/README.md,
     2-core development machine, one core per process), inputs ~`--vt-mb`;
   - liver sensitivity (Saltelli, 3 uncertain inputs): n (d + 2) runs with n =
     `--liver-n`, c = `--liver-s` (default 14 s: one `execute` of the demo Baseline run,
     thorax-abdomen, measured on the shared 2-core machine), inputs 31 MB (pickled).
   `--measure-liver` times one liver run here instead (loads the demo CT: ~1 min).

`PYTHONPATH=. python tests/bench/bench_cluster.py [--runs N] [--measure-liver] ...`
(not part of the test run; `./dev.sh bench` runs every bench_*.py).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import numpy as np
import psutil

from meditwin_desktop.core.cluster import connect
from meditwin_desktop.core.runner import Runner
from tests.support.reference_twin import TWIN

INPUTS = {"grid_affine": np.eye(4)}
_counter = [0]


def _params() -> dict:
    _counter[0] += 1  # every run new: the runner's cache must not answer
    return TWIN.parameters_for({"c0": 100.0 + _counter[0] * 1e-6}, {})


def _wait_all(handles) -> None:
    for handle in handles:
        if not handle.wait(300) or handle.status != "ok":
            raise RuntimeError(f"run failed: {handle.status} {handle.error}")


def measure(runner: Runner, workers: int, runs: int) -> dict[str, float]:
    """Latency (median ms, one at a time) and throughput (ms per run, `runs` at once)."""
    _wait_all([runner.submit(TWIN, "warm", _params(), INPUTS) for _ in range(2 * workers)])
    latencies = []
    for _ in range(30):
        start = time.perf_counter()
        _wait_all([runner.submit(TWIN, "one", _params(), INPUTS)])
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    _wait_all([runner.submit(TWIN, "many", _params(), INPUTS) for _ in range(runs)])
    wall = time.perf_counter() - start
    return {"latency_ms": 1e3 * statistics.median(latencies), "per_run_ms": 1e3 * wall / runs}


def _noop(n: int) -> int:
    return n


def raw_dask_ms(client) -> float:
    """Median latency of `client.submit(noop).result()`: dask's own floor, for reference."""
    times = []
    for n in range(30):
        start = time.perf_counter()
        client.submit(_noop, n, pure=False).result()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def pool_rss(runner: Runner) -> list[float]:
    return [psutil.Process(w.process.pid).memory_info().rss / 1e6 for w in runner._workers]


def _rss() -> float:
    return psutil.Process().memory_info().rss / 1e6


def liver_run_seconds() -> tuple[float, float]:
    """One run of the liver twin on the demo case (Baseline), in this process: (s, MB)."""
    import pickle

    from meditwin_desktop.core.registry import discover
    from meditwin_desktop.core.runner import execute
    from meditwin_desktop.core.scenarios import prepare_scenarios
    from meditwin_desktop.core.twin import Scenario
    from meditwin_desktop.demo.case import demo_case

    twin = discover().get("liver_ablation")
    prepared = prepare_scenarios(twin, demo_case("thorax-abdomen"), [Scenario("Baseline")])
    start = time.perf_counter()
    execute(twin, prepared.scenarios[0][1], prepared.inputs)
    return time.perf_counter() - start, len(pickle.dumps(prepared.inputs)) / 1e6


def projection(runs: int, c: float, o: float, s: float, mb: float, workers: int,
               bandwidth_mb_s: float) -> float:  # fmt: skip
    """T(N) = ceil(N / W) (c + o) + N s + D (seconds); D = log2(W) rounds of size /
    bandwidth."""
    ship = max(1.0, math.log2(workers)) * mb / bandwidth_mb_s
    return math.ceil(runs / workers) * (c + o) + runs * s + ship


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--vt-s", type=float, default=61.0)
    parser.add_argument("--vt-mb", type=float, default=60.0)
    parser.add_argument("--vt-sites", type=int, default=8)
    parser.add_argument("--vt-scenarios", type=int, default=4)
    parser.add_argument("--liver-s", type=float, default=14.0)
    parser.add_argument("--liver-mb", type=float, default=31.0)
    parser.add_argument("--liver-n", type=int, default=128)
    parser.add_argument("--bandwidth-mb-s", type=float, default=1000.0, help="10 GbE ~ 1000")
    parser.add_argument("--measure-liver", action="store_true")
    args = parser.parse_args()

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for workers in (1, 2):
        pool = Runner(max_parallel=workers, timeout_s=300)
        pool.warm_up()
        results["pool", workers] = measure(pool, workers, args.runs)
        rss = pool_rss(pool)
        pool.shutdown()
        print(f"pool   W={workers}: latency {results['pool', workers]['latency_ms']:6.1f} ms, "
              f"{results['pool', workers]['per_run_ms']:6.1f} ms per run ({args.runs} at once); "
              f"worker RSS {', '.join(f'{r:.0f}' for r in rss)} MB")  # fmt: skip
        before = _rss()
        executor = connect(None, workers=workers)
        cluster = Runner(max_parallel=workers, executor=executor, timeout_s=300)
        results["dask", workers] = measure(cluster, workers, args.runs)
        raw = raw_dask_ms(executor.client)
        rss = executor.client.run(lambda: psutil.Process().memory_info().rss / 1e6)
        client_mb = _rss() - before
        cluster.shutdown()  # closes the client and the LocalCluster
        print(f"dask   W={workers}: latency {results['dask', workers]['latency_ms']:6.1f} ms, "
              f"{results['dask', workers]['per_run_ms']:6.1f} ms per run ({args.runs} at once); "
              f"worker RSS {', '.join(f'{r:.0f}' for r in rss.values())} MB; this process "
              f"+{client_mb:.0f} MB (scheduler, nannies, client); a bare dask task "
              f"(submit, result) {raw:.1f} ms")  # fmt: skip
    print()
    for workers in (1, 2):
        pool, dask = results["pool", workers], results["dask", workers]
        print(f"W={workers}: dask - pool latency {dask['latency_ms'] - pool['latency_ms']:+.1f} ms "
              f"(ratio {dask['latency_ms'] / pool['latency_ms']:.2f}); per run at once "
              f"{dask['per_run_ms'] - pool['per_run_ms']:+.1f} ms "
              f"(ratio {dask['per_run_ms'] / pool['per_run_ms']:.2f}); target < 20 ms")  # fmt: skip

    t1, t2 = results["dask", 1]["per_run_ms"] / 1e3, results["dask", 2]["per_run_ms"] / 1e3
    serial = max(2 * t2 - t1, 1e-3)  # at least dask's documented ~1 ms per task
    overhead = results["dask", 1]["latency_ms"] / 1e3
    print(f"\nserial cost per run s = {1e3 * serial:.1f} ms (2 t2 - t1, floor 1 ms); "
          f"overhead on a worker o = {1e3 * overhead:.1f} ms")  # fmt: skip
    liver_s, liver_mb = args.liver_s, args.liver_mb
    if args.measure_liver:
        liver_s, liver_mb = liver_run_seconds()
        print(f"liver run measured here: {liver_s:.1f} s, inputs {liver_mb:.0f} MB")
    sweeps = [
        ("VT induction", args.vt_sites * args.vt_scenarios, args.vt_s, args.vt_mb),
        ("liver Saltelli", args.liver_n * (3 + 2), liver_s, liver_mb),
    ]
    for name, runs, c, mb in sweeps:
        one = projection(runs, c, overhead, serial, mb, 1, args.bandwidth_mb_s)
        line = [f"{name}: {runs} runs of {c:g} s:"]
        for workers in (2, 16, 64):
            t = projection(runs, c, overhead, serial, mb, workers, args.bandwidth_mb_s)
            line.append(f"W={workers} {t / 60:.1f} min (x{one / t:.1f})")
        print(" ".join(line) + f"; 1 worker {one / 3600:.1f} h")


if __name__ == "__main__":
    main()
