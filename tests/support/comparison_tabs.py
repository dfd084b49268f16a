"""Click a comparison tab as a user does (GUI tests of the twins)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def click_tab(comparison, page) -> None:
    """Click the comparison's tab of `page` on its tab bar; it must then be shown."""
    bar = comparison.tabs.tabBar()
    index = comparison.tabs.indexOf(page)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert comparison.tabs.currentWidget() is page
