"""Verification cases of the retina twin, run by `meditwin verify` on an installation:

- the synthetic fundus (phantom.py, a photograph drawn from a known vessel tree): vessel
  segmentation against the true mask, the optic disc, calibres, artery/vein labels and
  CRAE/CRVE of the measured network against the true tree's, and the arteriolar narrowing
  between the demo's two visits;
- real photographs: CHASE_DB1 (28 children's photographs, two observers' manual vessel
  masks; Owen et al. 2009, Fraz et al. 2012, CC BY 4.0) scored against the first observer
  inside the field of view on the 14 photographs of the children the vessel classifier was
  not trained on (08-14), where the second observer reaches F1 0.777 over all 28 (heavy: a
  minute);
- the flow solver: mass conservation at every node, a symmetric binary tree's analytic flow,
  linearity in the pressure drop (Newtonian limit).

The tests beside the twin run the same functions (CHASE_DB1 on two images only).
"""

from __future__ import annotations

import os
from functools import cache, partial
from pathlib import Path

import numpy as np

from meditwin_desktop.core.twin import VerificationCase

from . import calibre, flow, fundus, measures
from .network import ARTERY, VEIN, Disc, VesselNetwork
from .viscosity import relative_viscosity_bulk

PHANTOM = "synthetic fundus with a known vessel tree (phantom.make_fundus, seed 0)"
ANALYTIC = "analytic solution (Poiseuille resistances in series and parallel)"
CHASE = ("CHASE_DB1, 1st observer's masks inside the field of view (Owen CG et al. IOVS "
         "2009;50:2004-2010; Fraz MM et al. IEEE TBME 2012;59:2538-2548; CC BY 4.0)")  # fmt: skip


def chase_folder() -> Path | None:
    """CHASE_DB1 beside the installation (`MEDITWIN_CHASE_DB1` or ../shared/data), or None."""
    candidates = [os.environ.get("MEDITWIN_CHASE_DB1", "")]
    here = Path(__file__).resolve()
    candidates += [str(p / "shared/data/retina/CHASE_DB1") for p in here.parents]
    candidates.append(str(Path.cwd().parent / "shared/data/retina/CHASE_DB1"))
    for text in candidates:
        if text and Path(text, "Image_01L.jpg").is_file():
            return Path(text)
    return None


@cache
def phantom_run(seed: int = 0) -> dict:
    """The whole analysis on the synthetic photograph, with its truth (cached)."""
    from .model import analyse_photo
    from .phantom import make_fundus

    truth = make_fundus(seed)
    analysis, network = analyse_photo(truth.rgb)
    return {"truth": truth, "analysis": analysis, "network": network,
            "pixel_um": 1000.0 * truth.pixel_mm}  # fmt: skip


def segmentation_f1(seed: int = 0) -> float:
    """F1 of the vessel mask against the phantom's true mask, inside the field of view."""
    run = phantom_run(seed)
    return fundus.score(run["analysis"].vessels, run["truth"].vessels, run["truth"].fov)["f1"]


def disc_error_dd(seed: int = 0) -> float:
    """Distance of the disc found from the true disc centre, in disc diameters."""
    run = phantom_run(seed)
    found, true = run["analysis"].disc, run["truth"].disc
    return float(np.hypot(found.row - true.row, found.col - true.col) / true.diameter_px)


def av_accuracy(seed: int = 0) -> float:
    """Share of labelled centre-line pixels (artery or vein) whose kind matches the true
    artery/vein map at that pixel."""
    run = phantom_run(seed)
    av, network = run["truth"].av, run["network"]
    right = total = 0
    for kind, path in zip(network.kind, network.paths, strict=True):
        if kind not in (ARTERY, VEIN):
            continue
        truth = av[path[:, 0], path[:, 1]]
        labelled = truth > 0
        right += int(np.sum(truth[labelled] == kind))
        total += int(np.sum(labelled))
    return right / total if total else float("nan")


def measured_calibres(rgb: np.ndarray, pixel_um: float) -> measures.CalibreSummary:
    """CRAE and CRVE as the twin measures them on a photograph (intensity-profile widths)."""
    from .model import analyse_photo

    _, network = analyse_photo(rgb)
    widths = calibre.profile_widths(network, rgb, calibre.zone_b_points(network))
    return measures.calibres(network, pixel_um, widths=widths)


def calibre_ratio(kind: int, seed: int = 0) -> float:
    """CRAE (ARTERY) or CRVE (VEIN) measured on the photograph / from the true tree."""
    run = phantom_run(seed)
    measured = measured_calibres(run["truth"].rgb, run["pixel_um"])
    true = measures.calibres(run["truth"].network, run["pixel_um"])
    if kind == ARTERY:
        return measured.crae_um / true.crae_um
    return measured.crve_um / true.crve_um


def visit_crae_ratio(seed: int = 22, narrowing: float = 0.85) -> float:
    """Measured CRAE of the second visit / the first, where the second visit's arterioles
    are drawn `narrowing` times as wide (the demo's two photographs)."""
    from .phantom import make_fundus

    first, second = make_fundus(seed), make_fundus(seed, arteriolar_scale=narrowing)
    pixel_um = 1000.0 * first.pixel_mm
    return (measured_calibres(second.rgb, pixel_um).crae_um
            / measured_calibres(first.rgb, pixel_um).crae_um)  # fmt: skip


