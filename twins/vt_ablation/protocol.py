"""Programmed electrical stimulation from one pacing site, and what a sustained VT is.

The protocol of the virtual-heart studies (Arevalo et al. 2016 Nat Commun 7:11437;
Prakosa et al. 2018 Nat Biomed Eng 2:732), itself the clinical decremental-extrastimulus
protocol: a drive train of `s1_count` beats at `s1_cycle_ms`, then a premature S2 whose
coupling interval starts at `first_coupling_ms` and shortens by `coupling_step_ms` until
S2 no longer captures (or reaches `shortest_coupling_ms`); the shortest capturing S2 is
kept and an S3 is added the same way, then an S4 when `extrastimuli` is 3. After every
extrastimulus the tissue is observed with no further stimulus: activity still present
`sustained_ms` after it is a sustained VT; a node activating again without a stimulus
before the tissue falls quiet is non-sustained re-entry.

Choices (and why):
- The state after the drive train (and after each kept extrastimulus) is checkpointed
  (`State.copy()`), so every coupling interval restarts from the same paced state, not from
  rest, as a stimulator repeats an extrastimulus after the same train.
- A site stops at its first sustained VT, as the clinical protocol does (the VT would be
  terminated before pacing went on); other VTs show from the other sites.
- Capture: at least half of the conducting nodes 2-6 mm beyond the stimulated region
  activate within `CAPTURE_WINDOW_MS` of the stimulus (a propagated response, not a local
  one that dies in the stimulated tissue). Every S1 beat is checked too: a drive train
  faster than the tissue's refractory period captures only some beats, and the protocol
  stops at that site with a note instead of going on from a wrong paced state.
- Cycle length: the median interval between activations of 64 probe nodes over the last
  three quarters of `sustained_ms` (at most 1.5 s, and no more than was observed after
  the capture window). A short observation of a slow VT may hold fewer than two
  activations per probe: the cycle length is then the median over all nodes activated at
  least twice during the observation of (last - first) / (count - 1). When no node
  activated twice (`sustained_ms` shorter than the capture window plus one cycle), the
  trial is observed on past `sustained_ms` (up to `MEASURE_SPAN_MS` after the capture
  window) until one has, with a note. A trial classified sustained keeps its VT (still
  active without any node activated twice by then: the time since the extrastimulus is its
  cycle length, a lower bound, with a note); only a single slow wavefront that outlasted
  `sustained_ms` and then died with no node activating twice is no re-entry. (Counting
  from the extrastimulus's own activation is not a cycle: nodes where it blocked are
  reached early by the returning wavefront.)
- Exit site and activation map: the VT's last cycle is cut at its quietest moment (the
  fewest nodes activating per millisecond: the wavefront is then in the narrow, slow
  pathway); the activation map is the time within the cycle from that moment and the exit
  site the centroid of the 1 % of nodes activating first after it.
- Distinct VTs: cycle lengths differing by more than `DISTINCT_CL_MS` or exit sites more
  than `DISTINCT_EXIT_MM` apart (the resolution of a clinical 12-lead morphology/CL match
  and of the pace-mapping used to localise exits, ~10 mm: de Chillou et al. 2014 Heart
  Rhythm 11:175).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from meditwin_desktop.core.twin import N_, Cancelled, number, tr

from . import monodomain

STIMULUS_RADIUS_MM = 3.0  # a pacing bipole spans ~2-5 mm; smaller regions at 2 mm grids
# fail to excite their neighbours in 3D (source-sink mismatch)
CAPTURE_WINDOW_MS = 250.0  # a premature stimulus near refractoriness excites its
# surroundings late: ~150 ms to 4 mm measured on the demo heart (1.5 mm grid, S2 440 ms)
CAPTURE_SHELL_MM = (2.0, 6.0)  # beyond the stimulated region
CAPTURE_FRACTION = 0.5
FIRST_COUPLING_FRACTION = 0.8  # S2 starts late in diastole (480 ms after a 600 ms train):
# the Mitchell-Schaeffer tissue's refractory period at 600 ms is ~400-450 ms (A's cells)
DISTINCT_CL_MS = 20.0
DISTINCT_EXIT_MM = 10.0
PROBES = 64
MEASURE_SPAN_MS = 2000.0  # a sustained trial whose observation holds no two activations of
# a node is observed on, EXTEND_MS at a time, up to this long after the capture window
EXTEND_MS = 250.0
NEXT_START_MS = 100.0
SUSTAINED_TAIL_MS = 50.0  # re-entry always has a wavefront: some node activated within the
# last 50 ms of the window (a repolarising tail without activations is not VT)
REENTRY_MARGIN_MS = 50.0  # re-entry: activity outlasting a paced beat's activation by this
EXIT_FRACTION = 0.01
CHUNK_MS = 100.0  # observation in chunks: progress, cancellation, bounded memory
ECG_MS = 2.0  # electrogram sampling while observing
MEMBRANE_MS = 10.0  # membrane potential frames kept for the time slider


@dataclass(frozen=True)
class Settings:
    """The protocol's numbers (ms); see the module docstring."""

    s1_cycle_ms: float = 600.0
    s1_count: int = 8
    first_coupling_ms: float = 350.0
    shortest_coupling_ms: float = 200.0
    coupling_step_ms: float = 20.0
    extrastimuli: int = 2
    sustained_ms: float = 2000.0

    def couplings(self, start: float) -> list[float]:
        """Coupling intervals tried, from `start` down to the floor."""
        values, c = [], max(start, self.shortest_coupling_ms)
        while c >= self.shortest_coupling_ms - 1e-9:
            values.append(float(c))
            c -= self.coupling_step_ms
        return values


