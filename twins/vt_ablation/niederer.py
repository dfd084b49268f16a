"""The Niederer et al. 2011 N-version benchmark slab, solved with the TP06 epicardial cell.

Niederer SA, Kerfoot E, Benson AP, et al. Verification of cardiac tissue electrophysiology
simulators using an N-version benchmark. Phil Trans R Soc A 2011;369:4331-4351
(doi:10.1098/rsta.2011.0139). The set-up below is the paper's section 2 (the numbers were
checked against two independent public copies of the set-up: the fenicsx/cbcbeat "beat"
example, which cites "page 4339 of Niederer benchmark" for the conductivities, and the
cardiacFoam tutorial NiedererEtAl2012):

- cuboid 20 x 7 x 3 mm, fibres along the long (x) axis;
- monodomain; intra/extracellular conductivities along 0.17/0.62 S/m, across
  0.019/0.24 S/m, combined harmonically sigma_i sigma_e / (sigma_i + sigma_e);
- surface-to-volume ratio 140 /mm, membrane capacitance 0.01 uF/mm^2;
- stimulus 50 000 uA/cm^3 for 2 ms from t = 0 in the 1.5 x 1.5 x 1.5 mm cube at the
  corner (0, 0, 0);
- activation time: the first time V crosses 0 mV;
- grids dx 0.5 / 0.2 / 0.1 mm with dt 0.05 / 0.01 / 0.005 ms;
- P1 = (0, 0, 0) the stimulated corner, P8 = (20, 7, 3) the far corner, P9 the centre.

Discretisation here: vertex-centred finite differences (a node on every corner, so P1..P9
are nodes), the 7-point stencil of the axis-aligned diagonal conductivity tensor, no-flux
boundaries by mirror nodes, forward Euler for V and the cell step of tp06.py (Rush–Larsen
gates), the stimulus on every node inside the cube. Arrays are indexed [k, j, i] = (z, y, x).

Two backends: "numba" (one fused per-node kernel: stencil + cell model; numba because
~440 000 nodes x 10^4 steps of a 19-variable model is out of reach of numpy on one core)
and "numpy" (array slicing and the same `cell_step` on whole arrays: the readable
reference the tests compare the kernel with on a tiny slab).
"""

from __future__ import annotations

# ruff: noqa: N803, N806 (V and S: voltage and state arrays, as in tp06)
import time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from . import tp06

SLAB_MM = (20.0, 7.0, 3.0)  # x (fibres), y, z
SIGMA_I = (0.17, 0.019)  # S/m = mS/mm, (along, across) fibres
SIGMA_E = (0.62, 0.24)
CHI_PER_MM = 140.0
CM_UF_PER_MM2 = 0.01
STIM_UA_PER_CM3, STIM_MS, STIM_CUBE_MM = 50_000.0, 2.0, 1.5
POINTS_MM = {
    "P1": (0.0, 0.0, 0.0), "P2": (0.0, 7.0, 0.0), "P3": (20.0, 0.0, 0.0),
    "P4": (20.0, 7.0, 0.0), "P5": (0.0, 0.0, 3.0), "P6": (0.0, 7.0, 3.0),
    "P7": (20.0, 0.0, 3.0), "P8": (20.0, 7.0, 3.0), "P9": (10.0, 3.5, 1.5),
}  # fmt: skip
# The paper's time step for each grid (its finest dt with each dx is also used by codes).
PAPER_DT_MS = {0.5: 0.05, 0.2: 0.01, 0.1: 0.005}


def diffusivities() -> tuple[float, float]:
    """Monodomain diffusivities (along, across fibres) in mm^2/ms: sigma / (chi Cm)."""
    out = []
    for si, se in zip(SIGMA_I, SIGMA_E, strict=True):
        sigma = si * se / (si + se)  # mS/mm
        out.append(sigma / (CHI_PER_MM * CM_UF_PER_MM2))  # mS/uF mm^2 = mm^2/ms
    return out[0], out[1]


def stimulus_mv_per_ms() -> float:
    """The benchmark stimulus as a rate of depolarisation: I / (chi Cm) in mV/ms."""
    return STIM_UA_PER_CM3 / 1000.0 / (CHI_PER_MM * CM_UF_PER_MM2)  # uA/mm^3 / (uF/mm^3)


def stable_dt_ms(dx_mm: float) -> float:
    """Forward-Euler stability limit of the diffusion step, dx^2 / (2 (D_l + 2 D_t))."""
    d_l, d_t = diffusivities()
    return dx_mm * dx_mm / (2.0 * (d_l + 2.0 * d_t))


