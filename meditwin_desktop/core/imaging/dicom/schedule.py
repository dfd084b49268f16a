"""Send compressed frames to the worker processes: started on demand, helped, healed.

Frames go in chunks, a few at a time (so the pool holds no long queue that could not be
taken back). Until the first chunk comes back (the pool takes ~0.6 s to start), a thread
of the loading process decodes chunks from the same queue, so the load never waits idle.

A decoder that crashes its process breaks the whole pool (`BrokenProcessPool`): every
chunk in flight fails, whichever frame was guilty. Their frames become suspects and go
to a fresh pool one at a time, alone; a frame that crashes a process `MAX_CRASHES` times
is reported failed with that reason (never silently blank). After `MAX_RESTARTS` fresh
pools the remaining, never-suspected frames are decoded in this process.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.imaging.dicom import workers
from meditwin_desktop.core.imaging.dicom.frames import Frame

MAX_CRASHES = 2  # crashes a frame may cause before it is declared undecodable
MAX_RESTARTS = 4  # fresh pools per load before giving up on worker processes
_POLL_S = 0.1
_SETTLE_S = 30.0  # a future still running this long after its pool broke counts as crashed
_CRASHED = N_(
    "the image decoder crashed its process on this image {n} times; the slice is left "
    "blank (damaged or unsupported compressed data?)"
)

Finish = Callable[[int, "np.ndarray | None", "str | None"], None]
ChunkDecoder = Callable[[Sequence[Frame]], list[tuple["np.ndarray | None", "str | None"]]]


class RemoteDecoder:
    """Decodes `frames[k]` for k in `remote` (in that order) in the worker pool.

    `finish(k, stored, error)` receives each result; `decode_chunk` runs in the workers.
    Call `run()` from the loading thread and `help(work)` from another thread.
    """

    def __init__(
        self,
        frames: Sequence[Frame],
        remote: Sequence[int],
        finish: Finish,
        cancelled: Callable[[], bool],
        decode_chunk: ChunkDecoder,
    ) -> None:
        self.frames = frames
        self.finish = finish
        self.cancelled = cancelled
        self.decode_chunk = decode_chunk
        size = max(1, min(8, len(remote) // (8 * max(1, workers.worker_count()))))
        self.queue: deque[list[int]] = deque(
            list(remote[n : n + size]) for n in range(0, len(remote), size)
        )
        self.suspects: deque[int] = deque()
        self.crashes: Counter[int] = Counter()
        self.in_flight: dict[Future, list[int]] = {}
        self.answered = threading.Event()  # the workers are up: this process stops helping
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.restarts = 0

    def _take(self) -> list[int] | None:
        with self.lock:
            return self.queue.popleft() if self.queue else None

    def help(self, work: Callable[[int], None]) -> None:
        """Decode queued chunks here until the workers answer (or nothing is left)."""
        while not (self.answered.is_set() or self.done.is_set() or self.cancelled()):
            chunk = self._take()
            if chunk is None:
                return
            for k in chunk:
                work(k)

    def run(self) -> None:
        """Dispatch, collect and heal until every frame is finished (or cancelled)."""
        try:
            executor = workers.pool()
            while executor is not None and (self.queue or self.suspects or self.in_flight):
                if self.cancelled():
                    break
                refused = self._submit(executor)
                if refused is not None:  # the pool broke (or was shut down) since the last wait
                    executor = self._heal(executor)
                    continue
                done, _ = wait(self.in_flight, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                # (a future cancelled by a shutdown never shows in `done`: `wait` counts it
                # only once an executor has acknowledged the cancellation)
                if any(map(_crashed, done)) or any(f.cancelled() for f in self.in_flight):
                    executor = self._heal(executor)
                    continue
                for future in done:
                    self.answered.set()
                    self._collect(self.in_flight.pop(future), future)
            self._leftovers(executor)
        finally:
            self.done.set()
            for future in self.in_flight:
                future.cancel()

    def _submit(self, executor) -> Exception | None:
        """Keep each worker busy; suspects go alone, one at a time.

        Returns the error when the pool refuses work: its `_broken` flag is set the moment
        the manager thread sees a worker die, before it fails the pending futures, so a
        crash between the last `wait` and here shows up as `submit` raising
        `BrokenProcessPool` (or `RuntimeError` once another load shut the pool down).
        The frames that were about to go keep their place.
        """
        if self.suspects:
            if not self.in_flight:
                k = self.suspects.popleft()
                try:
                    self.in_flight[executor.submit(self.decode_chunk, [self.frames[k]])] = [k]
                except (BrokenProcessPool, RuntimeError) as refused:
                    self.suspects.appendleft(k)
                    return refused
            return None
        while len(self.in_flight) <= workers.worker_count():
            chunk = self._take()
            if chunk is None:
                return None
            try:
                future = executor.submit(self.decode_chunk, [self.frames[k] for k in chunk])
            except (BrokenProcessPool, RuntimeError) as refused:
                with self.lock:
                    self.queue.appendleft(chunk)
                return refused
            self.in_flight[future] = chunk
        return None

    def _heal(self, executor):
        """The pool broke: results that made it are kept, the rest become suspects.

        Futures cancelled by a shutdown (another load replaced the shared pool) were not
        crashes: their frames are queued again. Each heal counts as a restart, so a pool
        that keeps refusing work ends in decoding here, never in a loop.
        """
        self._settle()
        for future, chunk in list(self.in_flight.items()):
            if future.cancelled():  # taken back by a shutdown: not this frame's fault
                with self.lock:
                    self.queue.appendleft(chunk)
                continue
            if future.done() and not _crashed(future):
                self._collect(chunk, future)
                continue
            for k in chunk:
                self.crashes[k] += 1
                if self.crashes[k] >= MAX_CRASHES:
                    name = self.frames[k].path.name
                    self.finish(k, None, f"{name}: {tr(_CRASHED).format(n=self.crashes[k])}")
                else:
                    self.suspects.append(k)
        self.in_flight.clear()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            workers.discard(executor)
            return None
        return workers.replace(executor)

    def _settle(self) -> None:
        """Wait until every future in flight is done, failed or cancelled (30 s at most).

        A broken pool fails its pending futures all at once, shortly after it broke.
        """
        deadline = time.monotonic() + _SETTLE_S
        while pending := [f for f in self.in_flight if not f.done()]:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            wait(pending, timeout=min(left, _POLL_S), return_when=FIRST_COMPLETED)

    def _collect(self, chunk: list[int], future: Future) -> None:
        try:
            results = future.result()
        except Exception as error:  # e.g. a result too large to send back
            text = tr("the decoder process failed ({kind}: {error})").format(
                kind=type(error).__name__, error=error
            )
            results = [(None, f"{self.frames[k].path.name}: {text}") for k in chunk]
        for k, (stored, error_text) in zip(chunk, results, strict=True):
            self.finish(k, stored, error_text)

    def _leftovers(self, executor) -> None:
        """Without workers (gave up, or disabled): suspects fail, the rest decode here."""
        if executor is not None or self.cancelled():
            return
        for k in self.suspects:
            reason = tr(
                "not decoded: the image decoder processes kept crashing during this load"
            )
            self.finish(k, None, f"{self.frames[k].path.name}: {reason}")
        self.suspects.clear()
        self.done.set()  # the helper thread stops; this thread does the rest
        while (chunk := self._take()) is not None:
            for k in chunk:
                if self.cancelled():
                    return
                self.finish(k, *_decode_here(self.decode_chunk, self.frames[k]))


def _decode_here(decode_chunk: ChunkDecoder, frame: Frame) -> tuple[np.ndarray | None, str | None]:
    [result] = decode_chunk([frame])
    return result


def _crashed(future: Future) -> bool:
    """Whether the future failed because its worker process died."""
    return (
        future.done()
        and not future.cancelled()
        and isinstance(future.exception(), BrokenProcessPool)
    )
