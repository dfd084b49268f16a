"""Run twins on a Dask cluster (`dask.distributed`): the executor `core.runner.Runner`
takes as `executor=`, with the guarantees of the runner's own worker processes.

`connect(None)` starts a `LocalCluster` here (one single-threaded worker process per
core, each watched by a nanny, niced, ending with this process, listening on loopback
only, no dashboard); `connect("tcp://HOST:PORT")` joins a running scheduler.

How a run goes (`DaskExecutor.submit_run`), all decided on one dispatcher thread, so
that each run ends exactly once:
- The twin and the inputs travel to the cluster once per twin and inputs digest
  (`client.scatter(hash=False)`); each run is then a task on those futures. Inputs stay
  there while runs use them, and the last two sets after (the next scenario of a case).
- Runs wait here, at most two per worker thread in flight: the scheduler counts a worker's
  death against every task assigned to it, so a long queue on the workers would let one
  crashing run count against runs that never began.
- Progress and a "started" mark travel as structured events (`Worker.log_event` ->
  `Client.subscribe_topic`): fire-and-forget on the worker's batched stream to the
  scheduler, no round trip per message and nothing to poll here (a distributed `Queue`
  costs a request to the scheduler per message and polling on this side). Progress is
  sent at most every 0.2 s.
- Cancel: a distributed `Event` per run, set from here; the task reads it at most every
  0.25 s. A run that has not begun is dropped at once; one that does not stop within
  `grace_s` ends cancelled and its worker is restarted by its nanny.
- Time limit (`handle.timeout_s`): counted from the "started" mark (a run waiting for a
  worker is not late), enforced here like a cancel, with the runner's wording.
- Crash isolation: a worker that dies (segfault, `os._exit`, killed) is restarted by its
  nanny and the scheduler runs its task again elsewhere; a task during which
  `distributed.scheduler.allowed-failures` + 1 workers died (3 + 1 by default) fails,
  alone, with "the simulation process on worker ... was killed".
- Inputs lost with the only worker that held them are sent again and the run resubmitted
  (up to three times); a lost scheduler connection fails the waiting and running runs
  after `lost_after_s`, with the reason.
- Twin errors come back as values, never as raised exceptions: dask would log a failed
  task with its arguments, and logs keep no patient data.

Privacy: see `core.cluster_privacy`; a non-local scheduler gets inputs that identify the
patient only when constructed with `allow_identifiable=True`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dask
from distributed import Client, Event, Future, KilledWorker, LocalCluster, get_client, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from meditwin_desktop import __version__
from meditwin_desktop.core.cluster_privacy import check_shippable, is_local_address
from meditwin_desktop.core.errors import Cancelled, IdentifiableDataError, InputError
from meditwin_desktop.core.i18n import decimal_separator, language, number, set_language, tr
from meditwin_desktop.core.parent_watch import exit_with_parent
from meditwin_desktop.core.priority import lower_process_priority
from meditwin_desktop.core.runner import (
    SHOWN_PREFIX,
    RunHandle,
    Runner,
    failure_summary,
    input_hash,
    run_one,
)
from meditwin_desktop.core.twin import Twin

log = logging.getLogger(__name__)

GRACE_S = 2.0  # a run asked to stop that is still running after this has its worker restarted
LOST_AFTER_S = 10.0  # runs fail once the scheduler has been unreachable this long
CONNECT_TIMEOUT_S = 10.0
_PROGRESS_S = 0.2  # a worker sends progress at most this often
_CANCEL_POLL_S = 0.25  # and reads its run's cancel event at most this often
_TICK_S = 0.05
_SLOTS_PER_THREAD = 2
_MAX_TRIES = 6  # submissions of a run whose inputs were lost with other runs' workers
_KEPT_INPUTS = 2  # sets of inputs kept on the cluster once no run uses them


# -- on the worker --------------------------------------------------------------------------
def run_on_worker(
    twin: Twin,
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    part: bool,
    key: str,
    topic: str,
    cancel_name: str,
    language_code: str,
    app_version: str,
) -> tuple[str, Any]:
    """A dask task: one run of `twin` (a split run's part: `simulate` alone, unchecked;
    otherwise every part and `check_result`: `core.runner.run_one`). Returns ("ok",
    result), ("cancelled", None) or ("failed", reason); never raises."""
    worker = get_worker()
    if language() != language_code:
        set_language(language_code)  # messages in the language of the one who asked
    if app_version != __version__:
        return "failed", tr(
            "the cluster's worker {worker} runs MEDITWIN {there}, this computer {here}: "
            "install the same version (and twins) on the workers"
        ).format(worker=worker.address, there=__version__, here=app_version)
    mark = {"key": key, "kind": "started", "worker": worker.address}
    try:  # a round trip, so that the mark is out before a crash that may follow
        get_client().log_event(topic, mark)
    except Exception:
        worker.log_event(topic, mark)
    start = time.monotonic()
    sent, read, stop = [start], [start], [False]
    event: list[Event | None] = [None]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - sent[0] >= _PROGRESS_S:
            sent[0] = now
            note = {"key": key, "kind": "progress", "fraction": float(fraction),
                    "message": str(message)}  # fmt: skip
            worker.log_event(topic, note)

    def cancelled() -> bool:
        now = time.monotonic()
        if stop[0] or now - read[0] < _CANCEL_POLL_S:
            return stop[0]
        read[0] = now
        try:
            if event[0] is None:
                event[0] = Event(cancel_name, client=get_client())
            stop[0] = bool(event[0].is_set())
        except Exception:  # the scheduler out of reach: the client side decides
            return False
        return stop[0]

    try:
        return "ok", run_one(twin, params, inputs, progress, cancelled, part=part)
    except Cancelled:
        return "cancelled", None
    except BaseException as error:  # everything a model can throw ends as a message
        return "failed", failure_summary(error)


class _Background(WorkerPlugin):
    """On the workers of a LocalCluster: yield the CPU to the window, end with the app."""

    name = "meditwin-background"

    def setup(self, worker) -> None:
        lower_process_priority()
        exit_with_parent()


# -- on this computer -----------------------------------------------------------------------
def _shipping_key(handle: RunHandle) -> str:
    """The inputs' digest, with their `shown_` texts (which `input_hash` leaves out)."""
    digest = handle.digest or input_hash(handle._inputs)
    shown = {k: v for k, v in handle._inputs.items() if str(k).startswith(SHOWN_PREFIX)}
    return f"{digest}:{input_hash({'shown': shown})}" if shown else digest


