"""ten Tusscher–Panfilov 2006 human ventricular cell model, epicardial variant (TP06).

ten Tusscher KHWJ, Panfilov AV. Alternans and spiral breakup in a human ventricular tissue
model. Am J Physiol Heart Circ Physiol 2006;291:H1088-H1100 (equations and parameters of
its appendix and of ten Tusscher, Noble, Noble, Panfilov, Am J Physiol 2004;286:H1573,
tables 1-2, with the 2006 changes: subspace calcium, four-state RyR, f2 and fCass gates).
Re-derived from the published equations (the authors' C++ code and the CellML file of the
model follow the same formulation): currents in pA/pF, voltage in mV, time in ms,
concentrations in mM. Gates advance by Rush–Larsen (exact exponential for a frozen
voltage), concentrations by forward Euler with the rapid-buffering quadratic of the
original code, the RyR state by forward Euler.

The equations are written once, in plain numpy arithmetic without branches (branches are
products with 0/1 masks): `voltage_columns` holds every term that depends on V alone (gate
steady states and Rush–Larsen decays, voltage factors of the currents) and `cell_core` the
rest. The numba kernels read the voltage terms from a table (`voltage_table`, linear
interpolation every 0.01 mV) and call `cell_core` per node on scalars; the numpy reference
path (`cell_step`) evaluates the same two functions exactly on whole arrays.
"""

from __future__ import annotations

# ruff: noqa: N803, N806 (state names as in the published model (V, Cai, CaSR, ...))
import numba
import numpy as np
from numba.extending import register_jitable

# Physical constants (TP06 appendix): R in J/(K kmol) so that RT/F is in mV.
R_GAS, T_KELVIN, FARADAY = 8314.472, 310.0, 96485.3415
RTONF = R_GAS * T_KELVIN / FARADAY  # 26.71 mV
FRT = 1.0 / RTONF
# Cell geometry: capacitance (uF) and volumes (uL) of the 2006 model.
CAPACITANCE, V_C, V_SR, V_SS = 0.185, 0.016404, 0.001094, 0.00005468
K_O, NA_O, CA_O = 5.4, 140.0, 2.0  # extracellular concentrations, mM
# Maximal conductances (nS/pF) of the epicardial cell (TP06 table 1 / 2004 table 1).
G_NA, G_K1, G_TO, G_KR, G_KS = 14.838, 5.405, 0.294, 0.153, 0.392
G_CAL = 3.980e-5  # cm/(ms uF) (TP06: 0.0000398)
G_BNA, G_BCA, G_PCA, G_PK = 0.00029, 0.000592, 0.1238, 0.0146
P_KNA = 0.03
K_NACA, K_M_NAI, K_M_CA, K_SAT, GAMMA_NACA, ALPHA_NACA = 1000.0, 87.5, 1.38, 0.1, 0.35, 2.5
P_NAK, K_M_K, K_M_NA = 2.724, 1.0, 40.0
K_PCA = 0.0005
# Calcium handling (TP06 table 1).
V_MAXUP, K_UP, V_REL, V_LEAK, V_XFER = 0.006375, 0.00025, 0.102, 0.00036, 0.0038
K1P, K2P, K3, K4, EC_SR, MAX_SR, MIN_SR = 0.15, 0.045, 0.060, 0.005, 1.5, 2.5, 1.0
BUF_C, K_BUFC, BUF_SR, K_BUFSR, BUF_SS, K_BUFSS = 0.2, 0.001, 10.0, 0.3, 0.4, 0.00025

STATE_NAMES = ("V", "Xr1", "Xr2", "Xs", "m", "h", "j", "d", "f", "f2", "fCass", "s", "r",
               "Cai", "CaSR", "CaSS", "R_prime", "Nai", "Ki")  # fmt: skip
N_STATES = len(STATE_NAMES)
# Initial values: the epicardial steady state of the model's CellML file, which the
# Niederer et al. 2011 benchmark prescribes as the initial condition of every node.
INITIAL = (-85.23, 0.00621, 0.4712, 0.0095, 0.00172, 0.7444, 0.7045, 3.373e-5, 0.7888,
           0.9755, 0.9953, 0.999998, 2.42e-8, 0.000126, 3.64, 0.00036, 0.9073, 8.604,
           136.89)  # fmt: skip
