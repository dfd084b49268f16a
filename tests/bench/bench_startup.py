"""Start-up of `meditwin gui --demo` on a cached demo, from process start to:
the first window painted (target < 1.5 s), the demo's first CT slice painted (the demo
usable, target < 4 s) and every view rendered (3D surfaces included).

Prints the median of several runs and, as the reference measured in the same run, a bare
PySide6 + pyvistaqt window rendering one sphere (the toolkit's own start-up cost).
Run under a display: `./dev.sh bench`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("BENCH_RUNS", "3"))

REFERENCE = r"""
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
from pyvistaqt import QtInteractor
import pyvista as pv
app = QApplication(sys.argv)
window = QMainWindow()
plotter = QtInteractor(window, auto_update=False)
window.setCentralWidget(plotter)
plotter.add_mesh(pv.Sphere())
window.resize(1400, 900)
window.show()
def done(*_):
    print("MEDITWIN_RENDERED", flush=True)
    app.quit()
plotter.ren_win.AddObserver("EndEvent", done)
plotter.render()
app.exec()
"""


def _time_to_markers(argv: list[str], env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Seconds from process start to each MEDITWIN_* line, up to MEDITWIN_RENDERED."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    seen: dict[str, float] = {}
    for line in process.stdout:
        if line.startswith("MEDITWIN_"):
            seen[line.split()[0]] = time.perf_counter() - start
        if line.startswith("MEDITWIN_RENDERED"):
            process.wait(timeout=60)
            return seen, line.strip()
    raise RuntimeError(f"{argv} ended without rendering (exit code {process.wait()})")


def main() -> None:
    env = dict(os.environ, MEDITWIN_HOME=tempfile.mkdtemp(prefix="meditwin-bench-"))
    env.setdefault("QT_QPA_PLATFORM", "xcb")
    subprocess.run(
        [sys.executable, "-c", "from meditwin_desktop.demo import ensure_demo; ensure_demo()"],
        env=env,
        check=True,
    )
    ours: list[dict[str, float]] = []
    reference: list[float] = []
    details = ""
    for _ in range(RUNS):
        seen, details = _time_to_markers(
            [sys.executable, "-m", "meditwin_desktop", "gui", "--demo", "--exit-after-render"], env
        )
        ours.append(seen)
        reference.append(
            _time_to_markers([sys.executable, "-c", REFERENCE], env)[0]["MEDITWIN_RENDERED"]
        )
    b = statistics.median(reference)
    for marker, what, target in (
        ("MEDITWIN_WINDOW", "first window painted", 1.5),
        ("MEDITWIN_FIRST_SLICE", "demo CT slice painted (usable)", 4.0),
        ("MEDITWIN_RENDERED", "every view rendered (3D included)", None),
    ):
        runs = [seen[marker] for seen in ours]
        a = statistics.median(runs)
        goal = f", target < {target} s: {'met' if a < target else 'NOT met'}" if target else ""
        print(f"process start -> {what}: {a:.2f} s (median of {RUNS}{goal}; "
              f"runs {', '.join(f'{r:.2f}' for r in runs)}; "
              f"{a / b:.2f}x the reference)")  # fmt: skip
    print(f"  phases in the last run (s since the main window was built): {details}")
    print(f"reference, bare PySide6 + pyvistaqt window rendering one sphere: {b:.2f} s")


if __name__ == "__main__":
    main()