@dataclass
class Trial:
    """One extrastimulus tried: its coupling intervals (S2.. this one) and what happened."""

    couplings: tuple[float, ...]
    captured: bool
    outcome: str  # "no capture", "no re-entry", "non-sustained re-entry", "sustained VT"
    activity_ms: float  # how long activity lasted after this extrastimulus
    cycle_length_ms: float | None = None

    @property
    def label(self) -> str:
        """'S2 320 / S3 260 ms'."""
        return " / ".join(f"S{n + 2} {c:.0f}" for n, c in enumerate(self.couplings)) + " ms"


@dataclass
class VT:
    """A sustained VT induced from one site."""

    site: int
    couplings: tuple[float, ...]
    cycle_length_ms: float
    exit_lps: np.ndarray  # (3,) mm
    activation: np.ndarray  # (n,) ms within one cycle from its quietest moment (nan: none)

    def same_as(self, other: VT) -> bool:
        """Whether two VTs are the same circuit (cycle length and exit site)."""
        return (
            abs(self.cycle_length_ms - other.cycle_length_ms) <= DISTINCT_CL_MS
            and float(np.linalg.norm(self.exit_lps - other.exit_lps)) <= DISTINCT_EXIT_MM
        )


@dataclass
class Trace:
    """What was recorded while one extrastimulus was observed: the electrogram every
    ECG_MS and the membrane potential of some nodes every MEMBRANE_MS."""

    times: np.ndarray  # (T,) ms from the extrastimulus, of the electrogram
    ecg: np.ndarray | None  # (T,) electrogram (None without weights)
    v_times: np.ndarray  # (F,) ms from the extrastimulus
    v: np.ndarray  # (F, n_nodes) float32 at the trace nodes


@dataclass
class SiteResult:
    """Everything the protocol found from one pacing site."""

    site: int
    trials: list[Trial] = field(default_factory=list)
    vt: VT | None = None
    paced_activation: np.ndarray | None = None  # (n,) ms after the last S1 (nan: none)
    trace: Trace | None = None  # of the VT trial, else of the last captured extrastimulus
    note: str = ""


def stimulated_nodes(model: monodomain.TissueModel, site_lps) -> np.ndarray:
    """Conducting nodes within STIMULUS_RADIUS_MM of the node nearest the site (ValueError
    when no conducting node lies within 3 mm of it)."""
    centre = int(model.node_at(np.asarray(site_lps, float)))
    positions = model.lps()
    distance = np.linalg.norm(positions - positions[centre], axis=1)
    return np.flatnonzero(distance <= STIMULUS_RADIUS_MM)


