"""Start-up: the first window shows at once and the main window takes its place."""

import shiboken6

from meditwin_desktop.ui import launcher as launcher_module
from meditwin_desktop.ui.app import create_app
from meditwin_desktop.ui.launcher import Launcher


def test_the_startup_window_says_what_loads_then_the_main_window_takes_its_place(qtbot):
    app = create_app(install_exception_hook=False)
    ready = []
    launcher = Launcher(app, ready.append)
    launcher.start()
    startup = launcher.startup
    assert startup.isVisible()
    place = startup.geometry()
    assert startup.step.text()  # "Starting…" or "Loading …"
    qtbot.waitUntil(lambda: bool(ready), timeout=60_000)
    window = ready[0]
    qtbot.addWidget(window)
    assert launcher.window is window
    assert window.isVisible()
    assert not shiboken6.isValid(startup) or not startup.isVisible()  # closed, then deleted
    assert window.geometry() == place  # where the start-up window was
    assert window.welcome.isVisible() and window.twin_panel is not None  # nothing open yet
    window.close()


def test_a_missing_part_of_the_installation_is_said_in_the_startup_window(qtbot, monkeypatch):
    app = create_app(install_exception_hook=False)
    monkeypatch.setattr(
        launcher_module, "STEPS", (("numpy", "numerics"), ("no_such_module_xyz", "a part"))
    )
    ready = []
    launcher = Launcher(app, ready.append)
    qtbot.addWidget(launcher.startup)
    launcher.start()
    qtbot.waitUntil(lambda: "cannot start" in launcher.startup.step.text(), timeout=10_000)
    assert "no_such_module_xyz" in launcher.startup.step.text()
    assert launcher.startup.isVisible() and not ready
    launcher.startup.close()
