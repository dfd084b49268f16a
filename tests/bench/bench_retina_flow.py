"""Speed of the retina twin's flow solve (issue 22: 2,000 segments in < 0.5 s).

Builds a synthetic network of 2,044 segments (two artery and two vein binary trees of depth
9 growing from the disc, calibres by Murray's law), solves it with `flow.solve_flow` (Pries
in vivo viscosity, derived terminal beds), and, as the reference in the same process, times
scipy.sparse.linalg.spsolve alone on the same reduced matrix. Prints both times and the
ratio, then the predicted total retinal flow on the phantom next to published totals, then
(unless `--no-photos`) the flow on the network MEASURED from the phantom's photograph
(seeds 0, 1, 2, 22; arterioles x1.0 and x0.85) against the true tree: total flow and the
fraction of the measured artery/vein length that carries flow, with gap bridging off and on
(~40 s: each photograph is analysed).
`PYTHONPATH=. .venv/bin/python tests/bench/bench_retina_flow.py [--no-photos]`
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def synthetic_network(depth: int = 9, seed: int = 0):
    """Four binary trees (2 arteries, 2 veins) of `depth` levels from a disc at the image's
    left; (2^depth - 1) segments each."""
    from twins.retina_microcirculation.network import ARTERY, VEIN, Disc, VesselNetwork

    rng = np.random.default_rng(seed)
    shape = (2000, 2000)
    disc = Disc(row=1000.0, col=200.0, radius_px=60.0)
    nodes: list[tuple[float, float]] = []
    edges: list[tuple[int, int]] = []
    diam: list[float] = []
    kind: list[int] = []

    def grow(parent: int, angle: float, level: int, d: float, length: float, k: int) -> None:
        if level == depth:
            return
        r0, c0 = nodes[parent]
        a = angle + rng.normal(0.0, 0.1)
        nodes.append((r0 + length * np.sin(a), c0 + length * np.cos(a)))
        child = len(nodes) - 1
        edges.append((parent, child))
        diam.append(d)
        kind.append(k)
        for turn in (-0.5, 0.5):
            grow(child, a + turn, level + 1, d * 2 ** (-1 / 3), length * 0.8, k)

    for k, shift, angle in ((ARTERY, -8, -0.6), (ARTERY, -8, 0.6), (VEIN, 8, -0.5), (VEIN, 8, 0.5)):
        nodes.append((disc.row + shift, disc.col + 30))
        grow(len(nodes) - 1, angle, 0, 12.0 if k == ARTERY else 15.0, 220.0, k)
    nodes_a = np.clip(np.array(nodes), 0, 1999)
    edges_a = np.array(edges)
    paths = []
    for a, b in edges_a:
        n = int(max(abs(nodes_a[b] - nodes_a[a]))) + 1
        t = np.linspace(0.0, 1.0, max(n, 2))[:, None]
        paths.append(np.rint(nodes_a[a] + t * (nodes_a[b] - nodes_a[a])).astype(int))
    length = np.maximum(np.hypot(*(nodes_a[edges_a[:, 1]] - nodes_a[edges_a[:, 0]]).T), 1.0)
    return VesselNetwork(
        nodes=nodes_a,
        edges=edges_a,
        diameter_px=np.array(diam),
        length_px=length,
        kind=np.array(kind, np.int8),
        paths=paths,
        disc=disc,
        shape=shape,
    )


def _best(fn, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    from scipy.sparse.linalg import spsolve

    from twins.retina_microcirculation import flow

    net = synthetic_network()
    settings = flow.FlowSettings(inflow_mmhg=62.0, outflow_mmhg=15.0)
    pixel_um = 6.0
    sol = flow.solve_flow(net, pixel_um, settings)
    t_solve = _best(lambda: flow.solve_flow(net, pixel_um, settings))
    model = flow._assemble(net, pixel_um, settings, (), None)
    a_ff, rhs, free, _ = flow._system(model)
    t_ref = _best(lambda: spsolve(a_ff, rhs))
    print(
        f"network: {net.n_edges} segments, {len(sol.terminal_flow_ul_min)} arterial terminals, "
        f"{free.size} unknown pressures"
    )
    print(
        f"solve_flow: {t_solve * 1e3:.1f} ms (target < 500 ms); spsolve alone on the same "
        f"matrix: {t_ref * 1e3:.2f} ms; ratio {t_solve / t_ref:.1f}"
    )
    print(
        f"mass balance: in {sol.total_inflow_ul_min:.4f} out {sol.total_outflow_ul_min:.4f} uL/min"
    )

    try:
        from twins.retina_microcirculation.phantom import make_fundus
    except ImportError:
        return
    ph = make_fundus(0)
    pu = ph.pixel_mm * 1000.0
    print("phantom (seed 0), inflow 2/3 x MAP 93 = 62 mmHg, outflow IOP 15 mmHg:")
    for label, kw in (
        ("in vivo law (default)", {}),
        ("in vitro law", {"viscosity_law": "vitro"}),
        ("newtonian", {"newtonian": True}),
        ("capillary 5 um", {"capillary_diameter_um": 5.0}),
        ("capillary 10 um", {"capillary_diameter_um": 10.0}),
    ):
        s = flow.FlowSettings(inflow_mmhg=62.0, outflow_mmhg=15.0, **kw)
        q = flow.solve_flow(ph.network, pu, s).total_inflow_ul_min
        print(f"  {label:22s} total flow {q:6.1f} uL/min")
    print("  published: Riva 1985 ~33, Wang 2009 45.7, Garcia 2002 64.9, Feke 1989 80 uL/min")
    if "--no-photos" not in sys.argv:
        measured_vs_true()


def _length_with_flow(net, sol, kind: int) -> float:
    """Fraction of the network's `kind` centre-line length whose segments carry flow."""
    sel = net.kind == kind
    on = sel & np.isfinite(sol.flow_ul_min) & (np.abs(np.nan_to_num(sol.flow_ul_min)) > 0)
    total = float(net.length_px[sel].sum())
    return float(net.length_px[on].sum()) / total if total else float("nan")


