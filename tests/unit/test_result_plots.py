"""The Qt-free drawing shared by the GUI comparison and the report (`core.comparison`,
`core.result_plots`), and the report's pages of every result kind."""

from __future__ import annotations

import shutil
import subprocess
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from matplotlib.figure import Figure

from meditwin_desktop.core.case import Case, Run, Study
from meditwin_desktop.core.comparison import cell_text, outcome_heading, plot_bars, plot_series
from meditwin_desktop.core.result_plots import (
    MASK_COLOUR,
    face_values,
    photo_pixels,
    plot_overlay,
    plot_surface,
    shared_range,
    table_side_by_side,
    table_stacked,
)
from meditwin_desktop.core.twin import Scenario, TimeSeries, view_of
from tests.support.kinds_twin import TWIN


def _runs(case: Case | None = None, shifts=(("Baseline", 0.0), ("low", -10.0))) -> list[Run]:
    inputs = TWIN.prepare(view_of(case or Case("test")))
    runs = []
    for name, shift in shifts:
        result = TWIN.simulate({"shift": shift}, inputs, lambda *a: None, lambda: False)
        runs.append(
            Run(
                "kinds",
                "1.0",
                name,
                {"shift": shift},
                "",
                "ok",
                None,
                dict(result.outcomes),
                0,
                "",
                "",
                "",
                result,
            )
        )
    return runs


def _axes():
    return Figure().add_subplot(111)


def test_observed_points_are_drawn_once_beside_the_curves():
    runs = _runs()
    axes = _axes()
    assert plot_series(axes, runs, "pressure", stale={"low"})
    labels = [line.get_label() for line in axes.lines]
    assert labels == ["Baseline", "low (out of date)", "observed"]
    observed = axes.lines[-1]
    assert observed.get_marker() == "o" and observed.get_linestyle() == "None"
    assert list(observed.get_ydata()) == [92.0, 85.0, 96.0]


def test_observed_points_of_one_scenario_take_its_colour():
    runs = _runs()
    series = runs[1].result.series["pressure"]
    runs[1].result.series["pressure"] = TimeSeries(
        series.label,
        series.unit,
        series.time,
        series.values,
        series.time_unit,
        observed_time=np.array([2.0]),
        observed_values=np.array([70.0]),
    )
    axes = _axes()
    plot_series(axes, runs, "pressure")
    mine = next(line for line in axes.lines if line.get_label() == "low: observed")
    assert mine.get_color() == axes.lines[1].get_color()  # the curve of "low"


def test_bars_show_the_clinical_target_and_marks():
    runs = _runs()
    sao2, remnant = TWIN.outcomes[0], TWIN.outcomes[1]
    axes = _axes()
    assert plot_bars(axes, sao2, runs)
    band = [p for p in axes.patches if p.get_label() == "target 75-85 %"]
    assert len(band) == 1
    assert axes.get_ylim()[1] >= 85  # the whole band is in view
    assert "70.0 ↓" in [t.get_text() for t in axes.texts]
    axes = _axes()
    plot_bars(axes, remnant, runs)
    line = next(x for x in axes.lines if x.get_label() == "target >= 30 %")
    assert set(line.get_ydata()) == {30}
    assert outcome_heading(sao2) == "SaO2 [%] (target 75-85 %)"
    assert outcome_heading(remnant) == "Remnant [%] (higher is better; target >= 30 %)"
    assert cell_text(sao2, runs[1], runs[0]) == "70.0 ↓ (Δ -10.0)"  # at its precision
    assert cell_text(sao2, runs[0], runs[0]) == "80.0"


def test_surface_rendering_colours_every_triangle_on_a_shared_scale():
    runs = _runs()
    fields = [r.result.fields["activation"] for r in runs]
    clim = shared_range(f.values for f in fields)
    assert clim == (min(fields[1].values), max(fields[0].values))
    axes = _axes()
    mapping = plot_surface(axes, fields[0], view="left", clim=clim)
    (collection,) = axes.collections
    assert len(collection.get_paths()) == len(fields[0].faces)
    assert mapping.get_clim() == clim
    assert len(face_values(fields[0])) == len(fields[0].faces)


def test_overlays_draw_on_the_photograph_or_a_neutral_ground():
    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([200 + 0 * x, 50 + y, 50 + 0 * x], -1).astype(np.uint8)
    case = Case("photo", studies=[Study(modality="OP", image=SimpleNamespace(pixels=pixels))])
    runs = _runs(case)
    vessels = runs[0].result.overlays["vessels"]
    assert np.array_equal(photo_pixels(case, vessels), pixels)  # the active study's
    axes = _axes()
    assert plot_overlay(axes, vessels, photo_pixels(case, vessels)) is None  # a mask: no bar
    photo, fill = axes.images
    assert photo.get_array().shape == (48, 64, 3) and fill.cmap(1.0)[:3] == pytest.approx(
        matplotlib.colors.to_rgb(MASK_COLOUR)
    )
    assert axes.collections  # the outline
    flow = runs[0].result.overlays["flow"]
    axes = _axes()
    mapping = plot_overlay(axes, flow, None, clim=(0.0, 10.0))
    assert mapping.get_clim() == (0.0, 10.0)
    ground = axes.images[0].get_array()
    assert ground.shape == flow.values.shape and np.all(ground == ground.flat[0])  # neutral
    assert photo_pixels(Case("no photo"), flow) is None


def test_tables_side_by_side_and_one_after_another():
    runs = _runs()
    headings, rows = table_side_by_side(runs, "segments", {"low"})
    assert headings == [
        "segment",
        "diameter [µm]\nBaseline",
        "diameter [µm]\nlow (out of date)",
        "flow [mL/min]\nBaseline",
        "flow [mL/min]\nlow (out of date)",
    ]
    assert rows[0] == ["A1", "120", "110", "3.2", "3.2"] and rows[2][-1] == "–"
    headings, rows = table_stacked(runs, "segments")
    assert headings[0] == "Scenario" and len(rows) == 6 and rows[3][:2] == ["low", "A1"]


def test_the_report_has_a_page_for_every_kind(tmp_path):
    from meditwin_desktop.core.report import write_report

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the report's text")

    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([150 + 0 * x, 60 + y, 30 + x], -1).astype(np.uint8)
    case = Case("Kinds", studies=[Study(modality="OP", image=SimpleNamespace(pixels=pixels))])
    case.runs["kinds"] = _runs(case)
    case.scenarios["kinds"] = [Scenario("Baseline"), Scenario("low", {"shift": -10.0})]
    path = write_report(case, TWIN, tmp_path / "board.pdf", stale={"low": "the photo changed"})
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "70.0 ↓",
        "below / above the outcome's clinical target",
        "Key outcomes",
        "Curves",
        "observed",
        "Surface results",
        "Activation time [ms]",
        "Images",
        "Vessels",
        "Flow [mL/min]",
        "Table: Segments",
        "low (out of date)",
    ):
        assert expected in text, expected
