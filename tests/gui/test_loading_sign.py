"""A series still loading: its unread slices hold zeros, so no number is shown for them and
every slice view says the series is loading."""

import numpy as np

from meditwin_desktop.core.imaging.volume import Volume


def test_unread_slices_have_no_value_and_the_views_say_loading(show_window, qtbot):
    window = show_window()
    decoded = np.array([1, 0, 1], bool)
    volume = Volume(
        np.full((3, 32, 32), 40, np.int16), np.eye(4), {"modality": "CT", "decoded": decoded}
    )
    window.scene.set_volume(volume)
    scene = window.scene
    assert scene.value_at(volume.index_to_lps(np.array([5, 5, 0]))) == 40
    assert scene.value_at(volume.index_to_lps(np.array([5, 5, 1]))) is None
    window._show_hover(volume.index_to_lps(np.array([5, 5, 1])))
    assert "still loading" in window.cursor_info.text() and "HU" not in window.cursor_info.text()
    assert scene.slices_unread() == 1
    before = window.axial.grab().toImage()
    volume.meta.pop("decoded")  # the load ends
    scene.data_changed.emit()
    qtbot.wait(50)
    assert scene.value_at(volume.index_to_lps(np.array([5, 5, 1]))) == 40
    assert not scene.slices_unread()
    assert window.axial.grab().toImage() != before  # the loading line is gone
