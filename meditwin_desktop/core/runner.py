"""Run twin simulations in the background: in reusable worker processes, or any Executor.

Default: runs go to a small pool of `spawn` worker processes (one per core), started on
first use (or by `warm_up`) and reused, so a sweep of many quick scenarios pays the
start-up of a process once. A twin that raises or returns NaN fails only its own
scenario, with the reason; one that runs past its time limit, ignores a cancel or kills
its process (os._exit, a segfault) fails only its own scenario too, and its worker is
replaced. A worker that dies before it has begun a run (killed while idle) costs the
run nothing: it is requeued on a fresh worker. An unexpected error in the runner's own
thread fails the runs it held, with the reason, and the thread starts afresh. Progress
and cancellation cross the process boundary through a pipe and an event; a cancelled
run that does not stop within a second is killed.

Admission control: a twin may declare `memory_estimate(params, inputs)` (bytes per run);
runs start only while the sum of the running ones' estimates stays within the runner's
memory budget (default 70% of the memory available when it was created), the others
wait in order; a single run larger than the whole budget is refused with a clear reason.

With `executor=` (e.g. a `concurrent.futures.ThreadPoolExecutor`, or a dask
`distributed.Client`'s executor for cohort sweeps), runs are submitted there instead;
such runs report no intermediate progress and can be cancelled only before they start.

Results are cached by (twin id, twin version, parameters, hash of the inputs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_for
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.i18n import decimal_separator, number, tr
from meditwin_desktop.core.parent_watch import exit_with_parent
from meditwin_desktop.core.priority import lower_priority_of, lower_process_priority
from meditwin_desktop.core.progress import CancelledFn, ProgressFn
from meditwin_desktop.core.twin import Result, Twin, check_result, run_parts
from meditwin_desktop.core.uncertainty import UncertaintyPlan, design, summarise

log = logging.getLogger(__name__)

_GRACE_S = 1.0  # a cancelled run still alive after this long is killed
_POLL_S = 0.05
_MAX_STARTS = 3  # a run whose worker dies before beginning it is retried on a fresh one
MEMORY_SHARE = 0.7  # of the memory available at start, the default budget for runs


def failure_summary(error: BaseException) -> str:
    """Why a run failed, as the user reads it: an input error's own message (it says what
    to change); any other error with its type (a bug in the twin, for the log and the
    twin's authors)."""
    if isinstance(error, InputError):
        return str(error)
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (Linux MemAvailable)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_estimate(twin: Twin, params: Mapping[str, Any], inputs: Mapping[str, Any]) -> float:
    """The twin's estimate of one run's peak memory in bytes (0: none declared, or its
    estimate failed: a twin's bug must not stop the run)."""
    if twin.memory_estimate is None:
        return 0.0
    try:
        estimate = float(twin.memory_estimate(params, inputs))
    except Exception as error:
        log.warning("memory estimate of %s failed: %s", twin.id, error)
        return 0.0
    return estimate if np.isfinite(estimate) and estimate > 0 else 0.0


def format_bytes(count: float) -> str:
    """'1.2 GB', '350 MB'."""
    if count >= 1e9:
        return tr("{size} GB").format(size=number(count / 1e9, 1))
    return tr("{size} MB").format(size=number(count / 1e6, 0))


SHOWN_PREFIX = "shown_"  # inputs["shown_..."]: text for the reader, in the user's language


def input_hash(inputs: Mapping[str, Any]) -> str:
    """A stable hash of a twin's inputs (numbers, text, numpy arrays, nested mappings).

    Top-level keys starting with `shown_` are left out: they carry text prepared for the
    reader in the language in use (a diary's notes), so switching language does not make
    every run out of date."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, np.ndarray):
            digest.update(f"nd{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, Mapping):
            for key in sorted(value):
                digest.update(f"k{key}".encode())
                feed(value[key])
        elif isinstance(value, (list, tuple)):
            digest.update(f"l{len(value)}".encode())
            for item in value:
                feed(item)
        else:
            digest.update(repr(value).encode())

    feed({key: value for key, value in inputs.items() if not str(key).startswith(SHOWN_PREFIX)})
    return digest.hexdigest()


def cache_key(twin: Twin, params: Mapping[str, Any], inputs_digest: str) -> str:
    """Identity of a run: same key, same result (simulations are deterministic)."""
    text = json.dumps([twin.id, twin.version, sorted(params.items()), inputs_digest], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_key(twin: Twin, params: Mapping[str, Any], inputs_digest: str,
            uncertainty: UncertaintyPlan | None = None) -> str:  # fmt: skip
    """The key `Runner.submit` gives a run: a run with uncertainty is keyed by its plan too."""
    if uncertainty is not None:
        params = {**params, "_uncertainty": uncertainty.key()}
    return cache_key(twin, params, inputs_digest)


class ResultCache:
    """The last `size` results, by cache key (thread-safe)."""

    def __init__(self, size: int = 128) -> None:
        self._items: OrderedDict[str, Result] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Result | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: str, result: Result) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass
class RunHandle:
    """The state of one submitted run; callbacks fire from the runner's thread (a split
    run's end from the thread that combines its parts)."""

    scenario: str
    twin: Twin
    params: dict[str, Any]
    key: str
    timeout_s: float | None
    status: str = "queued"  # queued, running, ok, failed, cancelled
    progress: float = 0.0
    message: str = ""
    error: str | None = None
    result: Result | None = None
    seconds: float = 0.0
    cache_hit: bool = False
    on_progress: Callable[[RunHandle], None] | None = None
    on_done: Callable[[RunHandle], None] | None = None
    _done: threading.Event = field(default_factory=threading.Event)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _inputs: Mapping[str, Any] = field(default_factory=dict)
    _cache: ResultCache | None = None
    memory: float = 0.0  # the twin's estimate of this run's peak memory, bytes
    _starts: int = 0
    part: bool = False  # one part of a split run: its result is combined, not checked alone
    digest: str = ""  # input_hash of `_inputs`: an executor ships the same inputs once

    def cancel(self) -> None:
        """Ask the run to stop (it is killed if it does not within a second)."""
        self._cancel.set()

    def done(self) -> bool:
        """True once the run has ended, already while its listener is told."""
        return self._done.is_set() or self.status in ("ok", "failed", "cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends; False on timeout."""
        return self._done.wait(timeout)

    def _finish(self, status: str, result: Result | None = None, error: str | None = None) -> None:
        self.result, self.error = result, error
        self.status = status  # last: `done()` reads it, other threads may look
        if status == "ok":
            self.progress = 1.0
            if self._cache is not None and not self.cache_hit:
                self._cache.put(self.key, result)
        if self.on_done is not None:  # before `done`: a waiter then sees what it recorded
            try:
                self.on_done(self)
            except Exception:  # a listener's bug must not stop the runner
                log.exception("run listener failed")
        self._done.set()

    def _report(self, fraction: float, message: str) -> None:
        self.progress, self.message = fraction, message
        if self.on_progress is not None:
            try:
                self.on_progress(self)
            except Exception:
                log.exception("progress listener failed")


def _serve(connection, cancel_event) -> None:
    """Worker process: run the simulations it is sent, one after another, until EOF."""
    exit_with_parent()
    lower_process_priority()  # a sweep on every core must not starve the window
    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            return
        connection.send(("started",))  # from here a crash is the run's, not the worker's
        try:
            twin, params, inputs, check = ForkingPickler.loads(message)
        except Exception as error:
            connection.send(("error", f"the worker could not read the run ({error})"))
            continue
        _simulate(connection, cancel_event, twin, params, inputs, check)
        del twin, params, inputs  # an idle worker keeps no volume of the last run


def _simulate(
    connection, cancel_event, twin: Twin, params: dict, inputs: Mapping, check: bool = True
) -> None:
    """Run one simulation, sending progress and then exactly one closing message (a part
    of a split run is checked once combined: `check` False)."""
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or fraction >= 1.0:
            last[0] = now
            connection.send(("progress", float(fraction), str(message)))

    try:
        result = run_one(twin, params, inputs, progress, cancel_event.is_set, part=not check)
        connection.send(("ok", result))
    except Cancelled:
        connection.send(("cancelled", None))
    except BaseException as error:  # everything a model can throw ends as a message
        connection.send(("error", failure_summary(error)))


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name in ("SIGSEGV", "SIGBUS", "SIGABRT"):
            return tr(
                "the simulation process was killed by {signal} (a crash in compiled code)"
            ).format(signal=name)
        return tr("the simulation process was killed by {signal}").format(signal=name)
    return tr("the simulation process stopped unexpectedly (exit code {code})").format(code=code)


class _Worker:
    """A spawned process that runs simulations one at a time and is reused between runs.

    A run that ends normally (result, model error, honoured cancel) leaves the worker
    idle for the next one; one that crashes it, overruns its limit or ignores a cancel
    ends with the worker killed (the runner starts a fresh one when needed).
    """

    def __init__(self, context) -> None:
        self.connection, child = context.Pipe(duplex=True)
        self.cancel_event = context.Event()
        self.process = context.Process(
            target=_serve, args=(child, self.cancel_event), daemon=True, name="meditwin-twin"
        )
        self.process.start()
        # niced from its first instruction: the ~1 s of imports a spawned worker begins
        # with would otherwise compete with the window at full priority (Run all's frame)
        lower_priority_of(self.process.pid)
        child.close()  # the worker holds its end
        self.handle: RunHandle | None = None
        self.begun = False  # the worker acknowledged the current run
        self.requeue: RunHandle | None = None  # a run to hand to another worker
        self.started = 0.0
        self.cancel_sent: float | None = None

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def start(self, handle: RunHandle) -> None:
        """Send a run to this (idle) worker."""
        self.cancel_event.clear()
        self.handle, self.started, self.cancel_sent = handle, time.monotonic(), None
        self.begun = False
        handle.status = "running"
        handle._starts += 1
        try:
            self.connection.send((handle.twin, handle.params, handle._inputs, not handle.part))
        except (OSError, ValueError):  # the worker died while idle: requeued
            self._end("crashed", None)
        except Exception as error:  # inputs that cannot be pickled
            self._end("error", f"the inputs could not be sent to the worker ({error})")

    def poll(self) -> bool:
        """Read what arrived for the current run; True when the run is over."""
        handle = self.handle
        if handle is None:
            return False
        try:
            while self.connection.poll():
                message = self.connection.recv()
                if message[0] == "started":
                    self.begun = True
                elif message[0] == "progress":
                    handle._report(message[1], message[2])
                else:
                    return self._end(message[0], message[1])
        except (EOFError, OSError):
            return self._end("crashed", None)
        now = time.monotonic()
        if not self.process.is_alive() and not self.connection.poll():
            return self._end("crashed", None)
        if handle._cancel.is_set():
            if self.cancel_sent is None:
                self.cancel_event.set()
                self.cancel_sent = now
            elif now - self.cancel_sent > _GRACE_S:
                return self._end("killed-cancelled", None)
        if handle.timeout_s is not None and now - self.started > handle.timeout_s:
            return self._end("timeout", None)
        return False

    def _end(self, kind: str, payload: Any) -> bool:
        handle = self.handle
        assert handle is not None
        self.handle = None
        handle.seconds = time.monotonic() - self.started
        if kind in ("crashed", "timeout", "killed-cancelled"):
            self.stop()
        if kind == "crashed" and not self.begun and handle._starts < _MAX_STARTS:
            log.warning("a simulation worker died before starting a run; requeued")
            handle.status, handle.progress = "queued", 0.0
            self.requeue = handle
            return True
        if kind == "ok":
            handle._finish("ok", result=payload)
        elif kind in ("cancelled", "killed-cancelled"):
            handle._finish("cancelled", error=tr("cancelled by the user"))
        elif kind == "timeout":
            limit = f"{handle.timeout_s:g}".replace(".", decimal_separator())
            handle._finish(
                "failed", error=tr("it ran longer than its limit of {limit} s").format(limit=limit)
            )
        elif kind == "crashed":
            handle._finish("failed", error=_exit_reason(self.process.exitcode))
        else:
            handle._finish("failed", error=str(payload))
        return True

    def stop(self) -> None:
        """Kill the process (a run in progress is lost)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class Runner:
    """Runs scenarios of twins in the background, a bounded number at a time."""

    def __init__(
        self,
        max_parallel: int | None = None,
        *,
        executor: Executor | None = None,
        cache: ResultCache | None = None,
        timeout_s: float | None = 600.0,
        memory_budget: float | None = None,
    ) -> None:
        """`memory_budget`: bytes the runs may use together (default: `MEMORY_SHARE` of the
        memory available now; unknown memory: no limit)."""
        self.max_parallel = max_parallel or max(1, os.cpu_count() or 1)
        if memory_budget is None and (available := available_memory()) is not None:
            memory_budget = MEMORY_SHARE * available
        self.memory_budget = memory_budget
        self.executor = executor
        self.cache = cache if cache is not None else ResultCache()
        self.timeout_s = timeout_s
        self._context = multiprocessing.get_context("spawn")
        self._queue: list[RunHandle] = []
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._waiting: list[RunHandle] = []  # runs to tell that they wait for memory
        self._combining: set[threading.Thread] = set()  # split runs being combined

    def submit(
        self,
        twin: Twin,
        scenario: str,
        params: Mapping[str, Any],
        inputs: Mapping[str, Any],
        *,
        on_progress: Callable[[RunHandle], None] | None = None,
        on_done: Callable[[RunHandle], None] | None = None,
        timeout_s: float | None = None,
        digest: str | None = None,
        memory: float | None = None,
        uncertainty: UncertaintyPlan | None = None,
    ) -> RunHandle:
        """Start (or queue) one run; validated parameters are expected (`Twin.parameters_for`).

        `digest`: `input_hash(inputs)`, and `memory`: `memory_estimate(...)`, when the
        caller has them (computed in a background thread: hashing a 3D volume costs
        ~0.2 s, once per set of scenarios is enough). `uncertainty`: run the nominal
        params and the plan's samples of the twin's uncertain inputs, each as a run of its
        own (in parallel), and end with the nominal result qualified by their spread
        (`core.uncertainty`); `timeout_s` is then per sampled run."""
        params = dict(params)
        digest = input_hash(inputs) if digest is None else digest
        if memory is None:
            memory = memory_estimate(twin, params, inputs)
        handle = RunHandle(scenario, twin, params, run_key(twin, params, digest, uncertainty),
                           timeout_s if timeout_s is not None else self.timeout_s,
                           on_progress=on_progress, on_done=on_done, _inputs=inputs,
                           _cache=self.cache, memory=memory or 0.0, digest=digest)  # fmt: skip
        cached = self.cache.get(handle.key)
        if cached is not None:
            handle.cache_hit = True
            handle._finish("ok", result=cached)
            return handle
        refusal = self._admit(handle)
        if refusal:
            handle._finish("failed", error=refusal)
            return handle
        if uncertainty is not None:
            self._queue_uncertain(handle, uncertainty, digest)
            return handle
        if self.executor is not None and not hasattr(self.executor, "submit_run"):
            self._submit_to_executor(handle)  # a plain executor runs a split run whole
            return handle
        try:
            parts = twin.parts(params)
        except Exception as error:  # a twin's bug in `split` fails its run, with the reason
            why = tr("{twin} could not split the run ({error})")
            handle._finish("failed", error=why.format(twin=tr(twin.title), error=error))
            return handle
        if twin.split is not None and twin.combine is not None:  # even one part: combined
            self._queue_children(handle, [(f"{handle.key}#{n}", part) for n, part in
                                          enumerate(parts)])  # fmt: skip
            return handle
        if self.executor is not None:
            self._submit_to_executor(handle)
            return handle
        self._enqueue([handle])
        return handle

    def _queue_uncertain(self, parent: RunHandle, plan: UncertaintyPlan, digest: str) -> None:
        """The nominal run and each sample as a whole run of its own, then their summary."""
        twin = parent.twin
        try:
            sampled = design(twin, parent.params, plan)
        except Exception as error:  # a bad declaration fails this run, with the reason
            parent._finish("failed", error=failure_summary(error))
            return
        runs = [(cache_key(twin, run, digest), run) for run in sampled.runs]

        def summary(results: list[Result | None]) -> Result:
            return summarise(twin, plan, sampled, results)

        self._queue_children(parent, runs, whole=True, combine=summary, tolerant=True)

    def _enqueue(self, handles: list[RunHandle]) -> None:
        with self._lock:
            self._queue.extend(handles)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="meditwin-runner",
                                                daemon=True)  # fmt: skip
                self._thread.start()
        self._wake.set()

    def _queue_children(
        self,
        parent: RunHandle,
        runs: list[tuple[str, dict[str, Any]]],
        *,
        whole: bool = False,
        combine: Callable[[list[Result | None]], Result] | None = None,
        tolerant: bool = False,
    ) -> None:
        """Run each (key, params) of `runs` as its own queued run (in parallel workers, or
        on the executor), then combine their results into `parent` (in a thread of its
        own, which `busy` and `shutdown` see): progress is the children's mean,
        cancelling the parent cancels every child (and a combine under way).

        A split run's parts (`whole` False: each part simulated alone, checked once
        combined by `twin.combine`): the first part to fail fails the whole run. A run with
        uncertainty (`whole`, `tolerant`): each child is a whole run, checked; one that
        fails is None for `combine`, unless it is the first (the nominal run). The
        children's results are dropped once combined (a VT part carries a movie)."""
        twin, inputs, start = parent.twin, parent._inputs, time.monotonic()
        lock = threading.Lock()
        ended = [False]
        if combine is None:
            assert twin.combine is not None

            def combine(results: list[Result | None]) -> Result:
                return twin.combine(parent.params, inputs, results)

        def end(status: str, result: Result | None = None, error: str | None = None) -> None:
            with lock:
                if ended[0]:
                    return
                ended[0] = True
            parent.seconds = time.monotonic() - start
            if status != "ok":
                for child in children:
                    child.cancel()
            for child in children:
                child.result = None
            parent._finish(status, result=result, error=error)

        def combined() -> None:
            try:
                if parent._cancel.is_set():
                    raise Cancelled()
                result = combine([c.result if c.status == "ok" else None for c in children])
                check_result(twin, result)
                if parent._cancel.is_set():
                    raise Cancelled()
            except Cancelled:
                end("cancelled", error=tr("cancelled by the user"))
            except BaseException as error:  # a twin's bug fails its run, with the reason
                end("failed", error=failure_summary(error))
            else:
                end("ok", result=result)
            finally:
                with self._lock:
                    self._combining.discard(thread)

        shown: dict[int, float] = {}  # each child's progress as last counted
        total = [0.0]  # their sum: a sweep of thousands of samples adds, never re-sums
        remaining = [0]  # children not yet ended (set once the cached ones are known)

        def child_progress(child: RunHandle, fraction: float | None = None) -> None:
            """Count a child's progress (`fraction`: 1 for one that ended) in the parent's."""
            fraction = child.progress if fraction is None else fraction
            with lock:
                total[0] += fraction - shown.get(id(child), 0.0)
                shown[id(child)] = fraction
                overall = total[0] / len(children)
            if not ended[0]:
                parent._report(overall, child.message)

        thread = threading.Thread(target=combined, name="meditwin-combine", daemon=True)

        def child_done(child: RunHandle) -> None:
            if tolerant and child.result is not None and child is not children[0]:
                # a sample's outcomes and curves are all a summary reads: its maps (a VT
                # movie, a 3D dose) would otherwise be held for every sample until the end
                child.result = Result(dict(child.result.outcomes), dict(child.result.series))
            if child.status == "failed" and not (tolerant and child is not children[0]):
                number = children.index(child) + 1
                what = tr("part {number} of {count}: {error}") if not tolerant else tr(
                    "the nominal run: {error}")  # fmt: skip
                end("failed", error=what.format(number=number, count=len(children),
                                                error=child.error))  # fmt: skip
            elif child.status == "cancelled":
                end("cancelled", error=child.error)
            else:
                with lock:
                    remaining[0] -= 1
                    last = remaining[0] == 0
                child_progress(child, 1.0)  # a sample that failed is done too
                if last and not ended[0]:
                    start_combining()

        def start_combining() -> None:
            # off the runner's thread: combining maps must not hold up other runs
            with self._lock:
                if thread.ident is not None or ended[0]:
                    return
                self._combining.add(thread)
                thread.start()

        children = [
            RunHandle(parent.scenario, twin, run, key, parent.timeout_s,
                      on_progress=child_progress, on_done=child_done, _inputs=inputs,
                      memory=memory_estimate(twin, run, inputs), part=not whole,
                      digest=parent.digest)
            for key, run in runs
        ]  # fmt: skip
        refusal = next((why for child in children if (why := self._admit(child))), "")
        if refusal:
            parent._finish("failed", error=refusal)
            return

        def cancel() -> None:
            parent._cancel.set()
            for child in children:
                child.cancel()

        parent.cancel = cancel  # type: ignore[method-assign]
        if whole:
            for child in children:  # a sample already run (the nominal run, say)
                cached = self.cache.get(child.key)
                if cached is not None:
                    child.cache_hit = True
                    child.status, child.result, child.progress = "ok", cached, 1.0
        pending = [child for child in children if child.status != "ok"]
        remaining[0] = len(pending)
        for child in children:
            if child.status == "ok":
                child_progress(child, 1.0)
        if not pending:
            start_combining()
        elif self.executor is not None:
            for child in pending:
                self._submit_to_executor(child)
        else:
            self._enqueue(pending)

    def _admit(self, handle: RunHandle) -> str:
        """Why the run can never run here, beside nothing else ('' when it can)."""
        budget = self.memory_budget
        if budget is not None and handle.memory > budget:
            return tr(
                "This run would need about {needed} of memory; simulations may use {budget} "
                "on this computer. Choose coarser settings (e.g. a larger grid spacing or a "
                "smaller region) or close other programs and start the application again."
            ).format(needed=format_bytes(handle.memory), budget=format_bytes(budget))
        return ""

    def _fits(self, handle: RunHandle) -> bool:
        """Whether the run may start now beside the running ones (lock held)."""
        if self.memory_budget is None or handle.memory <= 0:
            return True
        in_use = sum(w.handle.memory for w in self._workers if w.handle is not None)
        if in_use + handle.memory <= self.memory_budget:
            return True
        text = tr("waiting for memory: needs {needed}, {free} free for simulations").format(
            needed=format_bytes(handle.memory), free=format_bytes(self.memory_budget - in_use))
        if handle.message != text:
            handle.message = text
            self._waiting.append(handle)  # told outside the lock
        return False

    def _submit_to_executor(self, handle: RunHandle) -> None:
        """Hand a run to the executor. One with `submit_run(handle)` (`core.cluster`) runs
        `twin.simulate` for a split run's part (`handle.part`), `execute` otherwise, and
        reports progress, the end (`handle._finish`, once) and honours `handle.cancel`
        and `handle.timeout_s` itself; any other `concurrent.futures.Executor` gets
        `execute(twin, params, inputs)`: no progress, cancel only before it starts."""
        if hasattr(self.executor, "submit_run"):
            handle.status = "running"
            self.executor.submit_run(handle)
            return
        start = time.monotonic()
        future = self.executor.submit(execute, handle.twin, handle.params, handle._inputs)
        handle.status = "running"

        def finished(done: Future) -> None:
            handle.seconds = time.monotonic() - start
            if done.cancelled():
                handle._finish("cancelled", error=tr("cancelled by the user"))
            elif done.exception() is not None:
                handle._finish("failed", error=str(done.exception()))
            else:
                handle._finish("ok", result=done.result())

        def cancel() -> None:
            handle._cancel.set()
            future.cancel()

        handle.cancel = cancel  # type: ignore[method-assign]
        future.add_done_callback(finished)

    def warm_up(self) -> None:
        """Start the worker processes now (they take about a second), without waiting."""
        with self._lock:
            while len(self._workers) < self.max_parallel and self.executor is None:
                self._workers.append(_Worker(self._context))

    def _loop(self) -> None:
        """The runner's thread; an unexpected error fails its runs and starts a new one."""
        try:
            self._serve_queue()
        except Exception as error:
            log.exception("the runner's thread failed")
            self._recover(tr("the background runner failed ({error})").format(
                error=f"{type(error).__name__}: {error}"))  # fmt: skip

    def _serve_queue(self) -> None:
        """Hand queued runs to idle workers in order, watch busy ones, clean up at the end."""
        last_scan = 0.0
        while not self._stopping:
            with self._lock:
                now = time.monotonic()
                if now - last_scan >= _POLL_S:  # at most every 50 ms: a sweep queues 1000s
                    last_scan = now
                    cancelled = [h for h in self._queue if h._cancel.is_set()]
                    if cancelled:
                        self._queue = [h for h in self._queue if not h._cancel.is_set()]
                    for handle in cancelled:
                        handle._finish("cancelled", error=tr("cancelled before it started"))
                self._workers = [w for w in self._workers if w.handle or w.alive]
                self._start_queued()
                busy = [w for w in self._workers if w.handle is not None]
                waiting, self._waiting = self._waiting, []
            for handle in waiting:
                handle._report(0.0, handle.message)
            finished = [worker.poll() for worker in busy]
            if any(finished):
                with self._lock:
                    requeued = [w.requeue for w in busy if w.requeue is not None]
                    for worker in busy:
                        worker.requeue = None
                    self._queue[:0] = requeued  # first in line again
                if self._queue:
                    continue  # a worker is free: hand it the next run at once
            busy = [w for w, done in zip(busy, finished, strict=True) if not done]
            waitables = [w.connection for w in busy if not w.connection.closed] + [
                w.process.sentinel for w in busy if w.process.is_alive()]  # fmt: skip
            if waitables:
                wait_for(waitables, timeout=_POLL_S)
            else:
                self._wake.wait(_POLL_S)
                self._wake.clear()
        self._end_all(tr("the application is closing"), "cancelled")

    def _start_queued(self) -> None:
        """Start queued runs, in order, while a worker is free and memory allows (lock held)."""
        while self._queue and self._fits(self._queue[0]):
            worker = next((w for w in self._workers if w.handle is None and w.alive), None)
            if worker is None:
                if len(self._workers) >= self.max_parallel:
                    return
                worker = _Worker(self._context)
                self._workers.append(worker)
            worker.start(self._queue.pop(0))
            if worker.requeue is not None:  # it had died while idle
                self._queue.insert(0, worker.requeue)
                worker.requeue = None

    def _end_all(self, reason: str, status: str) -> None:
        """End every queued and running run with `reason` and stop the workers."""
        with self._lock:
            queued, self._queue = self._queue, []
            workers, self._workers = self._workers, []
        for handle in queued:
            handle._finish(status, error=reason)
        for worker in workers:
            handle = worker.handle
            worker.handle = None
            worker.stop()
            if handle is not None:
                handle._finish(status, error=reason)

    def _recover(self, reason: str) -> None:
        """After the thread failed: fail what it held and serve new runs with a new thread."""
        try:
            self._end_all(tr("{reason}; run it again").format(reason=reason), "failed")
        finally:
            with self._lock:
                self._thread = None
                if not self._stopping:
                    self._thread = threading.Thread(target=self._loop, name="meditwin-runner",
                                                    daemon=True)  # fmt: skip
                    self._thread.start()

    def busy(self) -> bool:
        """Whether anything is queued or running."""
        with self._lock:
            return bool(self._queue or any(w.handle for w in self._workers) or self._combining)

    def shutdown(self) -> None:
        """Cancel queued runs and kill running ones (done by the runner's own thread)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            combining = list(self._combining)
        for thread in combining:  # a combine is quick (maps merged); it ends on its own
            thread.join(timeout=10)
        with self._lock:  # workers started by warm_up() when nothing was ever submitted
            for worker in self._workers:
                worker.stop()
            self._workers.clear()
        if hasattr(self.executor, "close"):  # a cluster's client (core.cluster.DaskExecutor)
            self.executor.close()


def execute(twin: Twin, params: Mapping[str, Any], inputs: Mapping[str, Any]) -> Result:
    """Run one simulation here (the Executor path; a split run's parts in turn), checking
    its result."""
    return run_one(twin, params, inputs, lambda fraction, message: None, lambda: False)


def run_one(
    twin: Twin,
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: ProgressFn,
    cancelled: CancelledFn,
    *,
    part: bool = False,
) -> Result:
    """One run in this process, wherever it was sent (a worker process, an executor, a
    cluster's worker): a split run's part is simulated alone, unchecked (checked once
    combined); any other run is whole (every part of a split twin, in turn) and checked."""
    if part:
        return twin.simulate(params, inputs, progress, cancelled)
    result = run_parts(twin, params, inputs, progress, cancelled)
    check_result(twin, result)
    return result
