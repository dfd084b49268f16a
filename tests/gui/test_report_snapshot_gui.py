"""The board report's 3D snapshot: the 3D view as on screen when it shows structures, and no
snapshot at all when it shows none (after File > Open case the surfaces may not be made
yet: the report printed a bare orientation cube)."""

from __future__ import annotations

import numpy as np


def test_the_report_prints_the_3d_view_only_when_it_shows_structures(show_window, qtbot):
    window = show_window(1400, 900)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.labels is not None,
                    timeout=60_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.view3d.structures > 0, timeout=120_000)
    qtbot.wait(200)
    shot = window.report_snapshot()
    assert shot is not None and shot.ndim == 3
    liver = np.array(window.cases.case.labels.by_name("liver").color)
    pixels = shot[..., :3].reshape(-1, 3).astype(int)
    near = np.abs(pixels - liver).sum(axis=1) < 120  # shaded liver, not only the background
    assert near.mean() > 0.01, "the snapshot shows no liver surface"
    window.view3d.show_surfaces({}, {})  # as just after opening a case: nothing made yet
    assert window.view3d.structures == 0
    assert window.report_snapshot() is None
    window.close()