# Single-cell stimulus of the authors' code: -52 pA/pF for 1 ms.
CELL_STIMULUS_PA_PF, CELL_STIMULUS_MS = -52.0, 1.0


def initial_state(n: int = 1) -> np.ndarray:
    """(N_STATES, n) float64 array of the initial state, one column per cell."""
    return np.repeat(np.asarray(INITIAL, dtype=np.float64)[:, None], n, axis=1)


GATES = ("m", "h", "j", "Xr1", "Xr2", "Xs", "r", "s", "d", "f", "f2")  # voltage-only gates
# Columns of `voltage_columns`: (steady state, exp(-dt/tau)) per gate, then four factors.
N_COLUMNS = 2 * len(GATES) + 6


def voltage_columns(V, dt):
    """Everything of the model that depends on V alone, as a tuple of N_COLUMNS values:
    for each gate of GATES its steady state and Rush–Larsen decay exp(-dt/tau), then the
    voltage factors of I_CaL (two), I_NaCa (two), I_NaK and I_pK. Scalars or arrays."""
    lo = (V < -40.0) * 1.0
    hi = 1.0 - lo
    # Each branch at -40 mV is evaluated with V clipped into its own range and masked, so
    # the discarded branch can neither overflow nor need a Python `if` (arrays and numba).
    v_lo = np.minimum(V, -40.0)
    v_hi = np.maximum(V, -40.0)
    m_tau = (1.0 / (1.0 + np.exp((-60.0 - V) / 5.0))) * (
        0.1 / (1.0 + np.exp((V + 35.0) / 5.0)) + 0.1 / (1.0 + np.exp((V - 50.0) / 200.0))
    )
    m_inf = 1.0 / (1.0 + np.exp((-56.86 - V) / 9.03)) ** 2
    hj_inf = 1.0 / (1.0 + np.exp((V + 71.55) / 7.43)) ** 2
    a_h = lo * 0.057 * np.exp(-(v_lo + 80.0) / 6.8)
    b_h = lo * (2.7 * np.exp(0.079 * v_lo) + 3.1e5 * np.exp(0.3485 * v_lo)) + hi * (
        0.77 / (0.13 * (1.0 + np.exp(-(v_hi + 10.66) / 11.1)))
    )
    a_j = lo * ((-25428.0 * np.exp(0.2444 * v_lo) - 6.948e-6 * np.exp(-0.04391 * v_lo))
                * (v_lo + 37.78) / (1.0 + np.exp(0.311 * (v_lo + 79.23))))  # fmt: skip
    b_j = lo * (0.02424 * np.exp(-0.01052 * v_lo) / (1.0 + np.exp(-0.1378 * (v_lo + 40.14))))
    b_j = b_j + hi * (0.6 * np.exp(0.057 * v_hi) / (1.0 + np.exp(-0.1 * (v_hi + 32.0))))
    xr1_tau = 450.0 / (1.0 + np.exp((-45.0 - V) / 10.0)) * 6.0 / (1.0 + np.exp((V + 30.0) / 11.5))
    xr2_tau = 3.0 / (1.0 + np.exp((-60.0 - V) / 20.0)) * 1.12 / (1.0 + np.exp((V - 60.0) / 20.0))
    xs_tau = 1400.0 / np.sqrt(1.0 + np.exp((5.0 - V) / 6.0)) / (1.0 + np.exp((V - 35.0) / 15.0))
    # Epicardial I_to gates.
    r_tau = 9.5 * np.exp(-((V + 40.0) ** 2) / 1800.0) + 0.8
    s_tau = 85.0 * np.exp(-((V + 45.0) ** 2) / 320.0) + 5.0 / (1.0 + np.exp((V - 20.0) / 5.0))
    d_tau = (1.4 / (1.0 + np.exp((-35.0 - V) / 13.0)) + 0.25) * 1.4 / (
        1.0 + np.exp((V + 5.0) / 5.0)
    ) + 1.0 / (1.0 + np.exp((50.0 - V) / 20.0))
    f_tau = (1102.5 * np.exp(-((V + 27.0) ** 2) / 225.0) + 200.0 / (1.0 + np.exp((13.0 - V) / 10.0))
             + 180.0 / (1.0 + np.exp((V + 30.0) / 10.0)) + 20.0)  # fmt: skip
    f2_tau = (600.0 * np.exp(-((V + 25.0) ** 2) / 170.0) + 31.0 / (1.0 + np.exp((25.0 - V) / 10.0))
              + 16.0 / (1.0 + np.exp((V + 30.0) / 10.0)))  # fmt: skip
    # I_CaL = G d f f2 fCass (cal_a CaSS - cal_b); (V - 15) / (exp(2 vf) - 1) has a
    # removable singularity at V = 15 mV: nudged off it.
    vf = (V - 15.0) * FRT
    vf = vf + (np.abs(vf) < 1e-7) * 1e-7
    e2 = np.exp(2.0 * vf)
    cal_b = 4.0 * vf * FARADAY / (e2 - 1.0)
    cal_a = 0.25 * e2 * cal_b
    cal_b = cal_b * CA_O
    evf = np.exp(GAMMA_NACA * V * FRT)
    evf1 = np.exp((GAMMA_NACA - 1.0) * V * FRT)
    nak = 1.0 / (1.0 + 0.1245 * np.exp(-0.1 * V * FRT) + 0.0353 * np.exp(-V * FRT))
    return (m_inf, np.exp(-dt / m_tau),
            hj_inf, np.exp(-dt * (a_h + b_h)),
            hj_inf, np.exp(-dt * (a_j + b_j)),
            1.0 / (1.0 + np.exp((-26.0 - V) / 7.0)), np.exp(-dt / xr1_tau),
            1.0 / (1.0 + np.exp((V + 88.0) / 24.0)), np.exp(-dt / xr2_tau),
            1.0 / (1.0 + np.exp((-5.0 - V) / 14.0)), np.exp(-dt / (xs_tau + 80.0)),
            1.0 / (1.0 + np.exp((20.0 - V) / 6.0)), np.exp(-dt / r_tau),
            1.0 / (1.0 + np.exp((V + 20.0) / 5.0)), np.exp(-dt / (s_tau + 3.0)),
            1.0 / (1.0 + np.exp((-8.0 - V) / 7.5)), np.exp(-dt / d_tau),
            1.0 / (1.0 + np.exp((V + 20.0) / 7.0)), np.exp(-dt / f_tau),
            0.67 / (1.0 + np.exp((V + 35.0) / 7.0)) + 0.33, np.exp(-dt / f2_tau),
            cal_a, cal_b,
            evf / (1.0 + K_SAT * evf1), evf1 / (1.0 + K_SAT * evf1),
            nak, 1.0 / (1.0 + np.exp((25.0 - V) / 5.98)))  # fmt: skip


