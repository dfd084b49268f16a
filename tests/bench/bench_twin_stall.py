"""Longest GUI event-loop stall while four CPU-heavy scenarios run (target < 50 ms).

The reference twin of tests/support burns `work_seconds` of CPU per scenario in its own
worker process; the real main window shows the demo case and runs four scenarios through
the twin panel, while a 5 ms QTimer records the longest gap between its ticks.
Run under a display: `./dev.sh bench` (sets PYTHONPATH) or
`PYTHONPATH=. python tests/bench/bench_twin_stall.py`.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("MEDITWIN_EXTRA_TWINS", "tests.support.reference_twin:TWIN")


def main() -> None:
    from bench_gui_stall import StallProbe  # same folder

    from meditwin_desktop.ui.app import create_app, show_main_window
    from meditwin_desktop.ui.main_window import MainWindow

    app = create_app(install_exception_hook=False)
    window = MainWindow()
    show_main_window(window, app)

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
    panel.select_twin("reference")
    work = float(os.environ.get("BENCH_WORK_SECONDS", "5"))
    panel.case.scenarios["reference"][0].overrides = {"work_seconds": work}
    for n in range(3):
        panel.add_scenario(f"heavy {n + 1}", {"work_seconds": work, "rate": 0.3 + n})
    probe = StallProbe()
    probe.reset()
    started = time.perf_counter()
    panel.run_all()  # also opens the comparison dock: the views re-render at their new size
    spin(lambda: time.perf_counter() - started > 1.0)
    opening = probe.longest
    probe.reset()
    seconds = spin(lambda: not panel.running()) + 1.0
    cores = os.cpu_count()
    print(
        f"4 scenarios x {work:g} s of CPU each on {cores} cores: {seconds:.1f} s in worker "
        f"processes; longest GUI stall while they run {probe.longest * 1000:.0f} ms "
        f"(target < 50 ms); in the first second after Run all (submit, comparison dock "
        f"opens, 3D view re-renders) {opening * 1000:.0f} ms"
    )
    print("statuses:", {h.scenario: h.status for h in panel._handles.values()})
    sys.stdout.flush()
    window.close()
    os._exit(0)


if __name__ == "__main__":
    main()
