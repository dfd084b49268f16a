"""The main window's presentation layout: full screen, white on black, fonts that scale
with the screen (20 px at 1080 lines, 40 px on a 4K screen without scaling), the editing
panels, the tools, the menu and the status bar hidden; a header above the views (who, case
k of n, the question, flags) and the board's decision panel on the right; the keys that
move between cases. Leaving gives the window back as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.ui.decision_form import DecisionPanel

NEXT_KEYS = (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Space)
PREVIOUS_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_PageUp)
_BASE_PX = 20  # the font's pixel size on a 1080-line screen (logical pixels)


def font_pixels(screen_height: int) -> int:
    """The presentation's font size for a screen this many logical pixels high: 20 px at
    1080 lines, 40 at 2160 (a 4K screen without scaling), never under 16."""
    return max(16, round(_BASE_PX * screen_height / 1080))


def high_contrast(palette: QPalette) -> QPalette:
    """White on black, yellow selection: readable from the back of a room."""
    palette = QPalette(palette)
    black, white, panel = QColor(0, 0, 0), QColor(255, 255, 255), QColor(24, 24, 24)
    grey = QColor(170, 170, 170)
    for role, colour in (
        (QPalette.ColorRole.PlaceholderText, grey),
        (QPalette.ColorRole.Light, grey),  # frames of fields and buttons, visible on black
        (QPalette.ColorRole.Midlight, grey),
        (QPalette.ColorRole.Mid, QColor(130, 130, 130)),
        (QPalette.ColorRole.Dark, QColor(110, 110, 110)),
        (QPalette.ColorRole.Window, black),
        (QPalette.ColorRole.WindowText, white),
        (QPalette.ColorRole.Base, panel),
        (QPalette.ColorRole.AlternateBase, QColor(36, 36, 36)),
        (QPalette.ColorRole.Text, white),
        (QPalette.ColorRole.Button, panel),
        (QPalette.ColorRole.ButtonText, white),
        (QPalette.ColorRole.Highlight, QColor(255, 208, 0)),
        (QPalette.ColorRole.HighlightedText, black),
    ):
        palette.setColor(role, colour)
    return palette


class PresentationHeader(QFrame):
    """Above the views: case k of n, who, flags, the meeting; previous/next/leave; the
    question."""

    def __init__(self, px: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("presentation_header")
        self.setStyleSheet(  # a style sheet stops the window's font: sizes are given here
            "QFrame#presentation_header { background: #000; border-bottom: 2px solid #ffd000; }"
            f"QLabel, QPushButton {{ font-size: {px}px; }}"
            f"QLabel#presentation_question {{ font-size: {round(px * 1.35)}px; color: #fff; }}"
            f"QLabel#presentation_who {{ font-size: {round(px * 1.2)}px; font-weight: bold; }}"
            "QLabel#presentation_flags { color: #ffb020; }"
            "QPushButton { border: 2px solid #ddd; padding: 4px 14px; }"
        )
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 8, 14, 8)
        column.setSpacing(4)
        row = QHBoxLayout()
        self.position = self._label("presentation_position")
        self.who = self._label("presentation_who")
        self.flags = self._label("presentation_flags")
        self.meeting = self._label("presentation_meeting")
        row.addWidget(self.position)
        row.addSpacing(px)
        row.addWidget(self.who, stretch=3)
        row.addSpacing(px)
        row.addWidget(self.flags, stretch=2)
        self.previous = self._button(tr("◀ Previous case"), "presentation_previous", row)
        self.next = self._button(tr("Next case ▶"), "presentation_next", row)
        self.leave = self._button(tr("Leave (Esc)"), "presentation_leave", row)
        column.addLayout(row)
        below = QHBoxLayout()
        self.question = self._label("presentation_question")
        below.addWidget(self.question, stretch=3)
        below.addWidget(self.meeting, stretch=1, alignment=Qt.AlignmentFlag.AlignRight)
        self.meeting.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        column.addLayout(below)

    @staticmethod
    def _label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)  # a long name wraps rather than widening past the screen
        return label

    @staticmethod
    def _button(text: str, name: str, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the presentation
        row.addWidget(button)
        return button


@dataclass
class _Before:
    """The window as it was before presenting (given back on leaving)."""

    state: object
    geometry: object
    maximized: bool
    full_screen: bool
    bars: tuple[bool, bool, bool]  # menu, status bar, patient banner
    font: QFont | None  # None: the window had no font of its own
    palette: QPalette | None


class PresentationLayout(QObject):
    """Puts the main window in presentation layout (`enter`) and back (`exit`); `keys`
    maps "next", "previous", "decision" and "leave" to what they do."""

    closing = Signal()  # the window is being closed while presenting

    def __init__(self, window, keys: dict[str, Callable[[], None]]) -> None:
        super().__init__(window)
        self.window = window
        self._slots = keys
        self.header: PresentationHeader | None = None
        self.panel: DecisionPanel | None = None
        self.dock: QDockWidget | None = None
        self._before: _Before | None = None
        self._moves: list[QShortcut] = []  # next and previous
        self._others: list[QShortcut] = []  # decision and leave

    def enter(self) -> None:
        """Full screen, high contrast, large fonts; header, decision panel, keys."""
        window = self.window
        screen = window.screen()
        px = font_pixels(screen.geometry().height() if screen is not None else 1080)
        own = window.testAttribute
        self._before = _Before(
            window.saveState(), window.saveGeometry(), window.isMaximized(),
            window.isFullScreen(),
            (window.menuBar().isVisible(), window.statusBar().isVisible(),
             window.banner.isVisible()),
            QFont(window.font()) if own(Qt.WidgetAttribute.WA_SetFont) else None,
            QPalette(window.palette()) if own(Qt.WidgetAttribute.WA_SetPalette) else None,
        )  # fmt: skip
        for dock in window._docks():
            if dock is not window.comparison_dock:  # the scenarios compared stay
                dock.hide()
        window.findChild(QWidget, "tools_toolbar").hide()  # rulers, ROIs: editing tools
        for bar in (window.menuBar(), window.statusBar(), window.banner):
            bar.hide()  # the header says who is on screen
        font = QFont(window.font())
        font.setPixelSize(px)
        window.setFont(font)
        window.setPalette(high_contrast(window.palette()))
        self.header = PresentationHeader(px, window)
        self.header.previous.clicked.connect(self._slots["previous"])
        self.header.next.clicked.connect(self._slots["next"])
        self.header.leave.clicked.connect(self._slots["leave"])
        window.centralWidget().layout().insertWidget(0, self.header)
        self._build_dock(px)
        self._bind_keys()
        window.installEventFilter(self)
        QApplication.instance().focusChanged.connect(self._focus_changed)
        if screen is not None:  # without a window manager, full screen alone keeps the size
            window.setGeometry(screen.geometry())
        window.showFullScreen()

    def _build_dock(self, px: int) -> None:
        self.panel = DecisionPanel(self.window)  # its fields sized in the window's font
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.panel)
        self.dock = QDockWidget(tr("Board decision (D)"), self.window)
        self.dock.setObjectName("decision_dock")
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.dock.setWidget(scroll)
        self.dock.setMinimumWidth(px * 19)  # about 40 characters
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.show()

    def _bind_keys(self) -> None:
        for keys, name, kept in (
            (NEXT_KEYS, "next", self._moves),
            (PREVIOUS_KEYS, "previous", self._moves),
            ((Qt.Key.Key_D,), "decision", self._others),
            ((Qt.Key.Key_Escape,), "leave", self._others),
        ):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self.window)
                shortcut.setObjectName(f"presentation_{name}_key")
                shortcut.activated.connect(self._slots[name])
                kept.append(shortcut)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        """The window closing while presenting: say so (the meeting is saved first)."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.closing.emit()
        return False

    def _focus_changed(self, _old, new) -> None:
        """Arrows and Space move between cases, except while the decision is typed (Space
        ticks who was present, arrows move in the text)."""
        typing = new is not None and self.dock is not None and self.dock.isAncestorOf(new)
        for shortcut in self._moves:
            shortcut.setEnabled(not typing)

    def exit(self, closing: bool = False) -> None:
        """The window as it was (`closing`: not its size and place, it is going)."""
        window, before = self.window, self._before
        window.removeEventFilter(self)
        QApplication.instance().focusChanged.disconnect(self._focus_changed)
        for shortcut in self._moves + self._others:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._moves, self._others = [], []
        if self.dock is not None:
            window.removeDockWidget(self.dock)
            self.dock.deleteLater()
        if self.header is not None:
            self.header.hide()
            self.header.deleteLater()
        self.dock = self.header = self.panel = None
        if before is None:
            return
        window.setFont(before.font if before.font is not None else QFont())
        window.setPalette(before.palette if before.palette is not None else QPalette())
        for bar, visible in zip((window.menuBar(), window.statusBar(), window.banner),
                                before.bars, strict=True):  # fmt: skip
            bar.setVisible(visible)
        if not (before.full_screen or closing):
            window.showMaximized() if before.maximized else window.showNormal()
            window.restoreGeometry(before.geometry)
        window.restoreState(before.state)
        self._before = None