TABLE_V_MIN, TABLE_V_MAX, TABLE_DV = -150.0, 150.0, 0.01


def voltage_table(dt: float) -> np.ndarray:
    """`voltage_columns` tabulated every TABLE_DV mV over [TABLE_V_MIN, TABLE_V_MAX]:
    (rows, N_COLUMNS) float64. Linear interpolation in it costs a few multiplications
    where the formulas cost ~60 exponentials per node and step (error < 1e-6 of each
    column: the tissue tests compare it with the exact formulas)."""
    n = round((TABLE_V_MAX - TABLE_V_MIN) / TABLE_DV) + 1
    v = TABLE_V_MIN + TABLE_DV * np.arange(n)
    return np.ascontiguousarray(np.stack(voltage_columns(v, dt), axis=1))


@register_jitable
def _lerp(row0, row1, w, q):
    """Column q interpolated between two table rows."""
    return row0[q] + w * (row1[q] - row0[q])


@register_jitable
def cell_core(V, row0, row1, w, Xr1, Xr2, Xs, m, h, j, d, f, f2, fCass, s, r, Cai, CaSR,
              CaSS, Rp, Nai, Ki, dt, i_stim):  # fmt: skip
    """One time step of every state but V, at the frozen voltage V (mV).

    The voltage-only quantities come as `row0 + w (row1 - row0)`, `row[q]` being column q
    of `voltage_columns`: two table rows and a weight in the numba kernels, or the exact
    columns (row0 = row1, w = 0) in the numpy path. Returns (I_ion, Xr1, Xr2, Xs, m, h,
    j, d, f, f2, fCass, s, r, Cai, CaSR, CaSS, R_prime, Nai, Ki): the total ionic current
    (pA/pF, stimulus excluded; dV/dt = -I_ion - i_stim) at the step's start and the states
    at its end. `i_stim` (pA/pF, negative depolarises) enters only the K+ balance, as in
    the authors' code.
    """
    # A tuple, not a list: no allocation per node in the compiled kernel.
    c = (
        _lerp(row0, row1, w, 0), _lerp(row0, row1, w, 1), _lerp(row0, row1, w, 2),
        _lerp(row0, row1, w, 3), _lerp(row0, row1, w, 4), _lerp(row0, row1, w, 5),
        _lerp(row0, row1, w, 6), _lerp(row0, row1, w, 7), _lerp(row0, row1, w, 8),
        _lerp(row0, row1, w, 9), _lerp(row0, row1, w, 10), _lerp(row0, row1, w, 11),
        _lerp(row0, row1, w, 12), _lerp(row0, row1, w, 13), _lerp(row0, row1, w, 14),
        _lerp(row0, row1, w, 15), _lerp(row0, row1, w, 16), _lerp(row0, row1, w, 17),
        _lerp(row0, row1, w, 18), _lerp(row0, row1, w, 19), _lerp(row0, row1, w, 20),
        _lerp(row0, row1, w, 21), _lerp(row0, row1, w, 22), _lerp(row0, row1, w, 23),
        _lerp(row0, row1, w, 24), _lerp(row0, row1, w, 25), _lerp(row0, row1, w, 26),
        _lerp(row0, row1, w, 27),
    )  # fmt: skip
    # Reversal potentials.
    e_k = RTONF * np.log(K_O / Ki)
    e_na = RTONF * np.log(NA_O / Nai)
    e_ks = RTONF * np.log((K_O + P_KNA * NA_O) / (Ki + P_KNA * Nai))
    e_ca = 0.5 * RTONF * np.log(CA_O / Cai)
    # Currents.
    i_na = G_NA * m * m * m * h * j * (V - e_na)
    i_cal = G_CAL * d * f * f2 * fCass * (c[22] * CaSS - c[23])
    i_to = G_TO * r * s * (V - e_k)
    i_kr = G_KR * np.sqrt(K_O / 5.4) * Xr1 * Xr2 * (V - e_k)
    i_ks = G_KS * Xs * Xs * (V - e_ks)
    a_k1 = 0.1 / (1.0 + np.exp(0.06 * (V - e_k - 200.0)))
    b_k1 = (3.0 * np.exp(0.0002 * (V - e_k + 100.0)) + np.exp(0.1 * (V - e_k - 10.0))) / (
        1.0 + np.exp(-0.5 * (V - e_k))
    )
    i_k1 = G_K1 * np.sqrt(K_O / 5.4) * a_k1 / (a_k1 + b_k1) * (V - e_k)
    i_naca = (K_NACA * (c[24] * Nai**3 * CA_O - c[25] * NA_O**3 * Cai * ALPHA_NACA)
              / ((K_M_NAI**3 + NA_O**3) * (K_M_CA + CA_O)))  # fmt: skip
    i_nak = P_NAK * K_O / (K_O + K_M_K) * Nai / (Nai + K_M_NA) * c[26]
    i_pca = G_PCA * Cai / (K_PCA + Cai)
    i_pk = G_PK * (V - e_k) * c[27]
    i_bna = G_BNA * (V - e_na)
    i_bca = G_BCA * (V - e_ca)
    i_ion = i_na + i_cal + i_to + i_kr + i_ks + i_k1 + i_naca + i_nak + i_pca + i_pk
    i_ion = i_ion + i_bna + i_bca

    # Calcium dynamics: four-state RyR (reduced to R' and a quasi-steady open state).
    k_casr = MAX_SR - (MAX_SR - MIN_SR) / (1.0 + (EC_SR / CaSR) ** 2)
    k1 = K1P / k_casr
    k2 = K2P * k_casr
    Rp_new = Rp + dt * (K4 * (1.0 - Rp) - k2 * CaSS * Rp)
    o_open = k1 * CaSS * CaSS * Rp / (K3 + k1 * CaSS * CaSS)
    j_rel = V_REL * o_open * (CaSR - CaSS)
    j_leak = V_LEAK * (CaSR - Cai)
    j_up = V_MAXUP / (1.0 + K_UP * K_UP / (Cai * Cai))
    j_xfer = V_XFER * (CaSS - Cai)
    # Free calcium after rapid buffering: the positive root of the buffer quadratic.
    ca_csqn = BUF_SR * CaSR / (CaSR + K_BUFSR)
    dca = dt * (j_up - j_rel - j_leak)
    b = BUF_SR - ca_csqn - dca - CaSR + K_BUFSR
    cc = K_BUFSR * (ca_csqn + dca + CaSR)
    CaSR_new = (np.sqrt(b * b + 4.0 * cc) - b) / 2.0
    ca_ssbuf = BUF_SS * CaSS / (CaSS + K_BUFSS)
    dca = dt * (-j_xfer * V_C / V_SS + j_rel * V_SR / V_SS
                - i_cal * CAPACITANCE / (2.0 * V_SS * FARADAY))  # fmt: skip
    b = BUF_SS - ca_ssbuf - dca - CaSS + K_BUFSS
    cc = K_BUFSS * (ca_ssbuf + dca + CaSS)
    CaSS_new = (np.sqrt(b * b + 4.0 * cc) - b) / 2.0
    ca_buf = BUF_C * Cai / (Cai + K_BUFC)
    dca = dt * (-(i_bca + i_pca - 2.0 * i_naca) * CAPACITANCE / (2.0 * V_C * FARADAY)
                - (j_up - j_leak) * V_SR / V_C + j_xfer)  # fmt: skip
    b = BUF_C - ca_buf - dca - Cai + K_BUFC
    cc = K_BUFC * (ca_buf + dca + Cai)
    Cai_new = (np.sqrt(b * b + 4.0 * cc) - b) / 2.0
    Nai_new = Nai - dt * (i_na + i_bna + 3.0 * i_nak + 3.0 * i_naca) * CAPACITANCE / (V_C * FARADAY)
    Ki_new = Ki - dt * (i_stim + i_k1 + i_to + i_kr + i_ks - 2.0 * i_nak + i_pk) * (
        CAPACITANCE / (V_C * FARADAY)
    )
    # Gates: Rush–Larsen, inf - (inf - g) exp(-dt / tau), with the decay from the columns.
    q = (CaSS / 0.05) ** 2
    fcass_inf = 0.6 / (1.0 + q) + 0.4
    fCass_new = fcass_inf - (fcass_inf - fCass) * np.exp(-dt / (80.0 / (1.0 + q) + 2.0))
    return (i_ion,
            c[6] - (c[6] - Xr1) * c[7], c[8] - (c[8] - Xr2) * c[9],
            c[10] - (c[10] - Xs) * c[11], c[0] - (c[0] - m) * c[1],
            c[2] - (c[2] - h) * c[3], c[4] - (c[4] - j) * c[5],
            c[16] - (c[16] - d) * c[17], c[18] - (c[18] - f) * c[19],
            c[20] - (c[20] - f2) * c[21], fCass_new,
            c[14] - (c[14] - s) * c[15], c[12] - (c[12] - r) * c[13],
            Cai_new, CaSR_new, CaSS_new, Rp_new, Nai_new, Ki_new)  # fmt: skip


