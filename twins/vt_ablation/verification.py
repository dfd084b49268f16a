"""Verification cases of the VT ablation twin, run by `meditwin verify` on an installation.

The tissue solver is checked on the Niederer et al. 2011 N-version benchmark (Phil Trans R
Soc A 369:4331-4351): activation time at P8, the corner opposite the stimulus, of the
20 x 7 x 3 mm slab with the TP06 epicardial cell (niederer.py, tp06.py).

Reference values. The paper publishes each code's P8 activation time for every dx/dt
only in a figure, and its numbers could not be retrieved from the material available
when this was written. The references below are therefore the results of another
independent, public implementation of the same benchmark with the same TP06 epicardial
model: cardiacFoam (github.com/solids4foam/cardiacFoam, tutorials/NiedererEtAl2012,
setupNiedererEtAl2012/cachedCasePostProcessing: an implicit cell-centred finite-volume
code; its P1->P8 diagonal line and point files). This is a two-version comparison in the
benchmark's spirit, not the paper's consensus; replace the references with the paper's
range when it can be read (Niederer et al. 2011, the figure of P8 activation times).

Each `compute` runs the twin's own code; runs are cached per process so the test suite
and the cases share them.
"""

from __future__ import annotations

from functools import cache, partial

from meditwin_desktop.core.twin import VerificationCase

CARDIACFOAM = ("cardiacFoam (solids4foam/cardiacFoam, tutorials/NiedererEtAl2012, "
               "cachedCasePostProcessing)")  # fmt: skip
PAPER = "Niederer et al., Phil Trans R Soc A 2011;369:4331 (benchmark definition)"


@cache
def slab_points_ms(dx_mm: float, dt_ms: float) -> dict[str, float]:
    """Activation times (ms) at P1..P9 of the benchmark slab on the given grid (cached)."""
    from .niederer import run_slab

    return dict(run_slab(dx_mm, dt_ms).points_ms)


def point_activation_ms(dx_mm: float, dt_ms: float, point: str) -> float:
    """Activation time (ms) at one of P1..P9 (cached run)."""
    return slab_points_ms(dx_mm, dt_ms)[point]


def _case(dx: float, dt: float, reference: float, tolerance: float, why: str,
          heavy: bool = False, point: str = "P8") -> VerificationCase:  # fmt: skip
    where = "the corner opposite the stimulus" if point == "P8" else "the slab's centre"
    return VerificationCase(
        name=f"niederer2011_{point.lower()}_dx{dx}",
        quantity=f"activation time at {point} ({where})",
        unit="ms",
        reference=reference,
        tolerance=tolerance,
        source=f"{PAPER}; reference: {CARDIACFOAM}, {why}",
        # not a lambda: the twin is pickled
        compute=partial(point_activation_ms, dx, dt, point),
        heavy=heavy,
    )


VERIFICATION: tuple[VerificationCase, ...] = (
    # cardiacFoam dx 0.5 mm, dt 0.005 ms, P8 = 142.93 ms (points file DT0.005_DX0.5). The
    # grid is under-resolved: cell-centred finite volumes and this vertex-centred scheme
    # (and the stimulated volume, 64 nodes here) differ most there; ours is 127.7 ms at
    # dt 0.005 and 130.5 ms at the paper's dt 0.05. Tolerance 10 % of the reference.
    _case(
        0.5,
        0.05,
        142.93,
        14.3,
        "dx 0.5 mm dt 0.005 ms, P8 = 142.93 ms; run here at "
        "the paper's dt 0.05 ms; tolerance 10 % (under-resolved grid)",
    ),
    # cardiacFoam dx 0.2 mm, dt 0.005 ms: the diagonal line ends at P8 = 54.53 ms. Ours:
    # 54.92 ms at dt 0.01 (run here), 54.45 ms at dt 0.005. Tolerance 2 ms = the dt
    # effect (0.5 ms) plus a 1.5 ms margin for the discretisation. About a minute of one
    # core: heavy (the default test run keeps dx 0.5).
    _case(
        0.2,
        0.01,
        54.53,
        2.0,
        "dx 0.2 mm dt 0.005 ms, P8 = 54.53 ms; run here at dt 0.01 ms; tolerance 2 ms",
        heavy=True,
    ),
    # P9, the centre, lies on the P1-P8 diagonal whose activation times cardiacFoam
    # publishes (dx 0.2 mm, dt 0.005 ms: 23.92 ms at the centre). Ours at dt 0.01 ms:
    # 24.62 ms (24.40 at dt 0.005). Tolerance 1.5 ms: the dt effect (0.2 ms) plus a margin
    # for the two discretisations (cell- vs vertex-centred). The same run as above.
    _case(
        0.2,
        0.01,
        23.92,
        1.5,
        "dx 0.2 mm dt 0.005 ms, centre of the P1-P8 diagonal = 23.92 ms; run here at dt "
        "0.01 ms; tolerance 1.5 ms",
        heavy=True,
        point="P9",
    ),
    # cardiacFoam dx 0.1 mm: P8 = 45.50 ms at dt 0.005 ms, 45.63 ms at dt 0.01 ms; ours
    # 44.86 ms (P1..P9 within 0.7 ms of cardiacFoam's). Tolerance 2 ms as for dx 0.2.
    # 442 401 nodes, 9000 steps: about 8 minutes on one core.
    _case(
        0.1, 0.005, 45.50, 2.0, "dx 0.1 mm dt 0.005 ms, P8 = 45.50 ms; tolerance 2 ms", heavy=True
    ),
)