def paired_trees(depth: int = 4, pixel_um: float = 10.0) -> tuple[VesselNetwork, dict]:
    """A symmetric binary arterial tree and its venous twin from the disc: level n has 2^n
    segments of equal length with Murray diameters 4 px x 2^((depth-1-n)/3) (each arterial
    terminal drains into the venous terminal beside it); and the segment indices per level."""
    nodes, edges, diameters, kinds, levels = [], [], [], [], {ARTERY: [], VEIN: []}
    for kind, shift in ((ARTERY, 0.0), (VEIN, 5.0)):
        nodes.append((200.0 + shift, 45.0))
        previous = [len(nodes) - 1]
        for n in range(depth):
            count, row = 2**n, []
            for i in range(count):
                nodes.append((200 + shift + (i + 0.5 - count / 2) * 320.0 / count,
                              125.0 + 80 * n))  # fmt: skip
                row.append(len(nodes) - 1)
                edges.append((previous[i // 2], row[-1]))
                diameters.append(4.0 * 2 ** ((depth - 1 - n) / 3))
                kinds.append(kind)
            levels[kind].append(list(range(len(edges) - count, len(edges))))
            previous = row
    nodes, edges = np.array(nodes), np.array(edges)
    paths = []
    for a, b in edges:
        steps = np.linspace(0.0, 1.0, int(max(abs(nodes[b] - nodes[a]))) + 1)[:, None]
        paths.append(np.rint(nodes[a] + steps * (nodes[b] - nodes[a])).astype(int))
    return VesselNetwork(
        nodes=nodes, edges=edges, diameter_px=np.array(diameters),
        length_px=np.hypot(*(nodes[edges[:, 1]] - nodes[edges[:, 0]]).T),
        kind=np.array(kinds, np.int8), paths=paths, disc=Disc(200.0, 40.0, 15.0),
        shape=(400, 460),
    ), levels  # fmt: skip


def analytic_tree_error(depth: int = 4, pixel_um: float = 10.0) -> float:
    """Relative error of the solver's total flow through paired symmetric trees with
    constant viscosity against resistances added by hand: each level's 2^n equal segments in
    parallel, the levels in series; each bed a Murray tree from the 40 µm terminal (5 µm x
    2^3: 9 generations on the arterial side, capillaries included, 8 on the venular side)
    down to 5 µm capillaries and back, each generation adding 128 x 25 x mu / (pi D_t^3)."""
    network, levels = paired_trees(depth, pixel_um)
    settings = flow.FlowSettings(62.0, 15.0, newtonian=True, capillary_diameter_um=5.0)
    solution = flow.solve_flow(network, pixel_um, settings)
    mu = settings.plasma_viscosity_mpa_s * 1e-3 * relative_viscosity_bulk(settings.haematocrit)
    resistance = 0.0
    for kind in (ARTERY, VEIN):
        for n, level in enumerate(levels[kind]):
            d = network.diameter_px[level[0]] * pixel_um * 1e-6
            length = network.length_px[level[0]] * pixel_um * 1e-6
            resistance += 128 * mu * length / (np.pi * d**4) / 2**n
    terminal = network.diameter_px[levels[ARTERY][-1][0]] * pixel_um * 1e-6
    resistance += 17 * 128 * 25 * mu / (np.pi * terminal**3) / 2 ** (depth - 1)
    expected = 47.0 * flow.MMHG_PA / resistance * flow.M3_S_TO_UL_MIN
    return abs(solution.total_inflow_ul_min - expected) / expected


def node_imbalance(network: VesselNetwork, solution: flow.FlowSolution) -> float:
    """Largest flow imbalance (µL/min) at a node that is not a root, each kind's tree apart:
    segment flows in and out plus the flows through the capillary beds and the bridges."""
    q = np.nan_to_num(solution.flow_ul_min)
    worst = 0.0
    for kind in (ARTERY, VEIN):
        modelled = (network.kind == kind) & np.isfinite(solution.flow_ul_min)
        net_in = np.bincount(network.edges[modelled, 1], q[modelled], len(network.nodes))
        net_in -= np.bincount(network.edges[modelled, 0], q[modelled], len(network.nodes))
        beds = (
            solution.terminal_flow_ul_min
            if kind == ARTERY
            else {
                terminal: -value for terminal, value in solution.venous_terminal_flow_ul_min.items()
            }
        )
        for terminal, value in beds.items():  # what leaves through the capillary beds
            net_in[terminal] -= value
        for bridge in solution.bridges:  # gaps bridged: what leaves through the bridge
            if bridge.kind == kind:
                if bridge.upstream_node >= 0:
                    net_in[bridge.upstream_node] -= bridge.flow_ul_min
                net_in[bridge.fragment_root] += bridge.flow_ul_min
        touched = np.zeros(len(network.nodes), bool)
        touched[network.edges[modelled].ravel()] = True
        inner = touched & ~_roots(network, modelled)
        if inner.any():
            worst = max(worst, float(np.max(np.abs(net_in[inner]))))
    return worst


def _roots(network: VesselNetwork, modelled: np.ndarray) -> np.ndarray:
    """The node of each connected tree nearest the disc centre (held at a fixed pressure)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(network.nodes)
    edges = network.edges[modelled]
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    used = np.zeros(n, bool)
    used[edges.ravel()] = True
    distance = network.disc.distance(network.nodes[:, 0], network.nodes[:, 1])
    roots = np.zeros(n, bool)
    for label in np.unique(component[used]):
        members = np.flatnonzero(used & (component == label))
        roots[members[np.argmin(distance[members])]] = True
    return roots


def mass_balance_residual(seed: int = 0) -> float:
    """Largest flow imbalance at any node of the phantom's measured network, relative to the
    total inflow (Kirchhoff's law)."""
    run = phantom_run(seed)
    network = run["network"]
    solution = flow.solve_flow(network, run["pixel_um"], flow.FlowSettings(62.0, 15.0))
    return node_imbalance(network, solution) / max(solution.total_inflow_ul_min, 1e-30)


def linearity_error() -> float:
    """|Q(2 dp) / Q(dp) - 2| with constant viscosity."""
    network, _ = paired_trees(3)
    one = flow.solve_flow(network, 10.0, flow.FlowSettings(45.0, 15.0, newtonian=True))
    two = flow.solve_flow(network, 10.0, flow.FlowSettings(75.0, 15.0, newtonian=True))
    return abs(two.total_inflow_ul_min / one.total_inflow_ul_min - 2.0)


def chase_mean(statistic: str, names: tuple[str, ...] | None = None) -> float:
    """Mean `statistic` (sensitivity, specificity, f1) over CHASE_DB1 (or `names`); nan when
    the data are not installed."""
    folder = chase_folder()
    if folder is None:
        return float("nan")
    return float(_chase(folder, names)["mean"][statistic])


@cache
def _chase(folder: Path, names: tuple[str, ...] | None) -> dict:
    return fundus.score_chase(folder, names)


def _case(name, quantity, unit, reference, tolerance, source, compute, heavy=False,
          relative=False) -> VerificationCase:  # fmt: skip
    return VerificationCase(name, quantity, unit, reference, tolerance, source, compute,
                            relative=relative, heavy=heavy)  # fmt: skip


VERIFICATION = (
    _case("Segmentation of the synthetic fundus", "F1 against the true vessel mask", "",
          0.85, 0.15, PHANTOM + "; tolerance: F1 at least 0.70", segmentation_f1),
    _case("Optic disc of the synthetic fundus", "distance from the true centre", "DD",
          0.0, 0.25, PHANTOM + "; within a quarter of a disc diameter", disc_error_dd),
    _case("Artery/vein labels of the synthetic fundus", "accuracy on centre lines", "",
          1.0, 0.2, PHANTOM + "; tolerance: at least 80 % right", av_accuracy),
    _case("CRAE of the synthetic fundus", "measured / true CRAE", "", 1.0, 0.15,
          PHANTOM + "; within 15 % of the true tree's revised Knudtson CRAE",
          partial(calibre_ratio, ARTERY)),
    _case("CRVE of the synthetic fundus", "measured / true CRVE", "", 1.0, 0.15,
          PHANTOM + "; within 15 % of the true tree's revised Knudtson CRVE",
          partial(calibre_ratio, VEIN)),
    _case("Arteriolar narrowing between two visits", "CRAE visit 2 / visit 1", "", 0.85,
          0.05, "synthetic fundus seed 22 (the demo's photographs) drawn with arterioles 0.85 "
          "as wide at the second visit; tolerance 0.05", visit_crae_ratio),
    _case("Flow: symmetric binary tree", "relative error of the total flow", "", 0.0, 1e-9,
          ANALYTIC, analytic_tree_error),
    _case("Flow: mass conservation", "largest node imbalance / total flow", "", 0.0, 1e-9,
          "Kirchhoff's law on the phantom's measured network", mass_balance_residual),
    _case("Flow: linear in the pressure drop", "|Q(2 dp) / Q(dp) - 2|", "", 0.0, 1e-9,
          ANALYTIC + "; constant viscosity", linearity_error),
    _case("CHASE_DB1 vessel segmentation: F1", "mean F1, held-out children 08-14", "", 0.777,
          0.06, CHASE + "; the 2nd observer's F1 0.777; tolerance 0.06", partial(chase_mean, "f1"),
          heavy=True),
    _case("CHASE_DB1 vessel segmentation: sensitivity", "mean sensitivity", "", 0.77, 0.1,
          CHASE + "; published unsupervised methods ~0.77 at specificity ~0.97",
          partial(chase_mean, "sensitivity"), heavy=True),
    _case("CHASE_DB1 vessel segmentation: specificity", "mean specificity", "", 0.97, 0.02,
          CHASE + "; published unsupervised methods ~0.97", partial(chase_mean, "specificity"),
          heavy=True),
)  # fmt: skip
