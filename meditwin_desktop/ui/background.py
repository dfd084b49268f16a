"""Background work for the GUI: functions run on a thread pool, results come back as signals.

Each submitted function receives `progress(fraction, message)` and `cancelled()`
keyword arguments (the core's convention). The `Task` object lives in the GUI thread;
signals emitted from the worker are queued to it, so slots always run in the GUI
thread. Modelled on napari's `qthreading` workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any

from PySide6.QtCore import QObject, Signal

from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.priority import lower_thread_priority

log = logging.getLogger(__name__)

_PROGRESS_INTERVAL_S = 0.05
EMIT_PARTIAL = object()  # keyword value replaced by a thread-safe `Task.partial.emit`


class Task(QObject):
    """One piece of background work and its signals."""

    progressed = Signal(float, str)
    partial = Signal(object)  # an early, incomplete result (e.g. a volume still decoding)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    cancelled_ = Signal()
    finished = Signal()

    def __init__(self, name: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.name = name
        kwargs = {k: (self._emit_partial if v is EMIT_PARTIAL else v) for k, v in kwargs.items()}
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._cancel = threading.Event()
        self._detached = False
        self._last_progress = 0.0
        self.future: Future | None = None

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        """Whether cancellation was asked for."""
        return self._cancel.is_set()

    def _emit_partial(self, value: object) -> None:
        if not self._detached:
            self.partial.emit(value)

    def guarded(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """`callback`, skipped once the task is detached (its receivers may be gone)."""

        def call(*args: Any) -> Any:
            return None if self._detached else callback(*args)

        return call

    def detach(self) -> None:
        """Cancel, and emit nothing more: its receivers are going away."""
        self._detached = True
        self._cancel.set()

    def _progress(self, fraction: float, message: str) -> None:
        if self._detached:
            return
        now = time.monotonic()
        if now - self._last_progress >= _PROGRESS_INTERVAL_S or fraction >= 1.0:
            self._last_progress = now
            self.progressed.emit(float(fraction), message)

    def run(self) -> Any:
        """Executed on a worker thread."""
        return self._fn(
            *self._args, progress=self._progress, cancelled=self.is_cancelled, **self._kwargs
        )

    def _done(self, future: Future) -> None:
        """Executed on the worker thread when the work ends: report through signals."""
        if self._detached:
            return
        error = future.exception()
        if error is None:
            self.succeeded.emit(future.result())
        elif isinstance(error, Cancelled):
            log.info("%s cancelled", self.name)
            self.cancelled_.emit()
        elif isinstance(error, InputError):  # the user's file or value: shown, not a bug
            log.info("%s refused: %s", self.name, type(error).__name__)
            self.failed.emit(error)
        else:
            log.error("%s failed", self.name, exc_info=error)
            self.failed.emit(error)
        self.finished.emit()


class TaskRunner(QObject):
    """Runs `Task`s on a small thread pool and keeps them alive until they finish."""

    started = Signal(object)  # Task

    def __init__(self, workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="meditwin-io", initializer=lower_thread_priority
        )
        self._tasks: set[Task] = set()
        self._closed = False

    def task(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """A task for `fn(*args, progress=..., cancelled=..., **kwargs)`, not yet started.

        Connect its signals, then `start` it: work that ends at once cannot be missed.
        """
        return Task(name, fn, args, kwargs)

    def start(self, task: Task) -> Task:
        """Run a task on the pool (after `shutdown`, the task is dropped: the window is
        closing and nothing would receive its result)."""
        if self._closed:
            task.detach()
            return task
        self._tasks.add(task)
        task.finished.connect(lambda: self._tasks.discard(task))
        task.future = self._pool.submit(task.run)
        task.future.add_done_callback(task._done)
        self.started.emit(task)
        return task

    def submit(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Create and start a task (for callers that only poll it)."""
        return self.start(self.task(name, fn, *args, **kwargs))

    def active(self) -> list[Task]:
        """Tasks not yet finished."""
        return [t for t in self._tasks if t.future is not None and not t.future.done()]

    def shutdown(self, wait_s: float = 3.0) -> None:
        """Cancel everything, silence the tasks, and give running ones up to `wait_s` to
        end: a worker thread still in a task while the window's objects are destroyed has
        aborted Qt. Then stop the pool without waiting further."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
            task.detach()
        running = [t.future for t in self._tasks if t.future is not None and not t.future.done()]
        if running and wait_s > 0:
            futures_wait(running, timeout=wait_s)
        self._pool.shutdown(wait=False, cancel_futures=True)