def _capture_shell(model: monodomain.TissueModel, nodes: np.ndarray) -> np.ndarray:
    positions = model.lps()
    centre = positions[nodes].mean(axis=0)
    reach = float(np.linalg.norm(positions[nodes] - centre, axis=1).max())
    distance = np.linalg.norm(positions - centre, axis=1)
    low, high = reach + CAPTURE_SHELL_MM[0], reach + CAPTURE_SHELL_MM[1]
    shell = np.flatnonzero((distance > low) & (distance <= high))
    if not len(shell):  # a tiny model: anything beyond the stimulated region
        shell = np.setdiff1d(np.arange(len(positions)), nodes)
    return shell


class _Budget:
    """Progress as simulated milliseconds over an estimate of the protocol's total."""

    def __init__(
        self, settings: Settings, progress: Callable[[float, str], None] | None, site: int
    ) -> None:
        trials = len(settings.couplings(settings.first_coupling_ms))
        per_trial = settings.first_coupling_ms + CAPTURE_WINDOW_MS + 500.0
        self.total = settings.s1_cycle_ms * settings.s1_count + (
            settings.extrastimuli * trials * per_trial + settings.sustained_ms
        )
        self.done = 0.0
        self.progress = progress
        self.site = site

    def advance(self, ms: float, what: str) -> None:
        self.done += max(ms, 0.0)
        if self.progress is not None:
            self.progress(
                min(self.done / self.total, 0.99),
                tr("site {site}: {what}").format(site=self.site, what=what),
            )


def _run(model, state, t_end, stimuli, *, quiet, cancelled, backend, **record):
    if cancelled is not None and cancelled():
        raise Cancelled()
    return monodomain.run(
        model,
        state,
        t_end,
        stimuli,
        stop_when_quiet=quiet,
        cancelled=cancelled,
        backend=backend,
        **record,
    )


def _snapshots(recording) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(recording.snapshot_times, float), np.asarray(recording.snapshots, np.float32)


@dataclass
class _Observation:
    """What an observation (several chunks of `run`) collected."""

    counts: np.ndarray
    first: np.ndarray
    last: np.ndarray
    probe_times: list[list[float]]
    times: list[np.ndarray] = field(default_factory=list)  # electrogram times
    ecg: list[np.ndarray] = field(default_factory=list)
    v_times: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    ended_ms: float = 0.0
    quiet: bool = False  # the tissue fell quiet before the end


def _observe(
    model,
    state,
    t_end,
    *,
    probes,
    trace_nodes,
    ecg_weights,
    cancelled,
    backend,
    budget,
    what,
    into: _Observation | None = None,
) -> _Observation:
    """Advance `state` with no stimulus until `t_end` or until the tissue is quiet. The
    electrogram needs every node's potential: each chunk records all of them, reduces them
    to the electrogram and keeps the trace nodes every MEMBRANE_MS (memory of one chunk).
    `into`: an observation of the same state to go on with (it is extended and returned)."""
    n = len(model.index)
    seen = into
    if seen is None:
        seen = _Observation(
            np.zeros(n, np.int64), np.full(n, np.nan), np.full(n, np.nan), [[] for _ in probes]
        )
    nodes = trace_nodes if trace_nodes is not None else np.zeros(0, np.int64)
    record_all = ecg_weights is not None
    every = max(round(MEMBRANE_MS / ECG_MS), 1)
    while t_end - state.t_ms >= model.dt_ms - 1e-9:  # run() steps whole dt
        start = float(state.t_ms)
        stop = min(start + CHUNK_MS, t_end)
        record = {"probe_nodes": probes}
        if record_all or len(nodes):
            snapped = np.arange(n) if record_all else nodes
            record.update(snapshot_nodes=snapped, snapshot_ms=ECG_MS)
        rec = _run(
            model, state, stop, [], quiet=True, cancelled=cancelled, backend=backend, **record
        )
        seen.counts += np.asarray(rec.activation_count, np.int64)
        earlier = np.asarray(rec.first_activation, float)
        seen.first = np.where(np.isnan(seen.first), earlier, seen.first)
        later = np.asarray(rec.last_activation, float)
        seen.last = np.where(np.isnan(later), seen.last, later)
        for p, node in enumerate(probes):
            seen.probe_times[p].extend(float(t) for t in rec.activation_times(int(node)))
        if record_all or len(nodes):
            times, values = _snapshots(rec)
            if seen.times and len(times) and times[0] <= seen.times[-1][-1] + 1e-9:
                times, values = times[1:], values[1:]  # each chunk repeats its start
            offset = sum(len(t) for t in seen.times)
            seen.times.append(times)
            if record_all:
                seen.ecg.append(values.astype(np.float64) @ ecg_weights)
            keep = (offset + np.arange(len(times))) % every == 0
            seen.v_times.append(times[keep])
            seen.v.append((values[:, nodes] if record_all else values)[keep].astype(np.float32))
            del values
        budget.advance(float(state.t_ms) - start, what)
        if rec.stopped_quiet:
            seen.quiet = True
            break
    seen.ended_ms = float(state.t_ms)
    return seen