def cell_step(V, *states_dt_stim):
    """Exact (untabulated) step on scalars or arrays: `cell_core` with the columns of
    `voltage_columns` evaluated at V. Arguments: V, the 18 other states in STATE_NAMES
    order, dt, i_stim."""
    *states, dt, i_stim = states_dt_stim
    cols = voltage_columns(np.asarray(V, dtype=np.float64), dt)
    return cell_core(V, cols, cols, 0.0, *states, dt, i_stim)


@numba.njit(inline="always")
def table_row(table, V):  # pragma: no cover - compiled
    """(row index, weight) of V in a `voltage_table` (clamped to its range)."""
    u = (V - TABLE_V_MIN) * (1.0 / TABLE_DV)
    if u < 0.0:
        u = 0.0
    top = table.shape[0] - 1.000001
    if u > top:
        u = top
    i = int(u)
    return i, u - i


# The compiled scalar form, called per node by the numba kernels (numba: the model costs
# ~20 table look-ups and ~10 exponentials per node and step, which numpy cannot do at
# 10^5 nodes x 10^4 steps without gigabytes of temporaries). Nothing here is cached on
# disk: the package is imported under two names (meditwin_twins.* and, in pytest, twins.*)
# and numba's cache then fails to load across them; compiling takes ~1.5 s per process.
cell_core_numba = numba.njit(fastmath={"contract", "arcp", "afn", "reassoc"})(cell_core)


