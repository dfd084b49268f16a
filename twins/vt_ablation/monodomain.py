"""Monodomain reaction–diffusion on the conducting voxels of an image grid.

    dv/dt = div(D grad v) + I_ion(v, h) + J_stim,   D = d_t I + (d_l - d_t) f f^T

Space: cell-centred finite volumes on the voxels (spacing from the affine, may be
anisotropic). The flux through each face uses the face tensor (mean of the two voxels'),
the normal derivative across the face and the tangential derivatives averaged from the two
voxels' central (one-sided at a tissue edge) differences. Faces towards non-conducting
voxels carry no flux. Each face flux is added to one voxel and subtracted from the other,
so the operator is conservative and its rows sum to 0. It is assembled once as CSR
(scipy.sparse) on the compact numbering of the conducting voxels (a 19-point stencil).

Time: forward Euler for v with the diffusion, reaction and stimulus evaluated at the start
of the step (fused), Rush–Larsen for h. Activation = upward crossing of v = 0.5, time
linearly interpolated within the step.

Backends: "numba" (_kernel.py: one fused pass per step doing the 19-point stencil, the
reaction, the gate, the stimulus and the activation check in float32, with v on the padded
voxel grid and per-node stencil weights; numba because the same work as scipy/numpy calls is
~10 passes over the arrays: measured 3.5x slower on a 195 k-node LV shell) and "numpy"
(scipy.sparse CSR mat-vec + numpy in float64, the reference path the tests compare with).

Time step: DEFAULT_DT_MS = 0.2 ms, lowered to SAFETY x the explicit scheme's stability
limit 2 / (Gershgorin radius of the operator + max 1/tau_in) when that is smaller. The
Gershgorin radius bounds the spectral radius from above (LV shell, 1 mm, oblique fibres:
8.45 /ms vs 6.65 /ms from scipy eigs), so 0.2 ms stays at 0.77 of the true limit there;
isotropic 1 mm grids get 0.19 ms (2D) and 0.13 ms (3D). CV at 0.2 ms is within 1.5 % of
dt = 0.05 ms (tested).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from meditwin_desktop.core.twin import Cancelled

from .ionic import V_ACTIVATION, CellParams

DEFAULT_DT_MS = 0.2
SAFETY = 0.95  # of the Gershgorin stability bound (itself >= the true spectral radius)
SNAP_DTYPE = np.float32


@dataclass
class TissueModel:
    """A discretised tissue: conducting voxels only, numbered 0..n-1 in grid (C) order."""

    index: np.ndarray  # (n, 3) int32 (k, j, i)
    shape: tuple[int, int, int]
    affine: np.ndarray  # (4, 4) (i, j, k, 1) -> LPS mm
    indptr: np.ndarray  # CSR of the diffusion operator (1/ms), int64
    indices: np.ndarray  # int32
    data: np.ndarray  # float64
    code: np.ndarray  # (n,) uint8 tissue code of each node
    table: np.ndarray  # (max code + 1, 5) float64: tau_in, tau_out, tau_open, tau_close, v_gate
    dt_ms: float
    spacing: np.ndarray = field(default_factory=lambda: np.ones(3))  # (k, j, i) mm
    _lps: np.ndarray | None = field(default=None, repr=False)
    _stencil: tuple | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.index.shape[0])

    def operator(self) -> sp.csr_matrix:
        """The diffusion operator (float64 CSR, 1/ms)."""
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.n, self.n))

    def lps(self) -> np.ndarray:
        """(n, 3) node positions in LPS mm."""
        if self._lps is None:
            ijk1 = np.c_[self.index[:, ::-1].astype(np.float64), np.ones(self.n)]
            self._lps = (ijk1 @ self.affine.T)[:, :3]
        return self._lps

    def node_at(self, lps_mm: Sequence[float]) -> int:
        """Nearest conducting node to an LPS point; ValueError if none within 3 mm."""
        d2 = ((self.lps() - np.asarray(lps_mm, dtype=np.float64)) ** 2).sum(axis=1)
        best = int(np.argmin(d2)) if self.n else -1
        if best < 0 or d2[best] > 9.0:
            raise ValueError(f"No conducting myocardium within 3 mm of {tuple(lps_mm)}.")
        return best

    def nodes_within(self, lps_mm: Sequence[float], radius_mm: float) -> np.ndarray:
        """Nodes within radius_mm of an LPS point (may be empty)."""
        d2 = ((self.lps() - np.asarray(lps_mm, dtype=np.float64)) ** 2).sum(axis=1)
        return np.flatnonzero(d2 <= radius_mm * radius_mm)

    def grid_values(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Scatter per-node values onto the grid [k, j, i] (float32, `fill` elsewhere)."""
        out = np.full(self.shape, fill, dtype=np.float32)
        out[self.index[:, 0], self.index[:, 1], self.index[:, 2]] = values
        return out

    def stencil(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The numba kernel's layout: flat index of each node in the zero-padded grid,
        (n, W + 1) float32 weights (W stencil directions, then the centre), the W flat
        offsets, and the padded grid's size. Built from the CSR once and cached."""
        if self._stencil is None:
            self._stencil = _stencil_of(self)
        return self._stencil

    def quiet_level(self) -> float:
        """v below which no node can excite itself (0.8 x the lowest resting threshold)."""
        tin, tout = self.table[:, 0], self.table[:, 1]
        used = np.unique(self.code)
        r = tin[used] / tout[used]
        return float(0.8 * np.min(0.5 * (1.0 - np.sqrt(1.0 - 4.0 * r))))


def _stencil_of(model: TissueModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    padded = np.array(model.shape, dtype=np.int64) + 2
    strides = np.array([padded[1] * padded[2], padded[2], 1], dtype=np.int64)
    flat = (model.index.astype(np.int64) + 1) @ strides
    rows = np.repeat(np.arange(model.n), np.diff(model.indptr))
    step = model.index[model.indices].astype(np.int64) - model.index[rows]
    if np.any(np.abs(step) > 1):
        raise ValueError("The operator couples non-adjacent voxels.")
    code = (step + 1) @ np.array([9, 3, 1])  # 0..26, 13 = the centre
    used = np.unique(code[code != 13])
    column = np.full(27, -1, dtype=np.int64)
    column[used] = np.arange(len(used))
    column[13] = len(used)
    coef = np.zeros((model.n, len(used) + 1), dtype=np.float32)
    coef[rows, column[code]] = model.data
    dirs = np.stack([used // 9 - 1, (used // 3) % 3 - 1, used % 3 - 1], axis=1)
    offsets = dirs @ strides
    return flat.astype(np.int64), coef, offsets.astype(np.int64), int(np.prod(padded))


def _spacing(affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Voxel spacing (k, j, i) mm and the unit LPS direction of each array axis (rows k, j, i)."""
    cols = np.asarray(affine, dtype=np.float64)[:3, :3]
    spacing_ijk = np.linalg.norm(cols, axis=0)
    if np.any(spacing_ijk <= 0):
        raise ValueError("The grid's affine has a zero-length axis.")
    dirs_ijk = cols / spacing_ijk  # columns: unit directions of i, j, k
    gram = dirs_ijk.T @ dirs_ijk
    if np.max(np.abs(gram - np.eye(3))) > 1e-3:
        raise ValueError("The grid's axes are not orthogonal (sheared affine).")
    return spacing_ijk[::-1].copy(), dirs_ijk.T[::-1].copy()


def _tensors(
    codes: np.ndarray,
    nodes: np.ndarray,
    fibres: np.ndarray | None,
    dirs: np.ndarray,
    diffusivity: Mapping[int, tuple[float, float]],
) -> np.ndarray:
    """(n, 3, 3) diffusion tensors in array-axis coordinates (k, j, i)."""
    kk, jj, ii = nodes.T
    c = codes[kk, jj, ii]
    dl = np.zeros(len(nodes))
    dt = np.zeros(len(nodes))
    for code, (along, across) in diffusivity.items():
        dl[c == code] = along
        dt[c == code] = across
    tensors = np.zeros((len(nodes), 3, 3))
    if fibres is None:
        tensors[:, [0, 1, 2], [0, 1, 2]] = dl[:, None]
        return tensors
    f = np.asarray(fibres[kk, jj, ii], dtype=np.float64) @ dirs.T  # LPS -> (k, j, i) axes
    norm = np.linalg.norm(f, axis=1)
    ok = norm > 0.5  # a missing fibre (zero vector) -> isotropic d_l
    f[ok] /= norm[ok, None]
    iso = np.where(ok, dt, dl)
    aniso = np.where(ok, dl - dt, 0.0)
    tensors[:] = iso[:, None, None] * np.eye(3)
    tensors += aniso[:, None, None] * f[:, :, None] * f[:, None, :]
    return tensors


def _assemble(
    lookup: np.ndarray, nodes: np.ndarray, tensors: np.ndarray, spacing: np.ndarray
) -> sp.csr_matrix:
    """Finite-volume operator (see the module docstring) as float64 CSR."""
    n = len(nodes)
    shape = np.array(lookup.shape)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def neighbour(idx: np.ndarray, axis: int, step: int) -> np.ndarray:
        pos = nodes[idx].copy()
        pos[:, axis] += step
        inside = (pos[:, axis] >= 0) & (pos[:, axis] < shape[axis])
        out = np.full(len(idx), -1, dtype=np.int64)
        out[inside] = lookup[pos[inside, 0], pos[inside, 1], pos[inside, 2]]
        return out

    everyone = np.arange(n)
    # one-sided / central gradient stencil of each node along each axis: (v[plus]-v[minus])*w
    grad_plus, grad_minus, grad_w = [], [], []
    for b in range(3):
        up = neighbour(everyone, b, +1)
        down = neighbour(everyone, b, -1)
        steps = (up >= 0).astype(np.int64) + (down >= 0)
        plus = np.where(up >= 0, up, everyone)
        minus = np.where(down >= 0, down, everyone)
        w = np.where(steps > 0, 1.0 / np.maximum(steps, 1) / spacing[b], 0.0)
        grad_plus.append(plus)
        grad_minus.append(minus)
        grad_w.append(w)

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    for a in range(3):
        q = neighbour(everyone, a, +1)
        has = q >= 0
        p, q = everyone[has], q[has]
        dface = 0.5 * (tensors[p] + tensors[q])  # (m, 3, 3)
        # flux F = (D grad v)_a at the face; divergence: +F/h_a into p, -F/h_a into q
        w = dface[:, a, a] / (spacing[a] * spacing[a])
        for r_node, sign in ((p, 1.0), (q, -1.0)):
            add(r_node, q, sign * w)
            add(r_node, p, -sign * w)
        for b in range(3):
            if b == a:
                continue
            cb = dface[:, a, b] / spacing[a] * 0.5  # mean of the two voxels' gradients
            for src in (p, q):
                gw = cb * grad_w[b][src]
                for r_node, sign in ((p, 1.0), (q, -1.0)):
                    add(r_node, grad_plus[b][src], sign * gw)
                    add(r_node, grad_minus[b][src], -sign * gw)
    if not rows:
        return sp.csr_matrix((n, n))
    mat = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsr()
    mat.sum_duplicates()
    mat.eliminate_zeros()
    mat.sort_indices()
    return mat


def stable_dt(mat: sp.csr_matrix, table: np.ndarray, code: np.ndarray) -> float:
    """Largest forward-Euler step allowed by a Gershgorin bound of the operator + reaction."""
    absrow = np.asarray(abs(mat).sum(axis=1)).ravel() if mat.shape[0] else np.zeros(1)
    lam = float(np.max(absrow, initial=0.0))  # >= spectral radius of the operator
    lam += float(np.max(1.0 / table[np.unique(code), 0], initial=0.0))  # |dI/dv| <= 1/tau_in
    return 2.0 / lam if lam > 0 else np.inf


def build_model(
    codes: np.ndarray,
    affine: np.ndarray,
    fibres: np.ndarray | None,
    cells: Mapping[int, CellParams],
    diffusivity: Mapping[int, tuple[float, float]],
    dt_ms: float | None = None,
) -> TissueModel:
    """Discretise a tissue-code grid [k, j, i] (codes in `cells` and `diffusivity` conduct).

    fibres: float32 [k, j, i, 3] unit vectors in LPS, or None (isotropic, d_long used).
    dt_ms: None -> DEFAULT_DT_MS, lowered to SAFETY x the stability bound when needed.
    """
    codes = np.asarray(codes)
    if codes.ndim != 3:
        raise ValueError("codes must be a 3D grid [k, j, i].")
    missing = set(cells) ^ set(diffusivity)
    if missing - {0}:
        raise ValueError(f"Codes {sorted(missing)} need both cell parameters and diffusivity.")
    conducting_codes = sorted(c for c in cells if c != 0)
    conducting = np.isin(codes, conducting_codes)
    nodes = np.argwhere(conducting).astype(np.int64)
    lookup = np.full(codes.shape, -1, dtype=np.int64)
    lookup[tuple(nodes.T)] = np.arange(len(nodes))
    spacing, dirs = _spacing(affine)
    tensors = _tensors(codes, nodes, fibres, dirs, diffusivity)
    mat = _assemble(lookup, nodes, tensors, spacing)
    table = np.zeros((max(conducting_codes, default=0) + 1, 5))
    table[:, :2] = 1.0  # unused rows: harmless finite values
    table[:, 2:4] = 1.0
    for c in conducting_codes:
        p = cells[c]
        table[c] = (p.tau_in, p.tau_out, p.tau_open, p.tau_close, p.v_gate)
    code = codes[tuple(nodes.T)].astype(np.uint8)
    limit = SAFETY * stable_dt(mat, table, code)
    dt = DEFAULT_DT_MS if dt_ms is None else float(dt_ms)
    if dt_ms is None and dt > limit:
        dt = float(limit)
    elif dt > limit / SAFETY:
        raise ValueError(f"dt {dt} ms is above the stability bound {limit / SAFETY:.3f} ms.")
    return TissueModel(
        index=nodes.astype(np.int32),
        shape=tuple(int(s) for s in codes.shape),
        affine=np.asarray(affine, dtype=np.float64),
        indptr=mat.indptr.astype(np.int64),
        indices=mat.indices.astype(np.int32),
        data=mat.data.astype(np.float64),
        code=code,
        table=table,
        dt_ms=dt,
        spacing=spacing,
    )


@dataclass
class Stimulus:
    """A current (dv/dt, 1/ms) into `nodes` during [start_ms, start_ms + duration_ms).

    On the 1 mm grid a patch of radius >= 2 mm is needed to excite (a single node is
    drained by its neighbours): use TissueModel.nodes_within.
    """

    nodes: np.ndarray
    start_ms: float
    duration_ms: float = 2.0
    strength: float = 0.5


@dataclass
class State:
    """Copyable checkpoint of the tissue: v, h per node and the time."""

    v: np.ndarray
    h: np.ndarray
    t_ms: float = 0.0

    def copy(self) -> State:
        return State(self.v.copy(), self.h.copy(), float(self.t_ms))


def resting_state(model: TissueModel, t_ms: float = 0.0) -> State:
    """v = 0, h = 1 (fully recovered) everywhere."""
    return State(np.zeros(model.n, np.float32), np.ones(model.n, np.float32), float(t_ms))


@dataclass
class Recording:
    """What run() collected (times in ms on the state's clock)."""

    first_activation: np.ndarray  # (n,) first activation during this run, nan if none
    last_activation: np.ndarray  # (n,) nan never
    activation_count: np.ndarray  # (n,) int32
    probe_nodes: np.ndarray
    probe_times: list[np.ndarray]
    snapshot_nodes: np.ndarray
    snapshot_times: np.ndarray  # (T,)
    snapshots: np.ndarray  # (T, n_snap) float32
    t_start_ms: float
    t_end_ms: float  # where the run stopped
    stopped_quiet: bool  # stopped early because the tissue was at rest

    def activation_times(self, node: int) -> np.ndarray:
        """Every activation time of a probe node during the run."""
        where = np.flatnonzero(self.probe_nodes == node)
        if len(where) == 0:
            raise KeyError(f"Node {node} was not a probe node of this run.")
        return self.probe_times[int(where[0])]


def transfer_state(src: TissueModel, state: State, dst: TissueModel) -> State:
    """A state of `dst` (same grid): nodes of both models keep their v, h; others rest."""
    if src.shape != dst.shape:
        raise ValueError("The two models are on different grids.")
    lookup = np.full(src.shape, -1, dtype=np.int64)
    lookup[src.index[:, 0], src.index[:, 1], src.index[:, 2]] = np.arange(src.n)
    where = lookup[dst.index[:, 0], dst.index[:, 1], dst.index[:, 2]]
    out = resting_state(dst, state.t_ms)
    both = where >= 0
    out.v[both] = state.v[where[both]]
    out.h[both] = state.h[where[both]]
    return out


def activation_map(model: TissueModel, times: np.ndarray) -> np.ndarray:
    """Per-node times as a float32 grid [k, j, i] (nan outside the tissue or never)."""
    return model.grid_values(times)


@dataclass
class _Stims:
    nodes: np.ndarray  # int64 concatenated
    ptr: np.ndarray  # int64 (m + 1,)
    start: np.ndarray  # float64 (m,)
    end: np.ndarray
    amp: np.ndarray

    @classmethod
    def of(cls, stimuli: Sequence[Stimulus], n: int) -> _Stims:
        lists = [np.asarray(s.nodes, dtype=np.int64).ravel() for s in stimuli]
        for nodes in lists:
            if len(nodes) and (nodes.min() < 0 or nodes.max() >= n):
                raise ValueError("A stimulus names a node outside the model.")
        ptr = np.zeros(len(lists) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(x) for x in lists])
        return cls(
            nodes=np.concatenate(lists) if lists else np.zeros(0, np.int64),
            ptr=ptr,
            start=np.array([s.start_ms for s in stimuli], dtype=np.float64),
            end=np.array([s.start_ms + s.duration_ms for s in stimuli], dtype=np.float64),
            amp=np.array([s.strength for s in stimuli], dtype=np.float64),
        )


def _gate_factors(model: TissueModel, dt: float) -> tuple[np.ndarray, ...]:
    t = model.table
    return (1.0 / t[:, 0], 1.0 / t[:, 1], t[:, 4].copy(), np.exp(-dt / t[:, 2]),
            np.exp(-dt / t[:, 3]))  # fmt: skip


def _advance_numpy(
    model: TissueModel,
    state: State,
    n_steps: int,
    stims: _Stims,
    rec: _Acc,
) -> float:
    """Reference stepping (float64): returns max v after the last step."""
    dt = model.dt_ms
    mat = model.operator()
    inv_tin, inv_tout, vgate, e_open, e_close = (x[model.code] for x in _gate_factors(model, dt))
    v = state.v.astype(np.float64)
    h = state.h.astype(np.float64)
    t0 = state.t_ms
    for s in range(n_steps):
        t = t0 + s * dt
        dv = mat @ v + h * v * v * (1.0 - v) * inv_tin - v * inv_tout
        eps = 1e-9 * dt
        for q in range(len(stims.start)):
            if stims.start[q] - eps <= t < stims.end[q] - eps:
                np.add.at(dv, stims.nodes[stims.ptr[q] : stims.ptr[q + 1]], stims.amp[q])
        vn = v + dt * dv
        h = np.where(v < vgate, 1.0 - (1.0 - h) * e_open, h * e_close)
        up = np.flatnonzero((v < V_ACTIVATION) & (vn >= V_ACTIVATION))
        if len(up):
            ta = t + dt * (V_ACTIVATION - v[up]) / (vn[up] - v[up])
            rec.record(up, ta)
        v = vn
    state.v[:] = v
    state.h[:] = h
    state.t_ms = t0 + n_steps * dt
    return float(v.max(initial=0.0))


class _Acc:
    """Activation bookkeeping shared by both backends."""

    def __init__(self, n: int, probes: np.ndarray, capacity: int) -> None:
        self.first = np.full(n, np.nan)
        self.last = np.full(n, np.nan)
        self.count = np.zeros(n, np.int32)
        self.probe_slot = np.full(n, -1, np.int32)
        self.probe_slot[probes] = np.arange(len(probes), dtype=np.int32)
        self.probe_times = np.full((len(probes), max(capacity, 1)), np.nan)
        self.probe_n = np.zeros(len(probes), np.int64)

    def record(self, nodes: np.ndarray, times: np.ndarray) -> None:
        fresh = self.count[nodes] == 0
        self.first[nodes[fresh]] = times[fresh]
        self.last[nodes] = times
        self.count[nodes] += 1
        slots = self.probe_slot[nodes]
        for slot, t in zip(slots[slots >= 0], times[slots >= 0], strict=True):
            if self.probe_n[slot] < self.probe_times.shape[1]:
                self.probe_times[slot, self.probe_n[slot]] = t
            self.probe_n[slot] += 1


def run(
    model: TissueModel,
    state: State,
    t_end_ms: float,
    stimuli: Sequence[Stimulus] = (),
    *,
    snapshot_nodes: np.ndarray | None = None,
    snapshot_ms: float = 5.0,
    probe_nodes: np.ndarray | None = None,
    stop_when_quiet: bool = True,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float, str], None] | None = None,
    backend: str = "numba",
) -> Recording:
    """Advance `state` in place to t_end_ms (or until quiet) and record activations.

    stop_when_quiet: stop at a ~5 ms boundary once every v is below the level where no node
    can excite itself and no stimulus is pending (state.t_ms says where it stopped).
    cancelled() is polled every ~5 ms of simulated time (raises Cancelled); progress
    (fraction, message) is called at most every 0.2 s of wall time.
    """
    if backend not in ("numba", "numpy"):
        raise ValueError(f"Unknown backend {backend!r}.")
    dt = model.dt_ms
    t_start = float(state.t_ms)
    total = max(0, int(np.floor((t_end_ms - t_start) / dt + 1e-6)))
    stims = _Stims.of(stimuli, model.n)
    probes = np.zeros(0, np.int64) if probe_nodes is None else np.asarray(probe_nodes, np.int64)
    snaps = (np.zeros(0, np.int64) if snapshot_nodes is None
             else np.asarray(snapshot_nodes, np.int64))  # fmt: skip
    capacity = int((t_end_ms - t_start) / 20.0) + 4  # activations are >= APD apart
    acc = _Acc(model.n, probes, capacity)
    snap_every = max(1, round(snapshot_ms / dt)) if len(snaps) else total + 1
    chunk = max(1, round(5.0 / dt))
    quiet = model.quiet_level()
    snap_t: list[float] = []
    snap_v: list[np.ndarray] = []
    if len(snaps):
        snap_t.append(state.t_ms)
        snap_v.append(state.v[snaps].astype(SNAP_DTYPE))
    last_report = time.monotonic()
    step = 0
    stopped_quiet = False
    kernel = _numba_kernel() if backend == "numba" else None
    while step < total:
        next_snap = (step // snap_every + 1) * snap_every
        todo = min(chunk, next_snap - step, total - step)
        if kernel is not None:
            vmax = _advance_numba(kernel, model, state, todo, stims, acc)
        else:
            vmax = _advance_numpy(model, state, todo, stims, acc)
        step += todo
        if len(snaps) and step % snap_every == 0:
            snap_t.append(state.t_ms)
            snap_v.append(state.v[snaps].astype(SNAP_DTYPE))
        if cancelled is not None and cancelled():
            raise Cancelled()
        if progress is not None and time.monotonic() - last_report >= 0.2:
            last_report = time.monotonic()
            progress(step / max(total, 1), f"{state.t_ms:.0f} of {t_end_ms:.0f} ms")
        if (stop_when_quiet and vmax < quiet
                and not np.any(stims.end > state.t_ms + 1e-9 * dt)):  # fmt: skip
            stopped_quiet = step < total
            break
    if progress is not None:
        progress(1.0, f"{state.t_ms:.0f} ms")
    n_probe = np.minimum(acc.probe_n, acc.probe_times.shape[1])
    return Recording(
        first_activation=acc.first,
        last_activation=acc.last,
        activation_count=acc.count,
        probe_nodes=probes,
        probe_times=[acc.probe_times[s, : n_probe[s]].copy() for s in range(len(probes))],
        snapshot_nodes=snaps,
        snapshot_times=np.asarray(snap_t, dtype=np.float64),
        snapshots=(np.stack(snap_v) if snap_v else np.zeros((0, len(snaps)), SNAP_DTYPE)),
        t_start_ms=t_start,
        t_end_ms=float(state.t_ms),
        stopped_quiet=stopped_quiet,
    )


_KERNEL = None


def _numba_kernel():
    """The compiled fused kernel (compiled on first use, cached on disk by numba)."""
    global _KERNEL
    if _KERNEL is None:
        from ._kernel import advance

        _KERNEL = advance
    return _KERNEL


def _advance_numba(
    kernel: Callable[..., float],
    model: TissueModel,
    state: State,
    n_steps: int,
    stims: _Stims,
    acc: _Acc,
) -> float:
    """Fused float32 stepping in numba: returns max v after the last step."""
    dt = model.dt_ms
    inv_tin, inv_tout, vgate, e_open, e_close = (
        x.astype(np.float32) for x in _gate_factors(model, dt)
    )
    flat, coef, offsets, size = model.stencil()
    grid = np.zeros(size, np.float32)
    grid[flat] = state.v
    scratch = np.zeros(size, np.float32)
    h = np.ascontiguousarray(state.h, dtype=np.float32)
    stim_buf = np.zeros(model.n, np.float32)
    vmax = kernel(
        n_steps, state.t_ms, dt, grid, scratch, h,
        flat, coef, offsets, model.code,
        inv_tin, inv_tout, vgate, e_open, e_close,
        stims.nodes, stims.ptr, stims.start, stims.end, stims.amp, stim_buf,
        acc.first, acc.last, acc.count, acc.probe_slot, acc.probe_times, acc.probe_n,
    )  # fmt: skip
    state.v[:] = grid[flat]  # in place, like the numpy path
    if h is not state.h:
        state.h[:] = h
    state.t_ms = state.t_ms + n_steps * dt
    return float(vmax)