def cycle_length(
    probe_times: Sequence[Sequence[float]], t_end: float, window_ms: float
) -> float | None:
    """Median interval between activations of the probes within the last `window_ms`."""
    medians = []
    for times in probe_times:
        recent = np.array([t for t in times if t >= t_end - window_ms])
        if len(recent) >= 2:
            medians.append(float(np.median(np.diff(np.sort(recent)))))
    return float(np.median(medians)) if medians else None


def mean_interval(first: np.ndarray, last: np.ndarray, counts: np.ndarray) -> float | None:
    """Median over the nodes activated at least twice of their mean interval between
    activations, (last - first) / (count - 1); None when no node activated twice."""
    twice = (np.asarray(counts) >= 2) & np.isfinite(first) & np.isfinite(last)
    if not twice.any():
        return None
    intervals = (last[twice] - first[twice]) / (np.asarray(counts)[twice] - 1)
    return float(np.median(intervals))


def measured_cycle_length(seen: _Observation, t: float, sustained_ms: float) -> float | None:
    """The cycle length of a sustained trial (see the module docstring): at the probes over
    the last three quarters of `sustained_ms` (at most 1.5 s and what was observed after the
    capture window), else over every node activated twice during the observation; None when
    no node was."""
    observed = seen.ended_ms - (t + CAPTURE_WINDOW_MS)
    window = min(0.75 * sustained_ms, 1500.0, max(observed, 0.0))
    cl = cycle_length(seen.probe_times, seen.ended_ms, window) if window > 0 else None
    if cl is not None:
        return cl
    return mean_interval(seen.first, seen.last, seen.counts)


def cycle_map(
    last_activation: np.ndarray, t_end: float, cycle_ms: float, bin_ms: float = 2.0
) -> np.ndarray:
    """Activation time within the VT's last cycle (ms from its quietest moment), nan where
    a node did not activate during that cycle."""
    recent = (last_activation > t_end - cycle_ms) & np.isfinite(last_activation)
    phase = np.where(recent, last_activation - (t_end - cycle_ms), np.nan)
    bins = max(round(cycle_ms / bin_ms), 4)
    counts = np.bincount(
        np.minimum((phase[recent] / cycle_ms * bins).astype(int), bins - 1), minlength=bins
    ).astype(float)
    width = max(round(10.0 / bin_ms), 1)  # smooth over 10 ms, circularly
    kernel = np.ones(2 * width + 1) / (2 * width + 1)
    smooth = np.convolve(
        np.concatenate([counts[-width:], counts, counts[:width]]), kernel, mode="valid"
    )
    origin = int(np.argmin(smooth)) * cycle_ms / bins
    return np.where(recent, np.mod(phase - origin, cycle_ms), np.nan)


def exit_site(model: monodomain.TissueModel, activation: np.ndarray) -> np.ndarray:
    """Centroid (LPS mm) of the nodes activating first in the cycle map."""
    finite = np.flatnonzero(np.isfinite(activation))
    count = max(round(EXIT_FRACTION * len(finite)), 1)
    first = finite[np.argsort(activation[finite], kind="stable")[:count]]
    return model.lps()[first].mean(axis=0)


def _stimulus(nodes: np.ndarray, t: float) -> monodomain.Stimulus:
    return monodomain.Stimulus(nodes=nodes, start_ms=float(t))


def _deliver(model, state, t, nodes, t_after, *, cancelled, backend):
    """Advance to just before `t`, stimulate at `t`, run to `t_after`; the recording of the
    stimulated part (activations after `t` only)."""
    lead = min(1.0, max(t - float(state.t_ms), 0.0))
    if t - lead > state.t_ms + 1e-9:
        _run(model, state, t - lead, [], quiet=False, cancelled=cancelled, backend=backend)
    return _run(
        model,
        state,
        t_after,
        [_stimulus(nodes, t)],
        quiet=False,
        cancelled=cancelled,
        backend=backend,
    )


