"""A dark theme for reading rooms (Fusion style with a dark palette)."""

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = QColor(30, 31, 34)
PANEL = QColor(43, 45, 48)
TEXT = QColor(220, 222, 225)
ACCENT = QColor(62, 130, 200)
VIEW_COLORS = {  # the colour of each view's title bar, as in 3D Slicer
    "axial": QColor(200, 70, 70),
    "sagittal": QColor(215, 190, 60),
    "coronal": QColor(90, 170, 80),
    "3d": QColor(110, 120, 200),
}


def apply_dark_theme(app: QApplication) -> None:
    """Use the Fusion style with a dark palette for the whole application."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, PANEL)
    palette.setColor(QPalette.ColorRole.WindowText, TEXT)
    palette.setColor(QPalette.ColorRole.Base, BACKGROUND)
    palette.setColor(QPalette.ColorRole.AlternateBase, PANEL)
    palette.setColor(QPalette.ColorRole.ToolTipBase, PANEL)
    palette.setColor(QPalette.ColorRole.ToolTipText, TEXT)
    palette.setColor(QPalette.ColorRole.Text, TEXT)
    palette.setColor(QPalette.ColorRole.Button, PANEL)
    palette.setColor(QPalette.ColorRole.ButtonText, TEXT)
    palette.setColor(QPalette.ColorRole.BrightText, QColor(255, 80, 80))
    palette.setColor(QPalette.ColorRole.Highlight, ACCENT)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    palette.setColor(QPalette.ColorRole.Link, ACCENT.lighter(130))
    disabled = QColor(120, 122, 126)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(palette)
