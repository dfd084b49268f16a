"""The board meeting prefetches the next case's 3D surfaces too: the CT case after a
clinical one opens with its surfaces from the surface cache, none extracted on opening.

The time from moving to the case to its surfaces on screen is printed (run with -s)."""

from __future__ import annotations

import time

import pytest

from meditwin_desktop.core.board import AgendaItem, Attendee, Meetings, new_meeting
from meditwin_desktop.core.imaging import surfaces
from meditwin_desktop.core.imaging.surface_cache import SURFACES

pytestmark = pytest.mark.gui

FH = "demo-fh-patient"


def _saved(window, qtbot, case_id: str) -> None:
    window.cases_save()
    qtbot.waitUntil(lambda: not window.cases.saving(), timeout=10_000)
    assert window.session.library.exists(case_id)


def test_the_prefetched_ct_case_opens_with_its_surfaces_computed_ahead(
    show_window, qtbot, demo_patient, monkeypatch
):
    window = show_window(1400, 900)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    ct = window.cases.case.id
    _saved(window, qtbot, ct)
    window.open_demo_case("fh-patient")
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.id == FH,
                    timeout=10_000)  # fmt: skip
    _saved(window, qtbot, FH)
    window.switch_case(None)
    meeting = new_meeting("2026-12-08", "Oncology", "Dr Martin", [Attendee("Dr Martin", "chair")])
    meeting.items = [AgendaItem(FH, "Which therapy?"), AgendaItem(ct, "Ablate or resect?")]
    Meetings(window.session.library).save(meeting)

    SURFACES.clear()  # the CT's surfaces from its first opening: gone
    calls = []
    real = surfaces.label_surfaces

    def spy(label_map, values=None, **kwargs):
        calls.append(values)
        return real(label_map, values, **kwargs)

    monkeypatch.setattr(surfaces, "label_surfaces", spy)
    presentation = window.presentation
    presentation.start(meeting)
    qtbot.waitUntil(lambda: presentation.shown == 0, timeout=10_000)
    qtbot.waitUntil(lambda: ct in presentation._cache, timeout=60_000)  # document and image
    qtbot.waitUntil(lambda: len(SURFACES) == 1, timeout=60_000)  # then its surfaces
    assert len(calls) == 1

    start = time.perf_counter()
    presentation.next()
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.id == ct
                    and bool(window._surfaces) and window.view3d.mode == "surfaces",
                    timeout=60_000)  # fmt: skip
    seconds = time.perf_counter() - start
    qtbot.waitUntil(lambda: presentation.shown == 1, timeout=10_000)
    assert presentation.open_times[-1][2]  # the case itself came from the prefetch
    assert len(calls) == 1, "the surfaces were extracted again on opening"
    count = int(window.view3d.status.text().split()[0])
    assert count >= 10, window.view3d.status.text()
    print(f"\nprefetched CT case: {count} surfaces on screen {seconds * 1000:.0f} ms after 'next'")
    presentation.leave()