def induce(
    model: monodomain.TissueModel,
    site: int,
    site_lps,
    settings: Settings,
    *,
    trace_nodes: np.ndarray | None = None,
    ecg_weights: np.ndarray | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    backend: str = "numba",
) -> SiteResult:
    """Run the protocol from one site. `trace_nodes`: nodes whose membrane potential is kept
    for the trial shown; `ecg_weights` (n,): electrogram = v @ weights over all nodes."""
    nodes = stimulated_nodes(model, site_lps)
    shell = _capture_shell(model, nodes)
    n = len(model.index)
    probes = np.unique(np.linspace(0, n - 1, min(PROBES, n)).astype(int))
    budget = _Budget(settings, progress, site)
    result = SiteResult(site)
    state = monodomain.resting_state(model)
    last_s1 = settings.s1_cycle_ms * (settings.s1_count - 1)
    s1_window = min(CAPTURE_WINDOW_MS, settings.s1_cycle_ms - 1.0)
    for beat in range(settings.s1_count - 1):  # each beat alone: its capture is checked
        t = settings.s1_cycle_ms * beat
        rec = _deliver(model, state, t, nodes, t + s1_window, cancelled=cancelled, backend=backend)
        budget.advance(settings.s1_cycle_ms, tr("drive train S1 {beat}").format(beat=beat + 1))
        if not _captured(rec.activation_count, shell):
            result.note = _s1_note(settings, beat)
            return result
    rec = _deliver(
        model,
        state,
        last_s1,
        nodes,
        last_s1 + settings.shortest_coupling_ms,
        cancelled=cancelled,
        backend=backend,
    )
    checkpoint, t_previous = state.copy(), last_s1
    tail = _run(
        model,
        state.copy(),
        last_s1 + settings.s1_cycle_ms - 1.0,
        [],
        quiet=True,
        cancelled=cancelled,
        backend=backend,
    )  # the rest of the paced beat
    first = np.where(
        np.asarray(rec.activation_count) > 0, rec.first_activation, tail.first_activation
    )
    early = np.asarray(first, float)[shell] <= last_s1 + s1_window  # nan: False
    if early.mean() < CAPTURE_FRACTION:
        result.note = _s1_note(settings, settings.s1_count - 1)
        return result
    result.paced_activation = np.asarray(first, float) - last_s1
    paced_ms = float(np.nanmax(result.paced_activation, initial=0.0))
    kept: list[float] = []
    start = settings.first_coupling_ms
    for extra in range(settings.extrastimuli):
        chosen: float | None = None
        for coupling in settings.couplings(start):
            trial_state = checkpoint.copy()
            t = t_previous + coupling
            rec = _deliver(
                model,
                trial_state,
                t,
                nodes,
                t + CAPTURE_WINDOW_MS,
                cancelled=cancelled,
                backend=backend,
            )
            budget.advance(
                coupling + CAPTURE_WINDOW_MS - settings.shortest_coupling_ms,
                f"S{extra + 2} {coupling:.0f} ms",
            )
            couplings = (*kept, coupling)
            if not _captured(rec.activation_count, shell):
                result.trials.append(Trial(couplings, False, N_("no capture"), 0.0))
                break
            chosen = coupling
            observe = partial(_observe, model, trial_state, probes=probes,
                              trace_nodes=trace_nodes, ecg_weights=ecg_weights,
                              cancelled=cancelled, backend=backend, budget=budget)  # fmt: skip
            seen = observe(t + settings.sustained_ms, what=f"S{extra + 2} {coupling:.0f} ms")
            newest = float(np.nanmax(seen.last, initial=-np.inf))
            if not seen.quiet and newest >= seen.ended_ms - SUSTAINED_TAIL_MS:
                cl, note = measured_cycle_length(seen, t, settings.sustained_ms), ""
                longest = t + CAPTURE_WINDOW_MS + MEASURE_SPAN_MS
                while cl is None and not seen.quiet and seen.ended_ms < longest - 1e-6:
                    what = tr("S{n} {coupling} ms: cycle length").format(
                        n=extra + 2, coupling=number(coupling, 0)
                    )
                    observe(min(seen.ended_ms + EXTEND_MS, longest), what=what, into=seen)
                    cl = measured_cycle_length(seen, t, settings.sustained_ms)
                    note = tr(
                        "observed {observed} ms, beyond sustained_ms ({sustained} ms), to "
                        "measure the VT's cycle length"
                    ).format(
                        observed=number(seen.ended_ms - t, 0),
                        sustained=number(settings.sustained_ms, 0),
                    )
                if cl is None and not seen.quiet:  # no node activated twice, still active:
                    cl = seen.ended_ms - t  # the VT is kept, its cycle length at least this
                    note = tr(
                        "no node activated twice in {observed} ms: the VT's cycle length is "
                        "a lower bound (the time since the extrastimulus)"
                    ).format(observed=number(seen.ended_ms - t, 0))
                if cl is not None:
                    trial = Trial(couplings, True, N_("sustained VT"), seen.ended_ms - t, cl)
                    result.trials.append(trial)
                    result.trace = _trace(seen, t)
                    result.note = note
                    last = np.where(np.isnan(seen.last), rec.last_activation, seen.last)
                    activation = cycle_map(np.asarray(last, float), seen.ended_ms, cl)
                    result.vt = VT(site, couplings, cl, exit_site(model, activation), activation)
                    return result
                # one slow wavefront outlasted sustained_ms, then the tissue fell quiet
                # without any node activating twice: no re-entry (the outcomes below)
            counts = seen.counts + np.asarray(rec.activation_count, np.int64)
            trace = _trace(seen, t)
            ended = np.nanmax(np.concatenate([seen.last, np.asarray(rec.last_activation)]))
            activity = float(ended - t) if np.isfinite(ended) else 0.0
            counts[nodes] = 0  # a stimulated node may cross twice under the stimulus
            late = activity > paced_ms + REENTRY_MARGIN_MS
            outcome = (
                N_("non-sustained re-entry") if late and counts.max() >= 2 else N_("no re-entry")
            )
            result.trials.append(Trial(couplings, True, outcome, activity))
            result.trace = trace
        if chosen is None:  # the first coupling did not capture: no later extrastimulus
            result.note = tr("S{n} did not capture at {coupling} ms").format(
                n=extra + 2, coupling=number(start, 0)
            )
            return result
        kept.append(chosen)
        state = checkpoint.copy()
        t = t_previous + chosen
        _deliver(
            model,
            state,
            t,
            nodes,
            t + settings.shortest_coupling_ms,
            cancelled=cancelled,
            backend=backend,
        )
        checkpoint, t_previous = state.copy(), t
        # a premature beat reaches the tissue around the site late (latency, slow conduction
        # in tissue not fully recovered: up to ~150 ms on the demo heart), so the next
        # extrastimulus starts NEXT_START_MS above the coupling that captured
        start = min(settings.s1_cycle_ms, chosen + NEXT_START_MS)
    return result


