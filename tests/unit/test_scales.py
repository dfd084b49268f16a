"""Clinical scores outside their scale are typing errors (core.scales), said where they are
typed; other measures and units are left to the units table."""

from __future__ import annotations

from meditwin_desktop.core.scales import score_problem, score_range


def test_scores_have_their_published_ranges():
    assert score_range("MMSE") == (0.0, 30.0)
    assert score_range("cdr_sb") == (0.0, 18.0)  # as people write it
    assert score_range("E-Cog Study-partner") == (1.0, 4.0)
    assert score_range("LDL cholesterol") is None


def test_only_scores_in_points_out_of_their_scale_are_problems():
    assert score_problem("MMSE", 35, "points") == "MMSE 35 is outside its scale (0-30)."
    assert score_problem("MMSE", 30, "points") == ""
    assert score_problem("MMSE", 0.4, "0-1") == ""  # a model's space: the twin checks it
    assert score_problem("LDL cholesterol", 35, "mmol/L") == ""