@dataclass
class SlabResult:
    """Activation times (ms) at P1..P9 (nan: not activated), the map when asked for."""

    dx_mm: float
    dt_ms: float
    points_ms: dict[str, float]
    activation_ms: np.ndarray | None  # [k, j, i] float64, nan never activated
    t_end_ms: float
    steps: int
    nodes: int
    wall_s: float
    backend: str


# Not cached on disk: numba's cache would not notice a change of tp06.py, whose cell model
# is compiled into this kernel, and fails across the package's two import names.
@numba.njit
def _advance(V, Vn, S, act, stim, table, t0, dt, n_steps, cx, cy, cz, stim_rate, stim_end):
    """`n_steps` explicit steps of the fused stencil + TP06 kernel (voltage-only terms from
    `table`, a tp06.voltage_table); returns the V buffer that holds the latest voltage (V
    and Vn swap roles every step)."""  # pragma: no cover
    nz, ny, nx = V.shape
    for n in range(n_steps):
        t = t0 + n * dt
        stim_on = t < stim_end - 1e-9
        for k in range(nz):
            km = k - 1 if k > 0 else min(1, nz - 1)
            kp = k + 1 if k < nz - 1 else max(nz - 2, 0)
            for j in range(ny):
                jm = j - 1 if j > 0 else min(1, ny - 1)
                jp = j + 1 if j < ny - 1 else max(ny - 2, 0)
                for i in range(nx):
                    im = i - 1 if i > 0 else min(1, nx - 1)
                    ip = i + 1 if i < nx - 1 else max(nx - 2, 0)
                    v = V[k, j, i]
                    lap = (cx * (V[k, j, ip] + V[k, j, im] - 2.0 * v)
                           + cy * (V[k, jp, i] + V[k, jm, i] - 2.0 * v)
                           + cz * (V[kp, j, i] + V[km, j, i] - 2.0 * v))  # fmt: skip
                    s = S[k, j, i]
                    row, w = tp06.table_row(table, v)
                    res = tp06.cell_core_numba(
                        v, table[row], table[row + 1], w, s[0], s[1], s[2], s[3], s[4],
                        s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13], s[14],
                        s[15], s[16], s[17], dt, 0.0
                    )  # fmt: skip
                    for q in range(18):
                        s[q] = res[q + 1]
                    dv = lap - res[0]
                    if stim_on and stim[k, j, i]:
                        dv += stim_rate
                    vn = v + dt * dv
                    Vn[k, j, i] = vn
                    if v < 0.0 <= vn and np.isnan(act[k, j, i]):
                        act[k, j, i] = t + dt * (-v) / (vn - v)
        V, Vn = Vn, V
    return V


def _advance_numpy(V, S, act, stim, t0, dt, n_steps, cx, cy, cz, stim_rate, stim_end):
    """The numpy reference of `_advance`: same scheme, whole-array operations."""
    for n in range(n_steps):
        t = t0 + n * dt
        p = np.pad(V, 1, mode="reflect")  # mirror nodes: no flux
        c = p[1:-1, 1:-1, 1:-1]
        lap = (cx * (p[1:-1, 1:-1, 2:] + p[1:-1, 1:-1, :-2] - 2.0 * c)
               + cy * (p[1:-1, 2:, 1:-1] + p[1:-1, :-2, 1:-1] - 2.0 * c)
               + cz * (p[2:, 1:-1, 1:-1] + p[:-2, 1:-1, 1:-1] - 2.0 * c))  # fmt: skip
        res = tp06.cell_step(V, *[S[..., q] for q in range(18)], dt, 0.0)  # exact formulas
        for q in range(18):
            S[..., q] = res[q + 1]
        dv = lap - res[0]
        if t < stim_end - 1e-9:
            dv = dv + stim * stim_rate
        vn = V + dt * dv
        hit = (V < 0.0) & (vn >= 0.0) & np.isnan(act)
        act[hit] = t + dt * (-V[hit]) / (vn[hit] - V[hit])
        V = vn
    return V


def sample(field: np.ndarray, point_mm: tuple[float, float, float], dx_mm: float) -> float:
    """Trilinear value of a [k, j, i] node field at an (x, y, z) point in mm (P9 lies
    between nodes when dx = 0.2 mm)."""
    value = 0.0
    corners = []
    for axis, c in enumerate(reversed(point_mm)):  # (z, y, x)
        u = c / dx_mm
        lo = min(int(np.floor(u + 1e-9)), field.shape[axis] - 1)
        w = u - lo if lo + 1 < field.shape[axis] else 0.0
        corners.append(((lo, 1.0 - w), (min(lo + 1, field.shape[axis] - 1), w)))
    for kz, wz in corners[0]:
        for jy, wy in corners[1]:
            for ix, wx in corners[2]:
                if wz * wy * wx > 0.0:
                    value += wz * wy * wx * field[kz, jy, ix]
    return float(value)