def _captured(activation_count, shell: np.ndarray) -> bool:
    """Whether a stimulus propagated: enough of the capture shell activated."""
    return bool((np.asarray(activation_count)[shell] > 0).mean() >= CAPTURE_FRACTION)


def _s1_note(settings: Settings, beat: int) -> str:
    return tr(
        "the drive train at {cycle} ms does not capture every beat (S1 beat {beat} of "
        "{count} did not; tissue refractory period ~440 ms in this model): lengthen the S1 "
        "cycle"
    ).format(cycle=number(settings.s1_cycle_ms, 0), beat=beat + 1, count=settings.s1_count)


def _trace(seen: _Observation, t: float) -> Trace | None:
    if not seen.times:
        return None
    ecg = np.concatenate(seen.ecg) if seen.ecg else None
    v = np.concatenate(seen.v, axis=0) if seen.v else np.zeros((0, 0), np.float32)
    return Trace(np.concatenate(seen.times) - t, ecg, np.concatenate(seen.v_times) - t, v)


def distinct(vts: Sequence[VT]) -> list[VT]:
    """The distinct VTs, in order (a VT matching an earlier one is the same VT)."""
    kept: list[VT] = []
    for vt in vts:
        if not any(vt.same_as(other) for other in kept):
            kept.append(vt)
    return kept