@numba.njit
def _pace(y, table, dt, n_steps, bcl, stim_ms, stim_amp, every):  # pragma: no cover
    """Advance one cell `n_steps` steps, paced every `bcl` ms from t = 0; V every `every`."""
    out = np.empty(n_steps // every + 1)
    out[0] = y[0]
    for n in range(n_steps):
        t = n * dt
        i_stim = stim_amp if (t % bcl) < stim_ms - 1e-9 else 0.0
        row, w = table_row(table, y[0])
        res = cell_core_numba(y[0], table[row], table[row + 1], w, y[1], y[2], y[3], y[4],
                              y[5], y[6], y[7], y[8], y[9], y[10], y[11], y[12], y[13],
                              y[14], y[15], y[16], y[17], y[18], dt, i_stim)  # fmt: skip
        y[0] = y[0] - dt * (res[0] + i_stim)
        for k in range(1, N_STATES):
            y[k] = res[k]
        if (n + 1) % every == 0:
            out[(n + 1) // every] = y[0]
    return out


def pace_cell(bcl_ms: float = 1000.0, beats: int = 5, dt_ms: float = 0.01,
              sample_ms: float = 0.1, state: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Pace one epicardial cell (-52 pA/pF, 1 ms) every `bcl_ms` for `beats` beats.

    Returns (t (T,) ms, V (T,) mV sampled every `sample_ms`, final state (N_STATES,)).
    """
    y = np.array(INITIAL if state is None else state, dtype=np.float64)
    every = max(1, round(sample_ms / dt_ms))
    n_steps = round(beats * bcl_ms / dt_ms)
    v = _pace(
        y,
        voltage_table(dt_ms),
        dt_ms,
        n_steps,
        bcl_ms,
        CELL_STIMULUS_MS,
        CELL_STIMULUS_PA_PF,
        every,
    )
    return np.arange(v.size) * every * dt_ms, v, y


def action_potential(t: np.ndarray, v: np.ndarray, start_ms: float, bcl_ms: float
                     ) -> dict[str, float]:  # fmt: skip
    """Resting potential, peak, amplitude and APD90 (ms) of the beat starting at `start_ms`.

    Rest = V just before the stimulus; APD90 from the upstroke (max dV/dt) to the
    repolarisation below rest + 10 % of the amplitude (linear interpolation).
    """
    sel = (t >= start_ms - 1.0) & (t < start_ms + bcl_ms - 1.0)
    tt, vv = t[sel], v[sel]
    rest = float(vv[0])
    peak = float(vv.max())
    up = int(np.argmax(np.diff(vv)))
    t_up = float(tt[up])
    level = rest + 0.1 * (peak - rest)
    ipk = int(np.argmax(vv))
    below = np.nonzero(vv[ipk:] < level)[0]
    if below.size == 0:
        return {"rest_mV": rest, "peak_mV": peak, "amplitude_mV": peak - rest,
                "apd90_ms": float("nan")}  # fmt: skip
    k = ipk + int(below[0])
    frac = (vv[k - 1] - level) / (vv[k - 1] - vv[k])
    t90 = float(tt[k - 1] + frac * (tt[k] - tt[k - 1]))
    return {"rest_mV": rest, "peak_mV": peak, "amplitude_mV": peak - rest,
            "apd90_ms": t90 - t_up}  # fmt: skip
