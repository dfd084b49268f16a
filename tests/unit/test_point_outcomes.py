"""Point outcomes (a VT isthmus) and surface fields over time (a membrane-potential movie):
the contract checks them, the comparison prints them as clinicians read positions, a saved
case gives them back as they were."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from meditwin_desktop.core import case_document
from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import cell_text, comparison_table, value_text
from meditwin_desktop.core.twin import (
    Field,
    Outcome,
    Result,
    TwinInputError,
    check_result,
    is_point,
)
from tests.support.memory_store import MemoryStore
from tests.support.reference_twin import TWIN as REFERENCE

ISTHMUS = Outcome("isthmus_lps_mm", "Isthmus", "mm", point=True, precision=1,
                  absent="no VT induced")  # fmt: skip
TWIN = replace(REFERENCE, outcomes=(ISTHMUS,))


def _run(name, point):
    result = Result({"isthmus_lps_mm": point})
    return Run("t", "1", name, {}, "", "ok", None, dict(result.outcomes), 0, "", "", "", result)


def test_a_point_outcome_must_be_three_finite_numbers():
    check_result(TWIN, Result({"isthmus_lps_mm": (10.0, -20.0, 5.0)}))
    check_result(TWIN, Result({"isthmus_lps_mm": None}))  # declared absent meaning
    for bad in ((1.0, 2.0), (1.0, float("nan"), 2.0), 3.0, "here"):
        with pytest.raises(TwinInputError):
            check_result(TWIN, Result({"isthmus_lps_mm": bad}))
    assert is_point([1, 2, 3]) and not is_point("abc") and not is_point((1, 2))


def test_the_comparison_prints_positions_with_their_sides_and_the_distance_moved():
    baseline = _run("Baseline", (-10.0, 20.0, 30.0))
    other = _run("Ablate", (-10.0, 23.0, 34.0))
    assert value_text(ISTHMUS, baseline.outcomes["isthmus_lps_mm"]) == "R 10.0 / P 20.0 / S 30.0"
    assert cell_text(ISTHMUS, other, baseline) == "R 10.0 / P 23.0 / S 34.0 (Δ 5.0 mm away)"
    assert value_text(ISTHMUS, None) == "no VT induced"
    _, rows = comparison_table(TWIN, [baseline, other])
    assert rows[1][3] == "R 10.0 / P 23.0 / S 34.0" and rows[1][4] == "-10; 23; 34"


def test_a_saved_result_gives_back_points_and_time_frames():
    times = np.array([0.0, 5.0, 10.0])
    movie = Field(
        "Membrane potential",
        "",
        np.arange(12.0).reshape(3, 4),
        points=np.zeros((4, 3)),
        faces=np.array([[0, 1, 2], [1, 2, 3]]),
        times=times,
    )
    result = Result({"isthmus_lps_mm": (1.5, -2.0, 3.25)}, fields={"membrane": movie})
    store = MemoryStore()
    back = case_document._result(case_document._result_document(result, store), store)
    assert back.outcomes["isthmus_lps_mm"] == (1.5, -2.0, 3.25)
    field = back.fields["membrane"]
    assert np.array_equal(field.times, times) and field.time_unit == "ms"
    assert np.array_equal(field.frame(1), [4.0, 5.0, 6.0, 7.0])
    assert np.array_equal(field.frame(), [8.0, 9.0, 10.0, 11.0])
