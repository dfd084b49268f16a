"""RECIST 1.1 rules (Eisenhauer EA et al., Eur J Cancer 2009;45:228-247, sections 3.1-3.3).

Every expected category below follows from the guideline's thresholds: measurable >= 10 mm
(node short axis >= 15 mm), <= 5 targets and <= 2 per organ, PR >= 30 % decrease from the
baseline SLD, PD >= 20 % AND >= 5 mm over the nadir or a new lesion, CR = non-nodal targets
gone and nodal targets < 10 mm. These are exact rules: no numeric tolerance beyond the
inclusive thresholds.
"""

from __future__ import annotations

import pytest

from meditwin_desktop.core.twin import TwinInputError

from ..recist import Lesion, assess, recist_table, select_targets

D = ["2025-01-06", "2025-03-03", "2025-04-28", "2025-06-23"]


def liver(name: str, *values: float | None, organ: str = "liver") -> Lesion:
    return Lesion(f"{organ}: {name}", organ, False, dict(zip(D, values, strict=False)))


def node(name: str, *values: float | None) -> Lesion:
    return Lesion(f"lymph node: {name}", "lymph node", True, dict(zip(D, values, strict=False)))


def test_100_to_70_mm_is_partial_response():
    t = assess([liver("a", 60, 42), liver("b", 40, 28)], D[:2])
    p = t.last
    assert p.sld_mm == pytest.approx(70.0)
    assert p.change_from_baseline_pct == pytest.approx(-30.0)
    assert p.category == "PR", p.rule
    assert "30.0 % below baseline 100.0 mm" in p.rule


def test_29_percent_decrease_is_stable_disease():
    assert assess([liver("a", 100, 71)], D[:2]).last.category == "SD"


def test_20_percent_over_nadir_but_under_5_mm_is_not_progression():
    # baseline 20 mm, nadir 20 mm, then 24 mm: +20 % but only +4 mm -> SD
    t = assess([liver("a", 20, 24)], D[:2])
    assert t.last.category == "SD", t.last.rule
    assert "PD needs >= 5 mm" in t.last.rule
    assert t.last.change_from_nadir_pct == pytest.approx(20.0)


def test_20_percent_and_5_mm_over_nadir_is_progression_even_below_baseline():
    # 100 -> 50 (PR, nadir 50) -> 60: +20 % and +10 mm over the nadir, still -40 % vs baseline
    t = assess([liver("a", 100, 50, 60)], D[:3])
    assert [p.category for p in t.points] == ["baseline", "PR", "PD"]
    assert t.points[2].nadir_mm == pytest.approx(50.0)
    assert t.nadir_mm == pytest.approx(50.0)


def test_new_lesion_is_progression_and_it_stands():
    t = assess([liver("a", 50, 30)], D[:2], new_lesion_dates=["2025-03-01"])
    event = next(p for p in t.points if p.date == "2025-03-01")
    assert event.category == "PD" and "new lesion on 2025-03-01" in event.rule
    assert t.last.category == "PD"  # RECIST: progression is not undone by a shrinking SLD
    assert "progression on 2025-03-01 stands; this scan alone: PR" in t.last.rule


def test_a_lesion_absent_at_baseline_and_measured_later_is_a_new_lesion():
    lesions = [liver("a", 40, 30, 25), Lesion("lung: new", "lung", False, {D[2]: 12.0})]
    t = assess(lesions, D[:3])
    assert t.last.category == "PD" and "'lung: new' 12 mm, absent at baseline" in t.last.rule
    zero = [liver("a", 40, 30, 25), liver("new", 0, 0, 14)]  # 0 mm at baseline: absent too
    assert assess(zero, D[:3]).last.category == "PD"


def test_a_target_back_after_a_complete_response_is_progression():
    t = assess([liver("a", 40, 0, 0, 4)], D)
    assert [p.category for p in t.points[1:]] == ["CR", "CR", "PD"]
    assert "back after a complete response" in t.last.rule


def test_targets_gone_with_a_non_target_still_there_is_partial_response():
    lesions = [liver("a", 40, 10, 0), liver("b", 30, 8, 0), liver("c", 25, 20, 20)]
    t = assess(lesions, D[:3])  # c: the third liver lesion, a non-target
    assert t.last.category == "PR" and "non-target 'liver: c'" in t.last.rule