def grid_shape(dx_mm: float, size_mm: tuple[float, float, float] = SLAB_MM
               ) -> tuple[int, int, int]:  # fmt: skip
    """(nz, ny, nx) nodes of the vertex-centred grid; each length must be a multiple of dx."""
    counts = []
    for length in size_mm:
        cells = length / dx_mm
        if abs(cells - round(cells)) > 1e-6 or round(cells) < 1:
            raise ValueError(f"{length} mm is not a whole number of {dx_mm} mm steps")
        counts.append(round(cells) + 1)
    return counts[2], counts[1], counts[0]


def run_slab(dx_mm: float, dt_ms: float | None = None, *,
             size_mm: tuple[float, float, float] = SLAB_MM, t_max_ms: float = 250.0,
             keep_map: bool = False, backend: str = "numba", chunk_ms: float = 1.0,
             progress: Callable[[float, str], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> SlabResult:  # fmt: skip
    """Solve the benchmark on a grid of spacing `dx_mm` with step `dt_ms` (default: the
    paper's dt for that dx) until every node has activated (or `t_max_ms`).

    `size_mm` shrinks the slab for tests (points outside it are dropped); `keep_map`
    returns the activation map [k, j, i]. Raises ValueError for an unstable dt.
    """
    if dt_ms is None:
        dt_ms = PAPER_DT_MS.get(round(dx_mm, 6), min(0.01, 0.5 * stable_dt_ms(dx_mm)))
    if dt_ms >= stable_dt_ms(dx_mm):
        raise ValueError(f"dt {dt_ms} ms is unstable at dx {dx_mm} mm "
                         f"(limit {stable_dt_ms(dx_mm):.4f} ms)")  # fmt: skip
    if backend not in ("numba", "numpy"):
        raise ValueError(f"unknown backend {backend!r}")
    shape = grid_shape(dx_mm, size_mm)
    nz, ny, nx = shape
    z, y, x = np.meshgrid(*(np.arange(n) * dx_mm for n in shape), indexing="ij")
    eps = 1e-6
    stim = (x <= STIM_CUBE_MM + eps) & (y <= STIM_CUBE_MM + eps) & (z <= STIM_CUBE_MM + eps)
    d_l, d_t = diffusivities()
    cx, cy, cz = d_l / dx_mm**2, d_t / dx_mm**2, d_t / dx_mm**2
    init = np.asarray(tp06.INITIAL, dtype=np.float64)
    V = np.full(shape, init[0])
    S = np.empty((*shape, 18))
    S[...] = init[1:]
    act = np.full(shape, np.nan)
    rate = stimulus_mv_per_ms()
    per_chunk = max(1, round(chunk_ms / dt_ms))
    total = round(t_max_ms / dt_ms)
    start, steps = time.perf_counter(), 0
    if backend == "numba":
        Vn = np.empty_like(V)
        table = tp06.voltage_table(dt_ms)
    while steps < total:
        n = min(per_chunk, total - steps)
        t0 = steps * dt_ms
        if backend == "numba":
            latest = _advance(V, Vn, S, act, stim, table, t0, dt_ms, n, cx, cy, cz, rate,
                              STIM_MS)  # fmt: skip
            if latest is not V:
                V, Vn = latest, V
        else:
            V = _advance_numpy(V, S, act, stim, t0, dt_ms, n, cx, cy, cz, rate, STIM_MS)
        steps += n
        if not np.isnan(act).any():
            break
        if progress is not None:
            done = 1.0 - np.isnan(act).mean()
            progress(done, f"Niederer slab dx {dx_mm} mm: {steps * dt_ms:.0f} ms simulated")
        if cancelled is not None and cancelled():
            break
    points = {
        name: sample(act, point, dx_mm)
        for name, point in POINTS_MM.items()
        if all(c <= s + 1e-9 for c, s in zip(point, size_mm, strict=True))
    }
    return SlabResult(dx_mm=dx_mm, dt_ms=dt_ms, points_ms=points,
                      activation_ms=act if keep_map else None, t_end_ms=steps * dt_ms,
                      steps=steps, nodes=nx * ny * nz, wall_s=time.perf_counter() - start,
                      backend=backend)  # fmt: skip
