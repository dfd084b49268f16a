"""Longest GUI event-loop stall from the click on *Run all* to the last result shown
(target < 50 ms), for four scenarios of a twin on the demo case.

Two twins, each in its own process: the reference twin of tests/support (burns
`work_seconds` of CPU per scenario, almost no inputs) and the liver ablation twin (a
78 MB tissue array to prepare and hash, 3D results to show). The real main window shows
the demo case and runs the scenarios through the twin panel while a 5 ms QTimer records
the longest gap between its ticks; the reference figure is the same probe on the idle
window. Run under a display: `./dev.sh bench` (sets PYTHONPATH) or
`PYTHONPATH=. python tests/bench/bench_twin_stall.py [reference|liver_ablation]`.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("MEDITWIN_EXTRA_TWINS", "tests.support.reference_twin:TWIN")
if "MEDITWIN_HOME" not in os.environ:  # a fresh library: the demo's scenarios as shipped
    import tempfile

    os.environ["MEDITWIN_HOME"] = tempfile.mkdtemp(prefix="meditwin-bench-")


SCENARIOS = {
    "reference": lambda work: [{"work_seconds": work, "rate": 0.3 + n} for n in range(3)],
    "liver_ablation": lambda work: [{"power_w": 60.0 + 20 * n} for n in range(3)],
}


def main() -> None:
    if len(sys.argv) < 2:  # each twin in a fresh process
        import subprocess

        for twin in SCENARIOS:
            subprocess.run([sys.executable, __file__, twin], check=False)
        return
    twin_id = sys.argv[1]
    from bench_gui_stall import StallProbe  # same folder

    from meditwin_desktop.ui.app import create_app, freeze_startup_objects, show_main_window
    from meditwin_desktop.ui.main_window import MainWindow

    app = create_app(install_exception_hook=False)
    window = MainWindow()
    show_main_window(window, app)
    freeze_startup_objects()  # as the app does

    def spin(condition, limit: float = 600.0) -> float:
        start = time.perf_counter()
        while not condition():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() - start > limit:
                raise TimeoutError
        return time.perf_counter() - start

    window.open_demo()
    spin(lambda: window.cases.case is not None and window.twin_panel.twin is not None)
    settle = time.perf_counter()
    while time.perf_counter() - settle < 3.0:
        app.processEvents()
        time.sleep(0.001)
    panel = window.twin_panel
    panel.select_twin(twin_id)
    spin(lambda: not panel.personalising())
    work = float(os.environ.get("BENCH_WORK_SECONDS", "5"))
    if twin_id == "reference":
        panel.case.scenarios["reference"][0].overrides = {"work_seconds": work}
    for n, overrides in enumerate(SCENARIOS[twin_id](work)):
        panel.add_scenario(f"variant {n + 1}", overrides)
    probe = StallProbe()
    window.twins_dock.raise_()  # as the user does: the comparison opens below the views
    spin(lambda: window.comparison_dock.isVisible(), 10.0)
    tab_opened = time.perf_counter()
    spin(lambda: time.perf_counter() - tab_opened > 1.0)
    opening_tab = probe.longest
    probe.reset()
    spin(lambda: time.perf_counter() - tab_opened > 3.0)
    idle = probe.longest
    probe.reset()
    started = time.perf_counter()
    panel.run_all()  # also opens the comparison dock: the views re-render at their new size
    spin(lambda: time.perf_counter() - started > 1.0)
    opening = probe.longest
    seconds = spin(lambda: not panel.running()) + 1.0
    spin(lambda: time.perf_counter() - started > seconds + 1.0)  # results drawn
    print(
        f"{twin_id}: 4 scenarios on {os.cpu_count()} cores, {seconds:.1f} s from Run all to "
        f"the last result; longest GUI stall {probe.longest * 1000:.0f} ms (target < 50 ms; "
        f"in the first second {opening * 1000:.0f} ms); idle window {idle * 1000:.0f} ms; "
        f"opening the Twins tab (the comparison dock appears, the views shrink) "
        f"{opening_tab * 1000:.0f} ms"
    )
    print("statuses:", {h.scenario: h.status for h in panel._handles.values()})
    long_gaps = [(a - started, b - a) for a, b in probe.gaps if b - a > 0.040]
    print("stalls over 40 ms (s after Run all: ms):",
          ", ".join(f"{t:.2f}: {d * 1000:.0f}" for t, d in long_gaps) or "none")  # fmt: skip
    probe.print_culprits()
    sys.stdout.flush()
    window.close()
    os._exit(0)


if __name__ == "__main__":
    main()