@dataclass(eq=False)
class _Shipped:
    future: Future
    users: int = 0


@dataclass(eq=False)
class _Run:
    handle: RunHandle
    digest: str  # the inputs' shipping key: their digest, with their shown_ texts
    key: str = ""
    future: Future | None = None
    launched: float = 0.0
    started: float | None = None  # when a worker began it (its "started" mark)
    worker: str = ""
    stop_at: float | None = None  # when it was asked to stop (cancel, time limit)
    event: Event | None = None
    shipped: _Shipped | None = None
    tries: int = 0  # submissions
    deaths: int = 0  # submissions whose worker died running it (and its inputs with it)
    ended: bool = False


class DaskExecutor:
    """Runs the runs a `Runner` hands it (`submit_run`) on a Dask cluster; see the module.

    `local`: whether the scheduler is on this computer (default: from its address);
    `allow_identifiable`: send inputs that identify the patient to a remote one too;
    `identifiers`: texts that identify patients, beside those `core.logs.protect` knows."""

    def __init__(
        self,
        client: Client,
        *,
        cluster: LocalCluster | None = None,
        local: bool | None = None,
        allow_identifiable: bool = False,
        identifiers: Iterable[str] = (),
        grace_s: float = GRACE_S,
        lost_after_s: float = LOST_AFTER_S,
    ) -> None:
        self.client = client
        self.cluster = cluster
        self.address = str(client.scheduler.address)
        self.local = is_local_address(self.address) if local is None else local
        self.allow_identifiable = allow_identifiable
        self.identifiers = list(identifiers)
        self.grace_s = grace_s
        self.lost_after_s = lost_after_s
        self.allowed_failures = _allowed_failures(client)
        self._topic = f"meditwin-runs-{uuid.uuid4().hex}"
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._waiting: deque[_Run] = deque()
        self._running: dict[str, _Run] = {}  # by dask key, until its future is done
        self._inputs: OrderedDict[str, _Shipped] = OrderedDict()  # by inputs digest
        self._twins: dict[int, tuple[Twin, Future]] = {}
        # inputs key -> (the inputs checked, refusal or "" when shippable)
        self._verdicts: dict[str, tuple[Mapping[str, Any], str]] = {}
        self._lock = threading.Lock()
        self._slots, self._slots_read = _SLOTS_PER_THREAD, -math.inf
        self._lost_since: float | None = None
        self._closed = False
        self._gather = ThreadPoolExecutor(4, thread_name_prefix="meditwin-dask-result")
        client.subscribe_topic(self._topic, self._on_event)
        self._thread = threading.Thread(target=self._serve, name="meditwin-dask", daemon=True)
        self._thread.start()

    # -- the Runner's side ------------------------------------------------------------------
    def submit_run(self, handle: RunHandle) -> None:
        """Run `handle` on the cluster; it ends through `handle._finish`, exactly once.

        IdentifiableDataError (raised here, nothing sent, the handle not run) when its data
        identify the patient and may not leave this computer (`check`): the caller asks the
        user, sets `allow_identifiable` and submits again, or runs on this computer."""
        run = _Run(handle, _shipping_key(handle))
        self.check(handle, run.digest)

        def cancel() -> None:
            handle._cancel.set()
            self._inbox.put(("cancel", run))

        handle.cancel = cancel  # type: ignore[method-assign]
        if self._closed:
            handle._finish("cancelled", error=tr("the application is closing"))
            return
        handle.status = "queued"  # "running" once a worker has begun it
        self._inbox.put(("submit", run))

    def close(self) -> None:
        """End the runs still here (cancelled), close the client (and the LocalCluster)."""
        if self._closed:
            return
        self._closed = True
        self._inbox.put(("close", None))
        self._thread.join(timeout=15)
        while True:  # a run submitted as it closed
            try:
                kind, item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "submit" and not item.ended:
                self._finish(item, "cancelled", error=tr("the application is closing"))
        self._gather.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self._topic)
        try:
            self.client.close(timeout=5)
        except Exception:  # a scheduler already gone
            log.debug("closing the dask client failed", exc_info=True)
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=10)
            except Exception:
                log.debug("closing the local dask cluster failed", exc_info=True)

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- callbacks from distributed's threads ------------------------------------------------
    def _on_event(self, event: tuple[float, Any]) -> None:
        self._inbox.put(("event", event[1]))

    def _on_done(self, run: _Run, future: Future) -> None:
        with contextlib.suppress(RuntimeError):  # closing
            self._gather.submit(self._collect, run, future)

    def _collect(self, run: _Run, future: Future) -> None:
        """In a result thread: fetch what the task gave (a result may be large)."""
        if run.ended:
            outcome: tuple[str, Any] = ("released", None)
        else:
            try:
                status = future.status
                if status == "finished":
                    outcome = ("value", future.result())
                elif status == "cancelled":
                    outcome = ("lost", None)
                elif status == "error" and (error := future.exception()) is not None:
                    outcome = ("killed" if isinstance(error, KilledWorker) else "error", error)
                else:  # "lost" (its worker or data went away) or no error to tell: sent again
                    outcome = ("lost", None)
            except CancelledError:
                outcome = ("lost", None)
            except Exception as error:
                outcome = ("error", error)
        self._inbox.put(("end", (run, future, *outcome)))

    # -- the dispatcher thread --------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            try:
                kind, item = self._inbox.get(timeout=_TICK_S)
            except queue.Empty:
                kind, item = "", None
            if kind == "close":
                self._end_all(tr("the application is closing"), "cancelled")
                return
            try:
                if kind:
                    self._handle(kind, item)
                self._tick()
            except Exception as error:  # a bug here must not leave runs without an end
                log.exception("the cluster dispatcher failed")
                reason = tr("the cluster dispatcher failed ({error}); run it again").format(
                    error=type(error).__name__)  # fmt: skip
                run = item[0] if kind == "end" else item
                if isinstance(run, _Run):
                    self._fail(run, reason)
                time.sleep(_TICK_S)  # a failure at every tick must not flood the log

    def _handle(self, kind: str, item: Any) -> None:
        if kind == "submit":
            self._waiting.append(item)
        elif kind == "cancel":
            run: _Run = item
            if run in self._waiting:
                self._waiting.remove(run)
                self._finish(run, "cancelled", error=tr("cancelled by the user"))
            elif self._running.get(run.key) is run:
                self._stop(run)
        elif kind == "event":
            self._on_mark(item)
        elif kind == "end":
            self._end(*item)

    def _on_mark(self, message: Mapping[str, Any]) -> None:
        run = self._running.get(str(message.get("key", "")))
        if run is None or run.ended:
            return
        if message.get("kind") == "started":  # again after a worker died: a fresh clock
            run.started, run.worker = time.monotonic(), str(message.get("worker", ""))
            run.handle.status = "running"
        elif message.get("kind") == "progress":
            run.handle._report(float(message.get("fraction", 0.0)), str(message.get("message")))

    def _tick(self) -> None:
        now = time.monotonic()
        if self.client.status != "running":
            self._lost_since = self._lost_since or now
            if now - self._lost_since > self.lost_after_s:
                self._end_all(self._lost_text(), "failed")
            return
        self._lost_since = None
        for run in list(self._running.values()):
            handle = run.handle
            if not run.ended and run.stop_at is None and handle._cancel.is_set():
                self._stop(run)
            elif (not run.ended and run.started is not None and handle.timeout_s is not None
                  and now - run.started > handle.timeout_s):  # fmt: skip
                limit = f"{handle.timeout_s:g}".replace(".", decimal_separator())
                self._finish(run, "failed",
                             error=tr("it ran longer than its limit of {limit} s").format(
                                 limit=limit))  # fmt: skip
                self._stop(run)
            elif (run.stop_at is not None and now - run.stop_at > self.grace_s
                  and run.future is not None and not run.future.done()):  # fmt: skip
                self._abandon(run)
        if now - self._slots_read > 1.0:
            self._slots_read = now
            try:
                threads = sum(self.client.nthreads().values())
                self._slots = max(_SLOTS_PER_THREAD, _SLOTS_PER_THREAD * threads)
            except Exception:
                log.debug("could not read the cluster's threads", exc_info=True)
        while self._waiting and len(self._running) < self._slots:
            self._launch(self._waiting.popleft())

    def _launch(self, run: _Run) -> None:
        handle = run.handle
        if handle._cancel.is_set():
            self._finish(run, "cancelled", error=tr("cancelled by the user"))
            return
        try:
            twin_future = self._twin_future(handle.twin)
            inputs_future = self._ship(run)
            key = f"meditwin-run-{uuid.uuid4().hex}"
            future = self.client.submit(
                run_on_worker, twin_future, handle.params, inputs_future, handle.part, key,
                self._topic, f"meditwin-cancel-{key}", language(), __version__,
                key=key, pure=False,
            )  # fmt: skip
        except Exception as error:
            self._release(run)  # the inputs it was counted as using
            if self.client.status != "running":  # the scheduler is gone: `_tick` tells
                self._waiting.appendleft(run)
                return
            log.warning("sending a run to the cluster failed (%s)", type(error).__name__)
            self._finish(run, "failed", error=tr(
                "its data could not be sent to the cluster at {address} ({error})").format(
                address=self.address, error=failure_summary(error)))  # fmt: skip
            return
        run.key, run.future, run.tries = key, future, run.tries + 1
        run.started, run.stop_at, run.event, run.launched = None, None, None, time.monotonic()
        self._running[run.key] = run
        run.future.add_done_callback(lambda future, run=run: self._on_done(run, future))

    def check(self, handle: RunHandle, key: str = "") -> None:
        """IdentifiableDataError if the run's inputs or parameters identify its patient and
        the scheduler is not on this computer (unless `allow_identifiable`). The inputs are
        read once per inputs object (the runs of one submission share it)."""
        if self.local or self.allow_identifiable:
            return
        key = key or _shipping_key(handle)
        with self._lock:
            known = self._verdicts.get(key)
        if known is None or known[0] is not handle._inputs:
            try:
                check_shippable(handle._inputs, {}, self.address, self.identifiers)
                known = (handle._inputs, "")
            except IdentifiableDataError as error:
                known = (handle._inputs, str(error))
            with self._lock:
                if len(self._verdicts) > 64:
                    self._verdicts.clear()
                self._verdicts[key] = known
        if known[1]:
            raise IdentifiableDataError(known[1])
        check_shippable({}, handle.params, self.address, self.identifiers)

    def _twin_future(self, twin: Twin) -> Future:
        known = self._twins.get(id(twin))
        if known is None or known[1].status != "finished":
            [future] = self.client.scatter([twin], hash=False, timeout=self.lost_after_s * 3)
            known = self._twins[id(twin)] = (twin, future)  # the twin kept: its id stays its
        return known[1]

    def _ship(self, run: _Run) -> Future:
        """The inputs' future on the cluster (scattered once per digest)."""
        shipped = self._inputs.get(run.digest)
        if shipped is None or shipped.future.status != "finished":
            [future] = self.client.scatter([run.handle._inputs], hash=False,
                                           timeout=self.lost_after_s * 3)  # fmt: skip
            users = shipped.users if shipped is not None else 0
            shipped = self._inputs[run.digest] = _Shipped(future, users)
        self._inputs.move_to_end(run.digest)
        shipped.users += 1
        run.shipped = shipped
        return shipped.future

    def _end(self, run: _Run, future: Future, kind: str, payload: Any) -> None:
        """A run's future is done (any way): release it, end the run unless it has."""
        if self._running.get(run.key) is not run or run.future is not future:
            return  # an earlier try's, or released already
        self._release(run)
        if run.ended:
            return
        if kind == "value":
            status, value = payload
            if status == "ok":
                self._finish(run, "ok", result=value)
            elif status == "cancelled":
                self._finish(run, "cancelled", error=tr("cancelled by the user"))
            else:
                self._finish(run, "failed", error=str(value))
        elif kind == "killed":
            worker = getattr(getattr(payload, "last_worker", None), "address", "?")
            self._killed(run, worker, getattr(payload, "allowed_failures", 0) + 1)
        elif kind == "lost":
            self._lost(run)
        else:
            self._finish(run, "failed", error=self._error_text(payload))

    def _lost(self, run: _Run) -> None:
        """The run's task was dropped by the cluster: its inputs went with the worker that
        held them (the Active Memory Manager keeps one copy), or the scheduler is gone."""
        if run.handle._cancel.is_set():
            self._finish(run, "cancelled", error=tr("cancelled by the user"))
            return
        if self.client.status != "running":
            self._finish(run, "failed", error=self._lost_text())
            return
        if run.started is not None:  # it was running on the worker that died: a crash
            run.deaths += 1
        if run.deaths > self.allowed_failures:
            self._killed(run, run.worker, run.deaths)
        elif run.tries - run.deaths < _MAX_TRIES:  # send its inputs again
            log.warning("a cluster worker holding a run's inputs stopped; sent again")
            run.handle.status = "queued"
            self._waiting.appendleft(run)
        else:
            self._finish(run, "failed", error=tr(
                "the cluster lost this run's data (the workers holding them stopped); "
                "run it again"))  # fmt: skip

    def _killed(self, run: _Run, worker: str, count: int) -> None:
        self._finish(run, "failed", error=tr(
            "the simulation process on worker {worker} was killed ({count} workers died "
            "running it: a crash in compiled code, or not enough memory); it was not "
            "tried again").format(worker=worker or "?", count=count))  # fmt: skip

    def _error_text(self, error: BaseException) -> str:
        log.warning("a run failed on the cluster (%s)", type(error).__name__)
        if isinstance(error, ImportError):
            return tr(
                "the cluster's workers could not load the twin ({error}): install the same "
                "MEDITWIN version and twins on them"
            ).format(error=failure_summary(error))
        return tr("the cluster could not run it ({error})").format(error=failure_summary(error))

    def _lost_text(self) -> str:
        return tr(
            "the connection to the cluster's scheduler at {address} was lost for more than "
            "{seconds} s; run it again (on this computer if the cluster is down)"
        ).format(address=self.address, seconds=number(self.lost_after_s))

    def _stop(self, run: _Run) -> None:
        """Ask a running run to stop: dropped if it has not begun, else its event set."""
        if run.stop_at is not None:
            return
        run.stop_at = time.monotonic()
        if run.started is None:  # not begun (as far as we know): the scheduler drops it
            assert run.future is not None
            run.future.cancel()
            self._release(run)
            self._finish(run, "cancelled", error=tr("cancelled by the user"))
        try:
            run.event = Event(self._cancel_name(run), client=self.client)
            run.event.set()
        except Exception:
            log.debug("could not set a run's cancel event", exc_info=True)

    def _abandon(self, run: _Run) -> None:
        """A run that did not stop in time: ended here, its worker restarted."""
        self._finish(run, "cancelled", error=tr("cancelled by the user"))
        assert run.future is not None
        run.future.cancel()  # first: the scheduler must not run it again elsewhere
        self._release(run)
        if run.worker:
            log.warning("a simulation did not stop when asked; its cluster worker is restarted")
            threading.Thread(target=self._restart, args=(run.worker,), daemon=True).start()

    def _restart(self, worker: str) -> None:
        """End the worker's process at once (as the runner kills its own worker); its nanny
        starts a fresh one. (`Client.restart_workers` first waits for the run to end.)"""
        try:
            self.client.run(os._exit, 75, workers=[worker], on_error="ignore")
        except Exception:  # the connection to it closes as it exits
            log.debug("ending a cluster worker", exc_info=True)

    def _release(self, run: _Run) -> None:
        """Forget a run's task; its inputs stay while used (and the last few after)."""
        if self._running.get(run.key) is run:
            del self._running[run.key]
        if run.shipped is not None:
            run.shipped.users -= 1
            run.shipped = None
            idle = [d for d, s in self._inputs.items() if s.users <= 0]
            for digest in idle[: max(0, len(idle) - _KEPT_INPUTS)]:  # the oldest go
                del self._inputs[digest]  # the last reference: the cluster drops the data
        if run.event is not None:
            if self.client.status == "running":
                with contextlib.suppress(Exception):
                    run.event.clear()  # the scheduler forgets a cleared event
            run.event = None

    def _finish(self, run: _Run, status: str, result: Any = None, error: str | None = None) -> None:
        if run.ended:
            return
        run.ended = True
        run.handle.seconds = time.monotonic() - (run.started or run.launched or time.monotonic())
        run.handle._finish(status, result=result, error=error)

    def _fail(self, run: _Run, reason: str) -> None:
        if run.future is not None and not run.future.done():
            run.future.cancel()
        if run in self._waiting:
            self._waiting.remove(run)
        self._release(run)
        self._finish(run, "failed", error=reason)

    def _end_all(self, reason: str, status: str) -> None:
        waiting, self._waiting = list(self._waiting), deque()
        running = list(self._running.values())
        connected = self.client.status == "running"  # else the client dropped its futures
        for run in running:
            if connected and run.started is not None and not run.ended:
                self._stop(run)  # a cooperative twin stops; a LocalCluster closes anyway
            if connected and run.future is not None:
                run.future.cancel()
            self._release(run)
        for run in waiting + running:
            self._finish(run, status, error=reason)

    def _cancel_name(self, run: _Run) -> str:
        return f"meditwin-cancel-{run.key}"


