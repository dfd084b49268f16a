"""The DICOM browser: thumbnails, progressive loading, multi-volume series, NIfTI import."""

import numpy as np
import pytest
from PySide6.QtWidgets import QTreeWidgetItemIterator

from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.nifti import write_volume
from meditwin_desktop.core.imaging.volume import Volume

pytestmark = pytest.mark.gui


def test_selected_series_gets_a_thumbnail_of_its_middle_image(main_window, qtbot):
    thumbnail = main_window.patients.thumbnail
    qtbot.waitUntil(
        lambda: thumbnail.pixmap() is not None and not thumbnail.pixmap().isNull(), timeout=20_000
    )
    image = thumbnail.pixmap().toImage()
    assert image.width() > 100
    assert "240 images" in main_window.patients.details.text()


def test_first_slice_is_on_screen_before_the_series_is_decoded(main_window):
    timings = main_window.timings
    assert timings["first_slice"] < timings["loaded"]


def _items(tree):
    iterator = QTreeWidgetItemIterator(tree)
    while iterator.value():
        yield iterator.value()
        iterator += 1


def test_series_with_time_points_lists_each_volume(qtbot, shared_data):
    from meditwin_desktop.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_folder(shared_data / "dicom/mr4d_ge_epi")
    qtbot.waitUntil(lambda: "volumes in this series" in window.message.text(), timeout=30_000)
    labels = [item.text(0) for item in _items(window.patients.tree)]
    assert [f"volume {n} of 10" in labels for n in range(1, 11)] == [True] * 10
    [second] = [item for item in _items(window.patients.tree) if item.text(0) == "volume 2 of 10"]
    window.patients.tree.itemActivated.emit(second, 0)
    assert window.scene.volume.meta["label"] == "volume 2 of 10"
    assert window.scene.volume.shape == (15, 64, 64)


def test_nifti_image_opens(qtbot, tmp_path):
    from meditwin_desktop.ui.main_window import MainWindow

    volume = Volume(
        (np.arange(8 * 9 * 10) % 97).reshape(8, 9, 10).astype(np.int16),
        affine_from([0, 0, 0], np.eye(3), [1, 1, 2]),
    )
    write_volume(volume, tmp_path / "research.nii.gz")
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_nifti(tmp_path / "research.nii.gz")
    qtbot.waitUntil(lambda: window.scene.volume is not None, timeout=10_000)
    assert np.array_equal(window.scene.volume.array, volume.array)
    assert "research.nii.gz" in window.message.text()
