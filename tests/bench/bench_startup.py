"""Time from process start to a rendered main window on the demo patient.

Prints the median of several runs for `meditwin gui --demo` and, as the reference
measured in the same run, for a bare PySide6 + pyvistaqt window rendering one sphere
(the toolkit's own start-up cost). Run under a display: `./dev.sh bench`.
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


def _time_to_marker(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("MEDITWIN_RENDERED"):
            elapsed = time.perf_counter() - start
            process.wait(timeout=60)
            return elapsed, line.strip()
    raise RuntimeError(f"{argv} ended without rendering (exit code {process.wait()})")


def main() -> None:
    env = dict(os.environ, MEDITWIN_HOME=tempfile.mkdtemp(prefix="meditwin-bench-"))
    env.setdefault("QT_QPA_PLATFORM", "xcb")
    subprocess.run(
        [sys.executable, "-c", "from meditwin_desktop.demo import ensure_demo; ensure_demo()"],
        env=env,
        check=True,
    )
    ours, reference, details = [], [], ""
    for _ in range(RUNS):
        seconds, details = _time_to_marker(
            [sys.executable, "-m", "meditwin_desktop", "gui", "--demo", "--exit-after-render"], env
        )
        ours.append(seconds)
        reference.append(_time_to_marker([sys.executable, "-c", REFERENCE], env)[0])
    a, b = statistics.median(ours), statistics.median(reference)
    print(f"process start -> rendered demo window: {a:.2f} s (median of {RUNS}; runs {ours})")
    print(f"  phases in the last run (s since the window was built): {details}")
    print(f"reference, bare PySide6 + pyvistaqt window with one sphere: {b:.2f} s")
    print(f"ratio meditwin / reference: {a / b:.2f}")


if __name__ == "__main__":
    main()