def _scheduler_allowed_failures(dask_scheduler) -> int:
    return int(dask_scheduler.allowed_failures)


def _allowed_failures(client: Client) -> int:
    """How many workers may die running a task before the scheduler gives up on it (its
    `distributed.scheduler.allowed-failures`; this side's configuration if unreadable)."""
    try:
        return int(client.run_on_scheduler(_scheduler_allowed_failures))
    except Exception:
        return int(dask.config.get("distributed.scheduler.allowed-failures", 3))


def connect(
    address: str | None,
    workers: int | None = None,
    *,
    allow_identifiable: bool = False,
    timeout_s: float = CONNECT_TIMEOUT_S,
) -> DaskExecutor:
    """A DaskExecutor on the scheduler at `address` ("tcp://HOST:PORT"), or on a new
    LocalCluster of `workers` processes (default: one per core) when `address` is None,
    "" or "local". InputError, saying what to check, when the scheduler cannot be reached
    within `timeout_s`."""
    if address is None or not address.strip() or address.strip().lower() == "local":
        cluster = LocalCluster(
            n_workers=workers or max(1, os.cpu_count() or 1), threads_per_worker=1,
            processes=True, host="127.0.0.1", dashboard_address=None,
            silence_logs=logging.CRITICAL,  # a crash is told by the run's error
        )  # fmt: skip
        try:
            client = Client(cluster, set_as_default=False)
            client.register_plugin(_Background())
        except BaseException:
            cluster.close()
            raise
        return DaskExecutor(client, cluster=cluster, local=True,
                            allow_identifiable=allow_identifiable)  # fmt: skip
    address = address.strip()
    try:
        client = Client(address, timeout=timeout_s, set_as_default=False)
    except Exception as error:
        reason = type(error).__name__ if not str(error) else failure_summary(error)
        raise InputError(
            tr(
                "The Dask scheduler at {address} could not be reached within {seconds} s "
                "({reason}). Check the address (tcp://HOST:PORT), that the scheduler is "
                "running and that this computer may connect to it; or run on this computer "
                "(no scheduler)."
            ).format(address=address, seconds=number(timeout_s), reason=reason)
        ) from None
    return DaskExecutor(client, allow_identifiable=allow_identifiable)


def cluster_runner(
    address: str | None,
    *,
    allow_identifiable: bool = False,
    max_parallel: int | None = None,
    timeout_s: float | None = 600.0,
) -> Runner:
    """A Runner whose runs go to the Dask cluster at `address` (None, "" or "local": a
    LocalCluster started here); `Runner.shutdown` closes the connection (and that cluster).
    InputError when the scheduler cannot be reached."""
    executor = connect(address, allow_identifiable=allow_identifiable)
    return Runner(max_parallel=max_parallel, executor=executor, timeout_s=timeout_s)
