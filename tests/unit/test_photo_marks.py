"""Artery/vein marks kept in the clinical form: read, written, added and removed per
photograph (core/photo_marks.py)."""

from __future__ import annotations

import pytest

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.photo_marks import (
    add_av_mark,
    format_av_marks,
    marks_on,
    parse_av_marks,
    remove_av_mark,
)


def test_marks_round_trip_with_and_without_a_date():
    text = "2026-02-10 412,380: vein; 220, 610: a"
    marks = parse_av_marks(text)
    assert marks == ((412.0, 380.0, "vein", "2026-02-10"), (220.0, 610.0, "artery", ""))
    assert parse_av_marks(format_av_marks(marks)) == marks
    assert parse_av_marks("") == () and parse_av_marks(None) == ()


def test_a_mark_applies_to_its_photograph_and_an_undated_one_to_all():
    marks = parse_av_marks("2026-02-10 1,2: vein; 2024-03-12 3,4: artery; 5,6: vein")
    assert [m[:2] for m in marks_on(marks, "2026-02-10")] == [(1, 2), (5, 6)]
    assert [m[:2] for m in marks_on(marks, "2024-03-12")] == [(3, 4), (5, 6)]


def test_adding_replaces_a_nearby_mark_of_the_same_photograph_only():
    text = add_av_mark("", 100, 100, "vein", "2026-02-10")
    text = add_av_mark(text, 100, 100, "vein", "2024-03-12")  # same pixel, other visit
    text = add_av_mark(text, 103, 98, "artery", "2026-02-10")  # corrects the first
    assert parse_av_marks(text) == ((100.0, 100.0, "vein", "2024-03-12"),
                                    (103.0, 98.0, "artery", "2026-02-10"))  # fmt: skip
    assert parse_av_marks(remove_av_mark(text, 101, 99, "2024-03-12")) == (
        (103.0, 98.0, "artery", "2026-02-10"),)  # fmt: skip


def test_a_mark_that_cannot_be_read_is_named():
    with pytest.raises(InputError, match="'12: vein' is not"):
        parse_av_marks("1,2: vein; 12: vein")
    with pytest.raises(InputError, match="artery or vein, not 'nerve'"):
        add_av_mark("", 1, 2, "nerve")
