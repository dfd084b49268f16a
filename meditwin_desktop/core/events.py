"""A minimal observer: Qt-free models announce changes, views subscribe (napari's
EventEmitter and psygnal are the models; this needs only connect, disconnect, emit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """Callbacks called in order, in the emitting thread, with the emitted arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        """Call `callback(*args)` on every emit."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling `callback` (no error if it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every callback; one that raises does not stop the others, and the first
        error is raised again once all have run (a listener's bug is never silent)."""
        first: Exception | None = None
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception as error:
                first = first or error
        if first is not None:
            raise first
