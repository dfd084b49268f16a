"""Closed-loop lumped (0D) circulation of a newborn after the Norwood operation.

Units inside this module: mmHg, mL, s (the units of every lumped-model parameter table;
the twin converts at its edges). Nine elastic compartments and one inertive shunt:

    atrium -AV valve-> ventricle -neo-aortic valve-> aorta -> upper-body arteries -> upper-
    body veins -> atrium; aorta -> lower-body arteries -> lower-body veins -> atrium;
    aorta -> coronary bed -> atrium; pulmonary arteries -> pulmonary veins -> atrium;
    shunt into the pulmonary arteries from the upper-body arteries (modified Blalock-
    Taussig) or from the ventricle (right ventricle to pulmonary artery, Sano).

Chambers follow a time-varying elastance, P = E(t) (V - V0), E(t) = Emin + (Emax - Emin)
a(t), with the "double Hill" activation a(t) of Stergiopulos et al. (Am J Physiol 1996).
Valves are ideal diodes with a forward resistance. The shunt obeys
    L dQ/dt = dP - R Q - K rho / (2 A^2) |Q| Q
(Poiseuille friction plus a lumped loss coefficient for entrance, exit and anastomoses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import odeint

# state vector: volumes of the compartments, then the shunt flow
ATRIUM, VENTRICLE, AORTA, UB_ART, UB_VEN, LB_ART, LB_VEN, PULM_ART, PULM_VEN, SHUNT = range(10)
COMPARTMENTS = ("atrium", "ventricle", "aorta", "upper-body arteries", "upper-body veins",
                "lower-body arteries", "lower-body veins", "pulmonary arteries",
                "pulmonary veins")  # fmt: skip
MMHG_PER_PA = 1.0 / 133.322
BLOOD_DENSITY = 1060.0  # kg/m^3


@dataclass(frozen=True)
class Circuit:
    """Every lumped parameter of one patient and scenario (mmHg, mL, s)."""

    period_s: float
    ventricle_emax: float  # mmHg/mL
    ventricle_emin: float
    ventricle_v0: float  # mL
    atrium_emax: float
    atrium_emin: float
    atrium_v0: float
    compliance: tuple[float, ...]  # mL/mmHg of AORTA..PULM_VEN (7 vessels)
    unstressed: tuple[float, ...]  # mL of AORTA..PULM_VEN
    r_av: float  # mmHg s/mL, AV valve forward resistance
    r_aortic_valve: float
    r_arch_ub: float  # aorta -> upper-body arteries
    r_desc_aorta: float  # aorta -> lower-body arteries
    r_ub: float  # upper-body arterioles/capillaries
    r_svc: float
    r_lb: float
    r_ivc: float
    r_coronary: float
    r_pulm: float  # pulmonary arterioles (PVR)
    r_pulm_ven: float
    shunt_from_ventricle: bool  # Sano (RV-PA conduit) instead of a systemic-pulmonary shunt
    shunt_r: float  # mmHg s/mL, Poiseuille
    shunt_k: float  # mmHg s^2/mL^2, kinetic loss K rho / (2 A^2)
    shunt_l: float  # mmHg s^2/mL, inertance rho l / A


def activation(t: np.ndarray | float, period: float, onset: float, tau1: float, tau2: float,
               m1: float, m2: float) -> np.ndarray | float:  # fmt: skip
    """Double-Hill activation, normalised to peak 1 (Stergiopulos, Meister, Westerhof 1996).

    `onset`, `tau1`, `tau2` are fractions of the period.
    """
    phase = np.mod(np.asarray(t, float) / period - onset, 1.0)
    return _NORM[(tau1, tau2, m1, m2)] * _hill(phase, tau1, tau2, m1, m2)


def _hill(phase, tau1, tau2, m1, m2):
    rise = (phase / tau1) ** m1
    fall = (phase / tau2) ** m2
    return rise / (1.0 + rise) / (1.0 + fall)


class _Norm(dict):
    def __missing__(self, key):
        phase = np.linspace(0.0, 1.0, 20001)
        value = self[key] = 1.0 / float(_hill(phase, *key).max())
        return value


_NORM = _Norm()
# Ventricle: Stergiopulos et al. 1996 (adult shape, times as fractions of the period);
# atrium: same family, shorter, starting 80% into the ventricular cycle (PR interval).
VENTRICLE_SHAPE = (0.0, 0.269, 0.452, 1.32, 27.4)
ATRIUM_SHAPE = (0.80, 0.110, 0.180, 1.32, 13.1)


def shunt_coefficients(diameter_mm: float, length_mm: float, viscosity_pa_s: float,
                       loss_k: float) -> tuple[float, float, float]:  # fmt: skip
    """(R, K rho/(2A^2), L) of a rigid tube in mmHg, mL, s units."""
    radius = diameter_mm * 1e-3 / 2
    area = math.pi * radius**2
    length = length_mm * 1e-3
    r = 8 * viscosity_pa_s * length / (math.pi * radius**4)  # Pa s / m^3
    k = loss_k * BLOOD_DENSITY / (2 * area**2)  # Pa s^2 / m^6
    inertance = BLOOD_DENSITY * length / area  # Pa s^2 / m^3
    per_ml = 1e-6  # m^3
    return (r * per_ml * MMHG_PER_PA, k * per_ml**2 * MMHG_PER_PA,
            inertance * per_ml * MMHG_PER_PA)  # fmt: skip


class Model:
    """The right-hand side and the beat-by-beat integration of one `Circuit`.

    The right-hand side is plain float arithmetic (no numpy per call): LSODA (scipy's
    `odeint`, stiff/non-stiff switching) calls it a few hundred times per beat.
    """

    def __init__(self, circuit: Circuit) -> None:
        self.c = circuit
        self.rhs = _make_rhs(circuit)

    def elastances(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ventricular and atrial elastance (mmHg/mL) at times `t`."""
        c = self.c
        av = activation(t, c.period_s, *VENTRICLE_SHAPE)
        aa = activation(t, c.period_s, *ATRIUM_SHAPE)
        return (c.ventricle_emin + (c.ventricle_emax - c.ventricle_emin) * av,
                c.atrium_emin + (c.atrium_emax - c.atrium_emin) * aa)  # fmt: skip

    def pressures(self, t: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Pressures (mmHg) of the nine compartments, shape (9, len(t)), for states y (10, n)."""
        c = self.c
        ev, ea = self.elastances(t)
        p = np.empty((9, y.shape[1]))
        p[ATRIUM] = ea * (y[ATRIUM] - c.atrium_v0)
        p[VENTRICLE] = ev * (y[VENTRICLE] - c.ventricle_v0)
        compliance = np.array(c.compliance)[:, None]
        p[2:9] = (y[2:9] - np.array(c.unstressed)[:, None]) / compliance
        return p

    def flows(self, p: np.ndarray, q_shunt: np.ndarray) -> dict[str, np.ndarray]:
        """Every flow (mL/s) for pressures `p` (9, n) and shunt flows (n)."""
        c = self.c
        return {
            "av": np.maximum(p[ATRIUM] - p[VENTRICLE], 0.0) / c.r_av,
            "aortic": np.maximum(p[VENTRICLE] - p[AORTA], 0.0) / c.r_aortic_valve,
            "arch_ub": (p[AORTA] - p[UB_ART]) / c.r_arch_ub,
            "desc": (p[AORTA] - p[LB_ART]) / c.r_desc_aorta,
            "ub": (p[UB_ART] - p[UB_VEN]) / c.r_ub,
            "svc": (p[UB_VEN] - p[ATRIUM]) / c.r_svc,
            "lb": (p[LB_ART] - p[LB_VEN]) / c.r_lb,
            "ivc": (p[LB_VEN] - p[ATRIUM]) / c.r_ivc,
            "coronary": (p[AORTA] - p[ATRIUM]) / c.r_coronary,
            "pulm": (p[PULM_ART] - p[PULM_VEN]) / c.r_pulm,
            "pulm_ven": (p[PULM_VEN] - p[ATRIUM]) / c.r_pulm_ven,
            "shunt": np.asarray(q_shunt, float),
        }

    def beat(self, y0: np.ndarray, t0: float, samples: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Integrate one heart period from `t0`: (times, states (10, n)); n = 2 or `samples`."""
        period = self.c.period_s
        times = np.linspace(t0, t0 + period, max(samples, 2))
        states, info = odeint(self.rhs, y0, times, tfirst=True, rtol=1e-7, atol=1e-7,
                              hmax=period / 20, mxstep=20000, full_output=True)  # fmt: skip
        if info["message"] != "Integration successful." or not np.all(np.isfinite(states)):
            raise FloatingPointError(f"the circulation did not integrate ({info['message']})")
        return times, states.T


def _make_rhs(c: Circuit):
    """dy/dt of the circuit as a closure over plain floats (fast under odeint)."""
    period = c.period_s
    v_on, v_t1, v_t2, v_m1, v_m2 = VENTRICLE_SHAPE
    a_on, a_t1, a_t2, a_m1, a_m2 = ATRIUM_SHAPE
    v_norm, a_norm = _NORM[VENTRICLE_SHAPE[1:]], _NORM[ATRIUM_SHAPE[1:]]
    ev0, ev1 = c.ventricle_emin, c.ventricle_emax - c.ventricle_emin
    ea0, ea1 = c.atrium_emin, c.atrium_emax - c.atrium_emin
    vv0, va0 = c.ventricle_v0, c.atrium_v0
    e_ao, e_uba, e_ubv, e_lba, e_lbv, e_pa, e_pv = (1.0 / x for x in c.compliance)
    u_ao, u_uba, u_ubv, u_lba, u_lbv, u_pa, u_pv = c.unstressed
    g_av, g_aov = 1.0 / c.r_av, 1.0 / c.r_aortic_valve
    g_aub, g_desc, g_ub, g_svc = 1 / c.r_arch_ub, 1 / c.r_desc_aorta, 1 / c.r_ub, 1 / c.r_svc
    g_lb, g_ivc, g_cor = 1 / c.r_lb, 1 / c.r_ivc, 1 / c.r_coronary
    g_p, g_pv = 1 / c.r_pulm, 1 / c.r_pulm_ven
    sano = c.shunt_from_ventricle
    sr, sk, sl = c.shunt_r, c.shunt_k, c.shunt_l

    def hill(phase: float, t1: float, t2: float, m1: float, m2: float) -> float:
        rise = (phase / t1) ** m1
        return rise / (1.0 + rise) / (1.0 + (phase / t2) ** m2)

    def rhs(t: float, y) -> list[float]:
        cycle = t / period
        phase_v = (cycle - v_on) % 1.0
        phase_a = (cycle - a_on) % 1.0
        ev = ev0 + ev1 * v_norm * hill(phase_v, v_t1, v_t2, v_m1, v_m2)
        ea = ea0 + ea1 * a_norm * hill(phase_a, a_t1, a_t2, a_m1, a_m2)
        pa = ea * (y[0] - va0)
        pv = ev * (y[1] - vv0)
        p_ao = (y[2] - u_ao) * e_ao
        p_uba = (y[3] - u_uba) * e_uba
        p_ubv = (y[4] - u_ubv) * e_ubv
        p_lba = (y[5] - u_lba) * e_lba
        p_lbv = (y[6] - u_lbv) * e_lbv
        p_pa = (y[7] - u_pa) * e_pa
        p_pv = (y[8] - u_pv) * e_pv
        q_av = (pa - pv) * g_av if pa > pv else 0.0
        q_aov = (pv - p_ao) * g_aov if pv > p_ao else 0.0
        q_aub = (p_ao - p_uba) * g_aub
        q_desc = (p_ao - p_lba) * g_desc
        q_ub = (p_uba - p_ubv) * g_ub
        q_svc = (p_ubv - pa) * g_svc
        q_lb = (p_lba - p_lbv) * g_lb
        q_ivc = (p_lbv - pa) * g_ivc
        q_cor = (p_ao - pa) * g_cor
        q_p = (p_pa - p_pv) * g_p
        q_pv = (p_pv - pa) * g_pv
        qs = y[9]
        drop = (pv if sano else p_uba) - p_pa
        dqs = (drop - sr * qs - sk * abs(qs) * qs) / sl  # unvalved: flows back in diastole
        return [
            q_svc + q_ivc + q_cor + q_pv - q_av,
            q_av - q_aov - (qs if sano else 0.0),
            q_aov - q_aub - q_desc - q_cor,
            q_aub - q_ub - (0.0 if sano else qs),
            q_ub - q_svc,
            q_desc - q_lb,
            q_lb - q_ivc,
            qs - q_p,
            q_p - q_pv,
            dqs,
        ]

    return rhs
