"""Every result kind side by side in the comparison: the kinds test twin (tests/support) run
from the twin panel on the demo case, its tabs clicked as a user does; and overlays drawn
over a case's photograph."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.gui
EXTRA = "tests.support.kinds_twin:TWIN"


@pytest.fixture
def kinds_window(qtbot, demo_patient, monkeypatch, show_window):
    monkeypatch.setenv("MEDITWIN_EXTRA_TWINS", EXTRA)
    window = show_window(1500, 950)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=60_000)
    window.twin_panel.select_twin("kinds")
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=30_000)
    assert window.twin_panel.twin.id == "kinds"
    window.twin_panel.add_scenario("low", {"shift": "-10"})
    window.twin_panel.run_all()
    qtbot.waitUntil(lambda: window.comparison.table.columnCount() == 3, timeout=120_000)
    yield window
    window.close()


def _click_tab(qtbot, comparison, title: str) -> None:
    bar = comparison.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(lambda: comparison.tabs.currentIndex() == index, timeout=5_000)
    qtbot.wait(100)


def _choose(combo, name: str) -> None:
    combo.setCurrentIndex(combo.findData(name))


def test_every_kind_is_compared_in_its_tab(kinds_window, qtbot, shot):
    comparison = kinds_window.comparison
    table = comparison.table
    rows = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert rows[0] == "SaO2 [%] (target 75-85 %)"
    assert "target >= 30 %" in rows[1]
    low = table.item(0, 2)  # SaO2 of "low": 70 %
    assert "↓" in low.text() and "below the target 75-85 %" in low.toolTip().lower()
    assert "↓" not in table.item(0, 1).text()
    assert table.item(0, 1).toolTip().startswith("Meets the target 75-85 %")
    _click_tab(qtbot, comparison, "Outcomes")
    shot(comparison, "kinds-outcomes")

    _click_tab(qtbot, comparison, "Curves")
    axes = comparison.figure.axes[0]
    observed = [line for line in axes.lines if line.get_label() == "observed"]
    assert len(observed) == 1 and observed[0].get_marker() == "o"  # shared: drawn once
    assert len(observed[0].get_xdata()) == 3
    shot(comparison, "kinds-curves")

    _click_tab(qtbot, comparison, "Bars")
    _choose(comparison.bar_choice, "sao2")
    axes = comparison.bar_figure.axes[0]
    band = [p for p in axes.patches if p.get_label() == "target 75-85 %"]
    assert band and "70.0 ↓" in [t.get_text() for t in axes.texts]
    shot(comparison, "kinds-bars")

    _click_tab(qtbot, comparison, "Images")
    images = comparison.images_page
    _choose(images.choice, "vessels")
    assert len(images.figure.axes) == 2  # one panel per scenario, no colour bar for a mask
    assert all(a.collections for a in images.figure.axes)  # the mask's outline
    _choose(images.choice, "flow")
    assert len(images.figure.axes) == 3  # two panels and the shared colour bar
    limits = {a.images[-1].get_clim() for a in images.figure.axes[:2]}
    assert len(limits) == 1  # one colour scale
    assert "Grey background" in images.note.text()  # the demo case has no photograph
    shot(comparison, "kinds-images")

    _click_tab(qtbot, comparison, "Tables")
    result = comparison.tables_page.table
    headings = [result.horizontalHeaderItem(c).text() for c in range(result.columnCount())]
    assert headings[0] == "segment" and "diameter [µm]\nlow" in headings
    assert result.rowCount() == 3 and result.item(0, 0).text() == "A1"
    comparison.tables_page.side.setChecked(False)  # one scenario after another
    assert result.rowCount() == 6 and result.item(3, 0).text() == "low"
    shot(comparison, "kinds-tables")

    _click_tab(qtbot, comparison, "3D results")
    _choose(comparison.field_choice, "activation")
    qtbot.waitUntil(lambda: "shared colour scale" in comparison.spatial_note.text())
    assert sum(v.isVisible() for v in comparison.viewports) == 2
    mesh = comparison.viewports[0].renderer.actors
    assert mesh  # the surface (and its scalar bar) drawn
    shot(comparison, "kinds-surface")


def test_out_of_date_runs_keep_their_mark_in_the_new_views(kinds_window, qtbot, shot, monkeypatch):
    from meditwin_desktop.ui import window_case

    comparison = kinds_window.comparison
    stale = {"low": "the CT changed"}
    monkeypatch.setattr(window_case, "check_runs", lambda twin, case: dict(stale))
    kinds_window._check_freshness()  # as after an edit of the case
    qtbot.waitUntil(lambda: kinds_window.stale == stale, timeout=30_000)
    assert comparison.stale == stale and comparison.stale_bar.isVisible()
    _click_tab(qtbot, comparison, "Images")
    titles = [a.get_title() for a in comparison.images_page.figure.axes[:2]]
    assert titles == ["Baseline", "low (out of date)"]
    _click_tab(qtbot, comparison, "Tables")
    result = comparison.tables_page.table
    headings = [result.horizontalHeaderItem(c).text() for c in range(result.columnCount())]
    assert "diameter [µm]\nlow (out of date)" in headings
    column = headings.index("diameter [µm]\nlow (out of date)")
    assert result.item(0, column).font().italic()
    shot(comparison, "kinds-tables-stale")


def test_overlays_are_drawn_over_the_case_photograph(qtbot, shot):
    from meditwin_desktop.core.case import Case, Run, Study
    from meditwin_desktop.core.twin import Scenario, view_of
    from meditwin_desktop.ui.comparison import ComparisonView
    from tests.support.kinds_twin import TWIN

    y, x = np.mgrid[0:60, 0:80]
    pixels = np.stack([150 + 0 * x, 60 + y, 30 + x], -1).astype(np.uint8)  # a reddish photo
    case = Case("photo", studies=[Study(modality="OP", image=SimpleNamespace(pixels=pixels))])
    inputs = TWIN.prepare(view_of(case))
    assert inputs["shape"] == (60, 80)
    runs = []
    for name, shift in (("Baseline", 0.0), ("wide", 20.0)):
        result = TWIN.simulate({"shift": shift}, inputs, lambda *a: None, lambda: False)
        runs.append(Run("kinds", "1.0", name, {"shift": shift}, "", "ok", None,
                        dict(result.outcomes), 0, "", "", "", result))  # fmt: skip
    case.runs["kinds"] = runs
    case.scenarios["kinds"] = [Scenario("Baseline"), Scenario("wide", {"shift": 20.0})]
    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    qtbot.waitExposed(view)
    view.show_runs(TWIN, case, {})
    _click_tab(qtbot, view, "Images")
    _choose(view.images_page.choice, "vessels")
    axes = view.images_page.figure.axes[0]
    photo = axes.images[0].get_array()
    assert photo.shape == (60, 80, 3)  # the photograph under the mask
    assert np.allclose(photo[0, 0], pixels[0, 0] / 255)
    assert "Grey background" not in view.images_page.note.text()
    view.images_page.canvas.draw()
    rgba = np.asarray(view.images_page.canvas.buffer_rgba())
    cyan = (rgba[..., 0] < 120) & (rgba[..., 1] > 170) & (rgba[..., 2] > 170)
    assert cyan.sum() > 50  # the mask's outline and fill are on screen
    shot(view, "kinds-images-photo")
    view.close_viewports()


def test_a_surface_field_becomes_a_mesh_with_its_values():
    from meditwin_desktop.core.twin import Field
    from meditwin_desktop.ui.comparison import _shown, field_to_mesh

    points = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], float)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    field = Field("Activation", "ms", np.array([1.0, 2.0, 3.0, 4.0]), points=points, faces=faces)
    mesh = field_to_mesh(field)
    assert mesh.n_points == 4 and mesh.n_cells == 4
    assert np.array_equal(mesh.regular_faces, faces) and np.allclose(mesh.points, points)
    assert list(mesh["values"]) == [1.0, 2.0, 3.0, 4.0]
    assert _shown(mesh) is mesh  # drawn as it is, coloured by its values


def test_points_are_marked_and_movies_play_in_the_3d_results(kinds_window, qtbot, shot):
    """A point outcome reads as a position in the table and is marked on the slices (the
    selected scenario's) and in the 3D results; a surface movie gets a time slider that moves
    every scenario's viewport to the same frame."""
    comparison = kinds_window.comparison
    table = comparison.table
    rows = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = next(r for r, text in enumerate(rows) if text.startswith("Hot spot"))
    assert table.item(row, 1).text().startswith("L ") and " / " in table.item(row, 1).text()
    assert "mm away" in table.item(row, 2).text()  # "low" moved it 10 mm
    assert comparison.bar_choice.findData("hotspot") == -1  # a position has no bar

    layer = kinds_window.result_markers.layer
    qtbot.waitUntil(lambda: layer.marks is not None and bool(layer.marks.points), timeout=5_000)
    assert [m.text for m in layer.marks.points if m.outcome] == ["Hot spot"]
    assert layer.marks.zones == []  # the dose grid is no 0/1 zone

    _click_tab(qtbot, comparison, "3D results")
    _choose(comparison.field_choice, "potential")
    qtbot.waitUntil(lambda: comparison.time_slider.isVisible(), timeout=10_000)
    slider = comparison.time_slider
    assert slider.maximum() == 4
    first = comparison._frames[0][1]
    slider.setValue(0)
    before = np.array(first.point_data["values"])
    slider.setValue(3)
    after = np.array(first.point_data["values"])
    assert np.allclose(after - before, 30.0)  # frame 3 is 30 ms later: values + 30
    assert comparison.time_label.text() == "t = 30 ms"
    shot(comparison, "kinds-movie")
    _choose(comparison.field_choice, "activation")
    qtbot.waitUntil(lambda: not comparison.time_slider.isVisible(), timeout=5_000)
