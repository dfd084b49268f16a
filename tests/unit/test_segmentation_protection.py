"""Segmentation that protects a twin's inputs: edit policies (unlabelled only, overwrite,
inside a label, locked labels), which labels a twin reads, and image measurements that
persist with the case."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.segmentation.editor import EditPolicy, LabelEditor
from meditwin_desktop.core.segmentation.measurements import (
    ImageMeasurement,
    next_name,
    ruler_measurement,
)
from meditwin_desktop.core.segmentation.protection import labels_used_by, protected_labels
from meditwin_desktop.core.store import CaseLibrary
from tests.support.reference_twin import TWIN

LIVER, TUMOUR, KIDNEY = 1, 2, 3


def _editor() -> LabelEditor:
    """A 1 x 1 x 8 row: background, liver x3, tumour, kidney, background x2."""
    array = np.array([[[0, 1, 1, 1, 2, 3, 0, 0]]], np.uint8)
    names = {LIVER: "liver", TUMOUR: "tumour 1", KIDNEY: "kidney"}
    table = {v: Label(v, n, (1, 2, 3)) for v, n in names.items()}
    return LabelEditor(LabelMap(Volume(array, np.eye(4)), table))


def _row(editor: LabelEditor) -> list[int]:
    return editor.array[0, 0].tolist()


def test_by_default_tools_fill_only_unlabelled_voxels():
    editor = _editor()
    editor.paint(np.ones((1, 1, 8), bool), 4, policy=EditPolicy())
    assert _row(editor) == [4, 1, 1, 1, 2, 3, 4, 4]


def test_overwrite_takes_other_labels_except_locked_ones():
    editor = _editor()
    policy = EditPolicy(overwrite=True, locked=frozenset({TUMOUR}))
    editor.paint(np.ones((1, 1, 8), bool), 4, policy=policy)
    assert _row(editor) == [4, 4, 4, 4, 2, 4, 4, 4]


def test_inside_a_label_edits_only_its_voxels_and_a_locked_one_not_at_all():
    editor = _editor()
    editor.paint(np.ones((1, 1, 8), bool), TUMOUR, policy=EditPolicy(inside=LIVER))
    assert _row(editor) == [0, 2, 2, 2, 2, 3, 0, 0]
    editor.undo()
    locked = EditPolicy(inside=LIVER, locked=frozenset({LIVER}))
    assert editor.paint(np.ones((1, 1, 8), bool), TUMOUR, policy=locked) == 0
    index = (np.zeros(8, int), np.zeros(8, int), np.arange(8))
    assert editor.paint_at(index, TUMOUR, policy=EditPolicy(inside=LIVER)) == 3
    assert _row(editor) == [0, 2, 2, 2, 2, 3, 0, 0]


def test_cleanup_respects_locked_labels():
    editor = _editor()
    grown = np.ones((1, 1, 8), bool)
    policy = EditPolicy(overwrite=True, locked=frozenset({LIVER, TUMOUR}))
    editor.replace(KIDNEY, grown, "close", policy=policy)
    assert _row(editor) == [3, 1, 1, 1, 2, 3, 3, 3]


def _by_words(case) -> dict:
    """A prepare that tells tissues by words in label names (as the liver twin once did)."""
    names = case.label_values()
    lut = np.full(max(names) + 1, 9, np.uint8)
    for value, name in names.items():
        lut[value] = 1 if name == "liver" else 2 if "tumour" in name else 3 if "vein" in name else 9
    return {"codes": lut[case.label_grid().array]}


def test_a_twin_reads_the_labels_it_treats_apart_not_the_others():
    twin = replace(TWIN, id="words", prepare=_by_words)
    names = {1: "liver", 2: "tumour 1", 3: "tumour 2", 4: "portal vein", 5: "kidney",
             6: "body", 7: "right lung"}  # fmt: skip
    used = {names[v] for v in labels_used_by(twin, names)}
    assert used == {"liver", "tumour 1", "tumour 2", "portal vein"}
    assert not labels_used_by(replace(TWIN, id="none", requirements=()), names)


def test_the_liver_twin_reads_liver_and_tumours():
    twin = discover().get("liver_ablation")
    names = {1: "liver", 2: "tumour 1", 3: "portal vein", 4: "inferior vena cava"}
    assert labels_used_by(twin, names) == {1, 2, 3, 4}


def test_protection_concerns_twins_whose_requirements_the_case_meets():
    twins = list(discover().twins.values())
    editor = _editor()
    case = Case("p", labels=editor.labels)
    protection = protected_labels(twins, case, editor.labels)
    assert LIVER in protection and TUMOUR in protection
    assert "liver" in protection.describe(LIVER).lower()
    no_liver = LabelMap(Volume(np.zeros((1, 1, 2), np.uint8), np.eye(4)),
                        {1: Label(1, "tumour 1", (1, 2, 3))})  # fmt: skip
    assert not protected_labels(twins, Case("q", labels=no_liver), no_liver).users


def test_image_measurements_persist_with_the_case(tmp_path):
    image = Volume(np.zeros((2, 3, 4), np.int16), np.eye(4))
    case = Case("p", image=image, image_reference={"folder": "/x", "series_uid": "1.2"})
    ruler = ruler_measurement("Ruler 1", case.study.id, "axial", 2, [0, 0, 0], [3, 4, 0])
    assert ruler.values["length_mm"] == pytest.approx(5.0)
    roi = ImageMeasurement("roi", next_name([ruler], "roi"), case.study.id, "axial", 2,
                           [[0, 0, 1], [2, 2, 1]],
                           {"mean": 40, "std": 5, "min": 30, "max": 50, "area_mm2": 4,
                            "pixels": 9}, "HU")  # fmt: skip
    assert roi.name == "ROI 1" and next_name([ruler], "ruler") == "Ruler 2"
    case.image_measurements = [ruler, roi]
    library = CaseLibrary(tmp_path)
    library.save(case)
    back = library.load(case.id)
    assert back.image_measurements == [ruler, roi]
    assert back.image_measurements[1].summary() == "mean 40 ± 5 HU (min 30, max 50), 4 mm²"


def test_report_rows_name_the_study_slice_and_values():
    from meditwin_desktop.core.segmentation.measurements import report_rows

    case = Case("p", image=Volume(np.zeros((2, 3, 4), np.int16), np.eye(4)))
    case.study.modality, case.study.date = "CT", "2024-03-12"
    case.image_measurements = [
        ruler_measurement("Ruler 1", case.study.id, "axial", 12, [0, 0, 0], [0, 30, 40])
    ]
    assert report_rows(case) == [("CT 2024-03-12", "Ruler 1", "axial 12", "50.0 mm")]