def test_nontarget_progression_is_progression():
    t = assess([liver("a", 50, 50)], D[:2], nontarget_progression_dates=[D[1]])
    assert t.last.category == "PD"


def test_node_12_mm_at_baseline_is_not_a_target_and_node_below_10_mm_counts_for_cr():
    lesions = [liver("a", 30, 0), node("hilar", 20, 9), node("small", 12, 9)]
    t = assess(lesions, D[:2])  # the pathological non-target node is normal (< 10 mm) too
    assert "lymph node: small" not in t.targets
    assert "12 mm < 15 mm" in t.excluded["lymph node: small"]
    assert set(t.targets) == {"liver: a", "lymph node: hilar"}
    assert t.points[0].sld_mm == pytest.approx(50.0)  # 30 mm longest + 20 mm short axis
    assert t.last.sld_mm == pytest.approx(9.0)
    assert t.last.category == "CR", t.last.rule


def test_node_at_10_mm_prevents_complete_response():
    t = assess([liver("a", 30, 0), node("hilar", 20, 10)], D[:2])
    assert t.last.category == "PR"  # 50 -> 10 mm is -80 %, but the node is not normal


def test_lesion_under_10_mm_is_not_measurable():
    t = assess([liver("a", 30, 30), liver("tiny", 8, 8)], D[:2])
    assert t.targets == ("liver: a",)
    assert "8 mm < 10 mm" in t.excluded["liver: tiny"]


def test_at_most_two_per_organ_and_five_in_total_largest_first():
    lesions = [
        liver("1", 50),
        liver("2", 40),
        liver("3", 60),
        liver("1", 30, organ="lung"),
        liver("2", 25, organ="lung"),
        liver("3", 20, organ="lung"),
        liver("1", 15, organ="bone"),
        node("a", 35),
        node("b", 18),
    ]
    targets, excluded = select_targets(lesions, D[0])
    names = [t.name for t in targets]
    assert len(names) == 5
    assert names == ["liver: 3", "liver: 1", "lymph node: a", "lung: 1", "lung: 2"]
    assert "at most 2 per organ" in excluded["liver: 2"]
    assert "at most 2 per organ" in excluded["lung: 3"]
    assert "at most 5 in total" in excluded["bone: 1"]
    assert "at most 5 in total" in excluded["lymph node: b"]


def test_missing_target_is_not_evaluable_unless_measured_ones_already_progress():
    t = assess([liver("a", 40, None, 60), liver("b", 30, 20, None)], D[:3])
    assert t.points[1].category == "NE"
    assert t.points[1].sld_mm is None
    assert "'liver: a' not measured" in t.points[1].rule
    # visit 3: 'b' missing but 'a' alone is 60 mm vs nadir 70 mm: not PD -> NE
    assert t.points[2].category == "NE"
    t2 = assess([liver("a", 40, 90), liver("b", 30, None)], D[:2])
    assert t2.last.category == "PD", t2.last.rule  # 90 >= 1.2 * 70 and +20 mm


def test_duplicate_and_unreadable_dates_and_negative_diameters_are_refused():
    with pytest.raises(TwinInputError, match="twice"):
        assess([liver("a", 40, 30)], [D[0], D[1], D[1]])
    with pytest.raises(TwinInputError, match="YYYY-MM-DD"):
        assess([liver("a", 40)], ["06/01/2025"])
    with pytest.raises(TwinInputError, match="negative"):
        assess([liver("a", 40, -3)], D[:2])
    with pytest.raises(TwinInputError, match="No lesion is measurable"):
        assess([liver("a", 8, 9)], D[:2])


def test_out_of_order_dates_are_sorted():
    t = assess([liver("a", 100, 70, 60)], [D[2], D[0], D[1]])
    assert [p.date for p in t.points] == D[:3]
    assert t.points[0].category == "baseline"
    assert t.points[2].day == 112.0


def test_table_rows():
    rows = recist_table(assess([liver("a", 100, 70)], D[:2]))
    assert rows[1][:3] == (D[1], 56.0, 70.0)
    assert rows[1][5] == "PR"
