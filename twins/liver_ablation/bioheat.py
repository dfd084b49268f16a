"""Pennes bioheat equation, Arrhenius damage and CEM43 thermal dose on a regular grid.

    rho c dT/dt = div(k grad T) + Q - w rho_b c_b (T - T_a)          (Pennes 1948)
    dOmega/dt   = A exp(-Ea / (R T))                                  (Henriques 1947)
    CEM43       = sum dt R^(43 - T),  R = 0.5 above 43 C, 0.25 below  (Sapareto & Dewey 1984)

Explicit finite differences (7-point Laplacian with face-averaged conductivity), time
step below the diffusion and perfusion stability limits; voxels marked `fixed` (large
vessels: perfect heat sinks) and the grid border stay at the arterial temperature.
SI units throughout (m, s, K or degrees C as stated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meditwin_desktop.core.twin import Cancelled, number, tr

GAS_CONSTANT = 8.314  # J/(mol K)
KELVIN = 273.15


@dataclass
class Tissue:
    """Per-voxel properties (arrays of the grid's shape, SI units)."""

    conductivity: np.ndarray  # k, W/(m K)
    heat_capacity: np.ndarray  # rho c, J/(m^3 K)
    perfusion: np.ndarray  # w rho_b c_b, W/(m^3 K) (blood perfusion times blood rho c)
    fixed: np.ndarray  # bool: held at the arterial temperature (large vessels)


@dataclass
class Heating:
    """Outputs of a heating run: final fields and the probe curves."""

    temperature: np.ndarray  # degrees C, at the end
    damage: np.ndarray  # Arrhenius Omega (dimensionless)
    cem43: np.ndarray  # minutes
    peak: np.ndarray  # highest temperature reached, degrees C
    times: np.ndarray  # s, probe sampling times
    probes: np.ndarray  # degrees C, (len(times), number of probes)
    clamped: bool  # the vaporisation cap was reached somewhere


def stable_time_step(tissue: Tissue, spacing_m: float, safety: float = 0.9) -> float:
    """Largest explicit step: diffusion (dx^2 / (6 alpha)) and perfusion (rho c / w) limits."""
    alpha = float(np.max(tissue.conductivity / tissue.heat_capacity))
    limit = spacing_m**2 / (6.0 * alpha)
    perfused = tissue.perfusion > 0
    if perfused.any():
        limit = min(
            limit, float(np.min(tissue.heat_capacity[perfused] / tissue.perfusion[perfused]))
        )
    return safety * limit


def _face_conductance(k: np.ndarray, axis: int) -> np.ndarray:
    """Harmonic mean of k across the faces between neighbours along `axis`."""
    a = np.take(k, range(0, k.shape[axis] - 1), axis=axis)
    b = np.take(k, range(1, k.shape[axis]), axis=axis)
    return 2.0 * a * b / (a + b)


def heat(
    tissue: Tissue,
    source: np.ndarray,
    spacing_m: float,
    duration_s: float,
    *,
    arterial_c: float = 37.0,
    cap_c: float = 100.0,
    damage_a: float = 7.39e39,
    damage_ea: float = 2.577e5,
    probes: tuple[tuple[int, int, int], ...] = (),
    perfusion_stops_at: float = 1.0,
    cool_down_s: float = 0.0,
    progress: Callable[[float, str], None] = lambda f, m: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Heating:
    """Heat for `duration_s` with `source` (W/m^3), then let the tissue cool for `cool_down_s`.

    Perfusion stops where Omega >= `perfusion_stops_at` (coagulated tissue has no flow).
    Temperatures are capped at `cap_c` (water vaporisation; the energy above it is lost).
    """
    dt = stable_time_step(tissue, spacing_m)
    total = duration_s + cool_down_s
    steps = max(1, int(np.ceil(total / dt)))
    dt = total / steps
    heating_steps = round(duration_s / dt)
    t = np.full(source.shape, arterial_c, dtype=np.float64)
    damage = np.zeros_like(t)
    cem = np.zeros_like(t)
    peak = t.copy()
    conductance = [_face_conductance(tissue.conductivity, axis) / spacing_m**2 for axis in range(3)]
    inverse_capacity = dt / tissue.heat_capacity
    fixed = tissue.fixed.copy()
    fixed[[0, -1], :, :] = fixed[:, [0, -1], :] = fixed[:, :, [0, -1]] = True
    probe_index = tuple(np.array(probes, dtype=int).T) if probes else None
    samples = max(1, steps // 200)
    times, curves = [0.0], [t[probe_index] if probe_index else np.zeros(0)]
    clamped = False
    for step in range(steps):
        if step % 20 == 0:
            if cancelled():
                raise Cancelled()
            progress(
                step / steps,
                tr("{done} of {total} s").format(done=number(step * dt), total=number(total)),
            )
        flux = np.zeros_like(t)
        for axis in range(3):
            difference = np.diff(t, axis=axis) * conductance[axis]
            lead = [slice(None)] * 3
            lead[axis] = slice(0, -1)
            trail = [slice(None)] * 3
            trail[axis] = slice(1, None)
            flux[tuple(lead)] += difference
            flux[tuple(trail)] -= difference
        perfusion = np.where(damage < perfusion_stops_at, tissue.perfusion, 0.0)
        rate = flux - perfusion * (t - arterial_c)
        if step < heating_steps:
            rate += source
        t += rate * inverse_capacity
        t[fixed] = arterial_c
        if t.max() > cap_c:
            clamped = True
            np.minimum(t, cap_c, out=t)
        np.maximum(peak, t, out=peak)
        kelvin = t + KELVIN
        hot = t > 40.0  # below 40 C the Arrhenius rate is negligible (< 1e-4 per hour)
        damage[hot] += dt * damage_a * np.exp(-damage_ea / (GAS_CONSTANT * kelvin[hot]))
        warm = t > 39.0
        cem[warm] += (dt / 60.0) * np.where(t[warm] >= 43.0, 0.5, 0.25) ** (43.0 - t[warm])
        if probe_index and (step % samples == 0 or step == steps - 1):
            times.append((step + 1) * dt)
            curves.append(t[probe_index].copy())
    progress(1.0, tr("done"))
    return Heating(t, damage, cem, peak, np.array(times), np.array(curves), clamped)


def no_heating(shape: tuple[int, int, int], probes: int, arterial_c: float = 37.0) -> Heating:
    """The fields of a scenario without ablation (body temperature, no damage)."""
    flat = np.full(shape, arterial_c)
    return Heating(
        flat,
        np.zeros(shape),
        np.zeros(shape),
        flat.copy(),
        np.zeros(1),
        np.full((1, probes), arterial_c),
        clamped=False,
    )


def arrhenius_constant(
    temperature_c: float, seconds: float, a: float = 7.39e39, ea: float = 2.577e5
) -> float:
    """Omega after `seconds` at a constant temperature (analytic; for verification)."""
    return seconds * a * float(np.exp(-ea / (GAS_CONSTANT * (temperature_c + KELVIN))))
