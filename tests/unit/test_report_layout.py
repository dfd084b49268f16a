"""Every page of each demo case's board report is readable in print: no two pieces of text
overlap (positions read back from the PDF with pdfplumber), nothing runs off the page, no
page carries only a few lines; page 1 is the summary; images are rendered for print."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.report import write_report
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import run_scenarios
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.demo.case import demo_case

pdfplumber = pytest.importorskip("pdfplumber", reason="pdfplumber reads the text positions")

SCENARIOS = {  # each demo case with the twin made for it and scenarios a board would compare
    "thorax-abdomen": ("liver_ablation", [
        Scenario("Baseline", {"grid_mm": 2.0}),  # a coarse grid: the layout, not the physics
        Scenario("100 W · 10 min", {"grid_mm": 2.0, "power_w": 100.0, "time_s": 600.0}),
        Scenario("Right hepatectomy", {"grid_mm": 2.0, "ablation": False,
                                       "resection": "remove right part"}),
    ]),
    "neonate-hlhs": ("hlhs_norwood", [
        Scenario("BT 3.5 mm"),
        Scenario("BT 4.0 mm", {"shunt_diameter_mm": 4.0}),
        Scenario("Sano 5 mm", {"shunt_type": "sano", "shunt_diameter_mm": 5.0}),
    ]),
    "fh-patient": ("cardiometabolic", [
        Scenario("Baseline"),
        Scenario("High statin", {"therapy": "statin_high"}),
        Scenario("Statin + ezetimibe + PCSK9i", {"therapy": "statin_high_ezetimibe_pcsk9i"}),
    ]),
    "dravet-child": ("dravet_epilepsy", [
        Scenario("No add-on", {"futures": 500}),  # 500 futures: the layout, not the odds
        Scenario("Fenfluramine", {"futures": 500, "add_therapy": "fenfluramine"}),
        Scenario("Cannabidiol", {"futures": 500, "add_therapy": "cannabidiol"}),
        Scenario("Stiripentol", {"futures": 500, "add_therapy": "stiripentol"}),
        Scenario("Lamotrigine", {"futures": 500, "add_therapy": "lamotrigine"}),
    ]),
}  # fmt: skip
MIN_LINES = 8  # a page with fewer lines of text should have been merged with another


@pytest.fixture(scope="module")
def demo_runs():
    """Each demo case with its scenarios run once."""
    registry = discover()
    runner = Runner()
    cases = {}
    try:
        for name, (twin_id, scenarios) in SCENARIOS.items():
            case = demo_case(name)
            twin = registry.get(twin_id)
            runs = run_scenarios(twin, case, scenarios, runner)
            assert [r.status for r in runs] == ["ok"] * len(runs), [r.error for r in runs]
            case.scenarios[twin.id] = list(scenarios)
            cases[name] = (case, twin)
    finally:
        runner.shutdown()
    return cases


def overlaps(page, tolerance: float = 0.25) -> list[str]:
    """Pairs of characters of different strings whose boxes overlap by more than
    `tolerance` of the smaller box (neighbours in the content stream may kern)."""
    chars = [c for c in page.chars if c["text"].strip()]
    if len(chars) < 2:
        return []
    box = np.array([[c["x0"], c["top"], c["x1"], c["bottom"]] for c in chars])
    area = np.maximum((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]), 1e-6)
    found = []
    for n in range(len(chars)):
        w = np.minimum(box[n, 2], box[n + 2 :, 2]) - np.maximum(box[n, 0], box[n + 2 :, 0])
        h = np.minimum(box[n, 3], box[n + 2 :, 3]) - np.maximum(box[n, 1], box[n + 2 :, 1])
        shared = np.clip(w, 0, None) * np.clip(h, 0, None)
        hit = np.flatnonzero(shared > tolerance * np.minimum(area[n], area[n + 2 :]))
        for m in hit[:1] + n + 2:
            found.append(f"{_context(chars, n)!r} overlaps {_context(chars, m)!r}")
    return found


def _context(chars, n: int) -> str:
    return "".join(c["text"] for c in chars[max(n - 12, 0) : n + 12])


def outside(page, margin: float = 12.0) -> list[str]:
    """Characters within `margin` points of the page's edge, or beyond it (pdfplumber keeps
    only what lies on the page: text running off it ends in the margin)."""
    return [c["text"] for c in page.chars if c["x0"] < margin or c["x1"] > page.width - margin
            or c["top"] < margin or c["bottom"] > page.height - margin]  # fmt: skip


def text_lines(page) -> int:
    """Distinct lines of text on a page (characters grouped by their baseline)."""
    return len({round(c["bottom"] / 3) for c in page.chars if c["text"].strip()})


def image_share(page) -> float:
    """The share of the page that images cover."""
    return sum(i["width"] * i["height"] for i in page.images) / (page.width * page.height)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_text_overlaps_on_any_page_of_a_demo_report(demo_runs, name, tmp_path):
    case, twin = demo_runs[name]
    path = write_report(case, twin, tmp_path / f"{name}.pdf")
    stale = {run.scenario: "the labels changed since this run" for run in case.runs[twin.id][1:]}
    marked = write_report(case, twin, tmp_path / f"{name}-stale.pdf", stale=stale,
                          pseudonym="MDT-017")  # fmt: skip
    for pdf in (path, marked):
        with pdfplumber.open(pdf) as document:
            for number, page in enumerate(document.pages, start=1):
                where = f"{pdf.name} page {number}"
                assert not overlaps(page), f"{where}: {overlaps(page)[:5]}"
                assert not outside(page), f"{where}: text off the page {outside(page)[:20]}"
                full = text_lines(page) >= MIN_LINES or image_share(page) > 0.2
                assert full, f"{where}: only {text_lines(page)} lines and few images"
                assert abs(page.width - 595) < 2 and abs(page.height - 842) < 2  # A4


def test_page_one_summarises_question_outcomes_flags_and_staleness(demo_runs, tmp_path):
    case, twin = demo_runs["thorax-abdomen"]
    stale = {"100 W · 10 min": "changed since this run: Power per applicator 80 → 100 W"}
    path = write_report(case, twin, tmp_path / "board.pdf", stale=stale)
    with pdfplumber.open(path) as document:
        first = document.pages[0].extract_text()
        texts = [page.extract_text() for page in document.pages]
    assert "Question to the board" in first
    assert "right hepatectomy" in first  # the case's own question
    assert "Target: tumour 1, in the liver, right liver" in first
    assert "RESULTS OUT OF DATE: 1 of 3" in first and "Power per applicator 80 → 100 W" in first
    assert "out of date" in first  # its column in the summary table
    assert "Future liver remnant: Below the target" in first  # the resection's 21 %
    assert "Right hepatectomy (21 %)" in first
    flagged = [line for line in first.splitlines() if "Tissue reached 100 C" in line]
    assert len(flagged) <= 1  # a warning of several scenarios is printed once
    assert sum(t.count("Tissue reached 100 C") for t in texts[:1]) <= 1
    baseline = next(t for t in texts if "Personalised baseline" in t)
    assert "This patient: centre of 'tumour 1'" in baseline  # the personalisation's provenance
    assert "Default: Chang & Nguyen 2004" in baseline  # a declared default and its source
    target = next(t for t in texts if t.startswith("Target and plan"))
    assert "mm from the skin to the target along the path" in target
    assert "5 mm margin" in target and "10 mm margin" in target


def test_the_target_page_is_printed_at_300_dpi_with_the_zones_drawn(demo_runs, tmp_path):
    case, twin = demo_runs["thorax-abdomen"]
    path = write_report(case, twin, tmp_path / "board.pdf")
    with pdfplumber.open(path) as document:
        page = next(p for p in document.pages if "Target and plan" in p.extract_text()[:40])
        images = sorted(page.images, key=lambda i: i["width"] * i["height"], reverse=True)
        axial = images[0]
        dpi = axial["srcsize"][0] / (axial["width"] / 72)
        assert dpi >= 290, f"the axial slice is printed at {dpi:.0f} dpi"
        assert axial["width"] > 0.5 * page.width  # large, not a thumbnail
        curves = [c for c in page.curves if c.get("stroking_color") is not None]
        assert len(curves) >= 5  # tumour, two margins, zones of two scenarios at least


def test_a_pseudonymised_report_withholds_the_question(demo_runs, tmp_path):
    case, twin = demo_runs["thorax-abdomen"]
    path = write_report(case, twin, tmp_path / "p.pdf", pseudonym="MDT-017")
    with pdfplumber.open(path) as document:
        first = document.pages[0].extract_text()
    assert "MDT-017" in first and "withheld" in first
    assert "right hepatectomy?" not in first and case.name not in first


def test_rulers_and_rois_kept_with_the_case_are_listed_for_the_board(demo_runs, tmp_path):
    from meditwin_desktop.core.segmentation.measurements import ImageMeasurement

    case, twin = demo_runs["thorax-abdomen"]
    study = case.studies[0].id
    kept = [
        ImageMeasurement("ruler", "Tumour 1 long axis", study, "axial", 121,
                         [[-100.0, -10, -38], [-80.0, -10, -38]], {"length_mm": 20.0}),
        ImageMeasurement("roi", f"{case.name} liver ROI", study, "axial", 121,
                         [[-90.0, 0, -38], [-70.0, 20, -38]],
                         {"pixels": 144, "mean": 61.0, "std": 12.0, "min": 20.0,
                          "max": 98.0, "area_mm2": 400.0}, "HU"),
    ]  # fmt: skip
    case.image_measurements = kept
    try:
        path = write_report(case, twin, tmp_path / "m.pdf")
        hidden = write_report(case, twin, tmp_path / "p.pdf", pseudonym="MDT-017")
    finally:
        case.image_measurements = []
    for pdf in (path, hidden):
        with pdfplumber.open(pdf) as document:
            page = next(p for p in document.pages if "Measurements on the images" in
                        p.extract_text()[:80])  # fmt: skip
            text = page.extract_text()
            assert not overlaps(page), overlaps(page)[:3]
            assert "20.0 mm" in text and "mean 61 ± 12 HU" in text and "axial 121" in text
    with pdfplumber.open(path) as document:
        assert case.name in "".join(p.extract_text() for p in document.pages)
    with pdfplumber.open(hidden) as document:  # a name typed with the patient's name in it
        assert case.name not in "".join(p.extract_text() for p in document.pages)