def measured_vs_true() -> None:
    """Total flow on the true tree vs on the network measured from the photograph."""
    from twins.retina_microcirculation import flow
    from twins.retina_microcirculation.model import analyse_photo
    from twins.retina_microcirculation.network import ARTERY, VEIN
    from twins.retina_microcirculation.phantom import make_fundus

    on = flow.FlowSettings(inflow_mmhg=62.0, outflow_mmhg=15.0)
    off = flow.FlowSettings(inflow_mmhg=62.0, outflow_mmhg=15.0, bridge_gap_disc_radii=0.0)
    print("measured network vs true tree (uL/min; A/V: fraction of measured length with flow):")
    print(
        "  seed scale  true | no bridging: total   A    V | bridging: total   A    V"
        "  bridges gap_mm"
    )
    for seed in (0, 1, 2, 22):
        for scale in (1.0, 0.85):
            ph = make_fundus(seed, arteriolar_scale=scale)
            pu = ph.pixel_mm * 1000.0
            _, net = analyse_photo(ph.rgb)
            true = flow.solve_flow(ph.network, pu, on).total_inflow_ul_min
            a, b = flow.solve_flow(net, pu, off), flow.solve_flow(net, pu, on)
            fa, fv = _length_with_flow(net, a, ARTERY), _length_with_flow(net, a, VEIN)
            gap_mm = sum(br.gap_px for br in b.bridges) * pu / 1000.0
            print(
                f"  {seed:4d} {scale:5.2f} {true:5.1f} | {a.total_inflow_ul_min:17.1f} "
                f"{fa:4.2f} {fv:4.2f} | "
                f"{b.total_inflow_ul_min:14.1f} {_length_with_flow(net, b, ARTERY):4.2f} "
                f"{_length_with_flow(net, b, VEIN):4.2f} {len(b.bridges):8d} {gap_mm:6.2f}"
            )


if __name__ == "__main__":
    main()
