"""The board report's page furniture: A4 pages with a header, wrapped text lines, section
headings and the colours for outcomes against their targets. Matplotlib (Agg), no Qt."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from meditwin_desktop.core.i18n import tr

A4 = (8.27, 11.69)  # inches
DPI = 300  # images are rendered for print at this resolution
LEFT = 0.06  # page margin, figure fraction
WARN = "#b02a1f"
MEETS = "#d7eedd"  # cell background: the outcome meets its clinical target
BORDERLINE = "#fbeccb"  # misses it by no more than its clinical resolution
MISSED = "#f6d5d1"  # misses it by more
STALE_FILL = "#ececec"  # a column computed from other data than the case holds
STALE_SIGN = "⚠"
STAMP = ["MEDITWIN"]  # the page header's second line (set per report)
_LINE = 0.0017  # figure fraction per point of font size (line spacing 1.4 at A4 height)


def page(title: str, stale: bool = False) -> tuple[Figure, float]:
    """A new A4 page with its title, the stamp and, when results are out of date, the sign;
    returns the figure and the height (figure fraction) where content starts."""
    figure = Figure(figsize=A4)
    size = max(9.0, min(15.0, 15.0 * 58 / max(len(title), 1)))  # a long title still fits
    figure.text(LEFT, 0.965, title, fontsize=size, weight="bold")
    figure.text(LEFT, 0.945, STAMP[0], fontsize=8, color="#555555")
    if stale:
        banner = STALE_SIGN + " " + tr("RESULTS OUT OF DATE")
        figure.text(1 - LEFT, 0.945, banner, fontsize=10,
                    weight="bold", color=WARN, ha="right")  # fmt: skip
    return figure, 0.92


def line_height(size: float) -> float:
    """Height of one text line of `size` points, figure fraction."""
    return size * _LINE


def wrapped(lines: list[str], width: int) -> list[str]:
    """Lines wrapped at `width` characters; continuation lines keep the first's indent."""
    out = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()))
        out += textwrap.wrap(line, width, subsequent_indent=indent + "  ") or [""]
    return out


def lines(
    figure: Figure,
    y: float,
    texts: list[str],
    size: float = 9.5,
    width: int = 100,
    x: float = LEFT,
    **style,
) -> float:
    """Write `texts` from height `y` down (wrapped); returns the height below them."""
    for part in wrapped(texts, width):
        figure.text(x, y, part, fontsize=size, va="top", **style)
        y -= line_height(size)
    return y


def heading(figure: Figure, y: float, text: str, size: float = 11) -> float:
    """A section heading; returns the height below it."""
    figure.text(LEFT, y, text, fontsize=size, weight="bold", va="top")
    return y - line_height(size) - 0.004


def lines_height(texts: list[str], size: float = 9.5, width: int = 100) -> float:
    """The height `lines` would take."""
    return len(wrapped(texts, width)) * line_height(size)


@dataclass
class Cell:
    """A table cell: its text, background and text style."""

    text: str
    fill: str | None = None
    weight: str = "normal"
    style: str = "normal"
    colour: str = "black"
    align: str = "left"


def _cell(value) -> Cell:
    return value if isinstance(value, Cell) else Cell(str(value))


def _wrap_cell(text: str, width_in: float, size: float) -> list[str]:
    chars = max(int(width_in * 72 / (size * 0.56)), 4)  # DejaVu Sans averages ~0.55 em
    out = []
    for paragraph in text.split("\n"):
        out += textwrap.wrap(paragraph, chars, break_long_words=True) or [""]
    return out


def table(
    figure: Figure,
    y: float,
    widths: list[float],
    header: list,
    rows: list[list],
    size: float = 8,
    x: float = LEFT,
) -> float:
    """Draw a table from height `y` down, columns `widths` (figure fractions), every cell
    wrapped to its column and every row as high as its tallest cell (nothing overlaps);
    returns the height below it."""
    pad = 0.004
    for n, row in enumerate([header, *rows]):
        cells = [_cell(c) for c in row]
        if n == 0:
            cells = [Cell(c.text, c.fill or "#e6e6e6", "bold", c.style, c.colour, c.align)
                     for c in cells]  # fmt: skip
        texts = [
            _wrap_cell(c.text, (w - 2 * pad) * A4[0], size)
            for c, w in zip(cells, widths, strict=True)
        ]
        height = max(len(t) for t in texts) * line_height(size) + 2 * pad
        left = x
        for cell, text, w in zip(cells, texts, widths, strict=True):
            figure.patches.append(
                Rectangle((left, y - height), w, height, transform=figure.transFigure,
                          facecolor=cell.fill or "white", edgecolor="#9a9a9a", linewidth=0.5)
            )  # fmt: skip
            tx = {"left": left + pad, "center": left + w / 2, "right": left + w - pad}[cell.align]
            figure.text(tx, y - pad, "\n".join(text), fontsize=size, va="top", ha=cell.align,
                        weight=cell.weight, style=cell.style, color=cell.colour,
                        linespacing=1.25)  # fmt: skip
            left += w
        y -= height
    return y
