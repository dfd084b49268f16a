"""The liver twin's memory estimate (used by the runner's admission control) is an upper
bound of what a run really takes, and not a wild one: measured peak <= estimate <= 2x
peak, on the demo CT, peak = growth of the process's high-water mark (Linux VmHWM,
reset before the run) during `simulate`, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = r"""
import json, sys
def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
if __name__ == "__main__":
    from meditwin_desktop.core.registry import discover
    from meditwin_desktop.core.twin_case import view_of
    from meditwin_desktop.demo.case import demo_case
    view = view_of(demo_case())
    twin = discover().get("liver_ablation")
    inputs = twin.prepare(view)
    baseline = {k: p.value for k, p in twin.personalize(view).items()}
    out = []
    for grid, region in json.loads(sys.argv[1]):
        params = twin.parameters_for(baseline, {"grid_mm": grid, "region_mm": region,
                                                "time_s": 60.0})
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        before = rss_kb()
        twin.simulate(params, inputs, lambda f, m: None, lambda: False)
        out.append({"peak": (peak_kb() - before) * 1024.0,
                    "estimate": twin.memory_estimate(params, inputs)})
    print(json.dumps(out))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_the_estimate_bounds_the_measured_peak_of_a_run():
    settings = [(2.0, 80.0), (1.0, 100.0)]  # 69 k and 1.03 M simulation voxels
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(settings)],
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    for (grid, region), run in zip(settings, json.loads(done.stdout.splitlines()[-1]),
                                   strict=True):  # fmt: skip
        assert run["peak"] <= run["estimate"] <= 2.0 * run["peak"], (grid, region, run)
