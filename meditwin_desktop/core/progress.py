"""Progress and cancellation callbacks shared by long-running core work.

Every long function takes `progress(fraction, message)` and `cancelled() -> bool`
keyword arguments; the same convention crosses threads (UI) and processes (twins).
"""

from collections.abc import Callable

from meditwin_desktop.core.errors import Cancelled

ProgressFn = Callable[[float, str], None]
CancelledFn = Callable[[], bool]


def no_progress(fraction: float, message: str) -> None:
    """Progress sink that ignores reports."""


def never_cancelled() -> bool:
    """Cancellation source that never cancels."""
    return False


def check_cancelled(cancelled: CancelledFn) -> None:
    """Raise `Cancelled` if the user asked to stop."""
    if cancelled():
        raise Cancelled()


def sub_progress(progress: ProgressFn, start: float, stop: float) -> ProgressFn:
    """Map a sub-task's 0..1 progress onto [start, stop] of the parent's."""

    def report(fraction: float, message: str) -> None:
        progress(start + (stop - start) * min(max(fraction, 0.0), 1.0), message)

    return report
