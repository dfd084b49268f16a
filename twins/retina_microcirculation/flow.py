"""Blood flow through the measured retinal vessel network (steady Poiseuille network).

Model
-----
- Every ARTERY and VEIN segment of the network is a Poiseuille tube,
  G = pi D^4 / (128 mu(D) L), with the apparent viscosity mu(D) of Pries et al. 1994 (in vivo,
  default) or 1992 (in vitro) at the discharge haematocrit (viscosity.py), or a constant
  (large-vessel) viscosity when `newtonian`. UNKNOWN segments are left out (reported).
- An artery and a vein never connect at a node they share (a crossing): such a node is split
  into one node per kind.
- Each connected tree of one kind has a root, its node nearest the disc centre. A tree whose
  root lies farther than `root_max_disc_radii` disc radii from the disc centre is a fragment
  (its link to the disc was not seen): left out, reported. Artery roots are held at
  `inflow_mmhg`, vein roots at `outflow_mmhg`.
- Every non-root leaf of an artery tree (an arterial terminal) drains through the unseen
  microcirculation into the vein terminal nearest to it in the image. The terminal bed
  resistance is derived, not fitted: a symmetric bifurcating arteriolar tree from the
  terminal's calibre down to capillaries, then a symmetric venular tree back up to the
  venous terminal's calibre (`bed_resistance`):
    * diameters follow Murray's law (Murray CD, Proc Natl Acad Sci USA 1926;12:207-214:
      D_parent^3 = sum D_daughter^3, so each symmetric generation shrinks by 2^(-1/3));
    * each vessel's length is `length_per_diameter` x its diameter: 25, from the
      length-to-radius ratio l_rr = 50 of the structured-tree model (Olufsen MS et al.
      Ann Biomed Eng 2000;28:1281-1299, after Iberall 1967; value as used in public
      implementations of that model; not a retina-specific measurement);
    * capillary diameter 7.6 µm: mean capillary diameter of normal human donor retinas
      after perfusion labelling, 7.60 ± 0.40 µm (An D et al. Transl Vis Sci Technol
      2021;10(2):6, control group);
    * the apparent viscosity of each generation from the same viscosity law.
  Several arterial terminals may drain into one venous terminal: they meet at one bed node
  and share its venular tree. A vein terminal with no arterial partner carries no flow.
  Simplification: the two trees are sized independently (2^N capillaries below the artery,
  2^N' above the vein), not matched vessel for vessel.
- The result is a sparse symmetric linear system in the node pressures (Kirchhoff's law at
  every free node), solved with scipy.sparse.linalg.spsolve. Total retinal flow is then a
  prediction, nothing fitted: on the phantom (phantom.make_fundus(0), inflow 62 mmHg,
  outflow 15 mmHg) it is 10.4 µL/min with the in vivo law and 21.4 with the in vitro law,
  against published means of 33-80 µL/min (tests/test_flow.py lists them): about 3x low
  with the default law. Likely reasons, not corrected here: a Murray tree has far fewer
  parallel capillaries than the real capillary mesh, and the in vivo law's high viscosity
  in 5-15 µm vessels dominates the bed resistance (tests/bench/bench_retina_flow.py prints
  the sensitivity to the law and the capillary diameter).

Sign convention: `flow_ul_min[k]` is the flow along `edges[k]` from start to end: positive
in an artery traced from the disc, negative in a vein (blood returns toward the disc).
`velocity_mm_s[k]` is the mean velocity magnitude |Q| / (pi D^2 / 4).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree

from meditwin_desktop.core.twin import TwinInputError

from .network import ARTERY, VEIN, VesselNetwork
from .viscosity import (
    LAWS,
    PLASMA_VISCOSITY_MPA_S,
    apparent_viscosity_mpa_s,
    relative_viscosity_bulk,
)

MMHG_PA = 133.322387415  # 1 mmHg in Pa (conventional millimetre of mercury)
M3_S_TO_UL_MIN = 1e9 * 60.0  # 1 m^3/s = 1e9 µL/s
_MIN_VISCOSITY_DIAMETER_UM = 2.0  # the in vivo law is singular at 1.1 µm: evaluate at >= 2 µm
QUADRANTS = ("superotemporal", "inferotemporal", "superonasal", "inferonasal")


@dataclass(frozen=True)
class FlowSettings:
    """Boundary pressures and blood/microcirculation properties (sources in the module doc)."""

    inflow_mmhg: float  # pressure at the artery roots (the lead passes 2/3 x MAP, cited there)
    outflow_mmhg: float  # pressure at the vein roots (~ intraocular pressure)
    haematocrit: float = 0.45  # discharge haematocrit (fraction)
    newtonian: bool = False  # constant viscosity: plasma x the laws' large-vessel limit
    viscosity_law: str = "vivo"  # 'vivo' (Pries 1994) or 'vitro' (Pries 1992)
    plasma_viscosity_mpa_s: float = PLASMA_VISCOSITY_MPA_S  # Rosenson et al. 1996
    capillary_diameter_um: float = 7.6  # An et al. TVST 2021, normal human retina
    length_per_diameter: float = 25.0  # Olufsen et al. 2000: l/r = 50
    murray_exponent: float = 3.0  # Murray 1926
    root_max_disc_radii: float = 2.0  # farther roots: fragment, left out
    narrow_beds: bool = False  # terminal beds narrow with their terminal segment's scale

    def check(self) -> None:
        """Raise TwinInputError for values the model cannot use."""
        numbers = (
            self.inflow_mmhg,
            self.outflow_mmhg,
            self.haematocrit,
            self.plasma_viscosity_mpa_s,
            self.capillary_diameter_um,
            self.length_per_diameter,
            self.murray_exponent,
            self.root_max_disc_radii,
        )
        if not all(np.isfinite(float(x)) for x in numbers):
            raise TwinInputError("Flow settings must be finite numbers.")
        if self.inflow_mmhg <= self.outflow_mmhg:
            raise TwinInputError(
                f"The arterial inflow pressure ({self.inflow_mmhg:g} mmHg) must exceed the "
                f"venous outflow pressure ({self.outflow_mmhg:g} mmHg, ~ intraocular pressure):"
                " check blood pressure and intraocular pressure."
            )
        if not 0.0 <= self.haematocrit < 0.9:
            raise TwinInputError("Haematocrit must be a fraction between 0 and 0.9 (e.g. 0.45).")
        if self.viscosity_law not in LAWS:
            raise TwinInputError("The viscosity law must be 'vivo' or 'vitro'.")
        if self.capillary_diameter_um <= 1.1 or self.length_per_diameter <= 0:
            raise TwinInputError("Capillary diameter must exceed 1.1 µm, length/diameter > 0.")
        if self.murray_exponent <= 0 or self.plasma_viscosity_mpa_s <= 0:
            raise TwinInputError("Murray exponent and plasma viscosity must be positive.")
        if self.root_max_disc_radii <= 0:
            raise TwinInputError("The root distance limit must be a positive number of radii.")


@dataclass
class FlowSolution:
    """Pressures per node, flows per segment and per arterial terminal (sign convention in the
    module docstring)."""

    pressure_mmhg: np.ndarray  # (M,) per network node; the artery copy at a shared node; nan
    #                            for nodes not in the flow model
    flow_ul_min: np.ndarray  # (K,) along edges[k] start->end; nan for segments left out
    velocity_mm_s: np.ndarray  # (K,) mean velocity magnitude; nan for segments left out
    total_inflow_ul_min: float  # into the artery roots
    total_outflow_ul_min: float  # out of the vein roots (and the outflow fallback)
    terminal_flow_ul_min: dict[int, float]  # arterial terminal node -> flow into its bed
    left_out: list[str]  # what was not modelled and why
    terminal_partner: dict[int, int] = field(default_factory=dict)  # arterial terminal node
    #   -> the venous terminal node it drains into (-1: straight to the outflow pressure)
    bed_resistance_mmhg_min_ul: dict[int, float] = field(default_factory=dict)  # per terminal


def _viscosity_pa_s(d_um: np.ndarray, settings: FlowSettings) -> np.ndarray:
    d = np.maximum(np.asarray(d_um, float), _MIN_VISCOSITY_DIAMETER_UM)
    if settings.newtonian:
        mu = settings.plasma_viscosity_mpa_s * relative_viscosity_bulk(settings.haematocrit)
        return np.full(d.shape, mu * 1e-3)
    mu = apparent_viscosity_mpa_s(
        d,
        settings.haematocrit,
        law=settings.viscosity_law,
        plasma_mpa_s=settings.plasma_viscosity_mpa_s,
    )
    return mu * 1e-3


def _tree_resistance(d_um: np.ndarray, settings: FlowSettings, skip_last: bool) -> np.ndarray:
    """Resistance (Pa s m^-3) of the symmetric trees below vessels of diameter `d_um`:
    generations n = 1..N (N - 1 with `skip_last`, the capillaries being counted once), 2^n
    vessels each, diameters d (d_cap / d)^(n/N) with N = round(e log2(d / d_cap)) >= 1 (so
    the last generation is a capillary and each step is ~ Murray's 2^(-1/e)), lengths
    length_per_diameter x diameter."""
    d = np.asarray(d_um, float)
    dcap = settings.capillary_diameter_um
    e = settings.murray_exponent
    n_gen = np.maximum(1, np.rint(e * np.log2(np.maximum(d, 1e-9) / dcap))).astype(int)
    last = n_gen - 1 if skip_last else n_gen
    total = np.zeros(d.shape)
    for n in range(1, int(last.max(initial=0)) + 1):
        on = n <= last
        dn = d[on] * (dcap / d[on]) ** (n / n_gen[on])
        mu = _viscosity_pa_s(dn, settings)
        dn_m = dn * 1e-6
        total[on] += 128.0 * mu * settings.length_per_diameter / (np.pi * dn_m**3) / 2.0**n
    return total


def bed_resistance(
    d_art_um: np.ndarray | float, d_ven_um: np.ndarray | float, settings: FlowSettings
) -> np.ndarray:
    """Resistance (Pa s m^-3) of the unseen microcirculation between an arterial terminal of
    diameter `d_art_um` and a venous terminal of diameter `d_ven_um`: the arteriolar tree
    down to and including the capillaries, plus the venular tree from the first post-capillary
    venules up to the venous terminal (module docstring for the sources)."""
    arterial = _tree_resistance(np.atleast_1d(np.asarray(d_art_um, float)), settings, False)
    venous = _tree_resistance(np.atleast_1d(np.asarray(d_ven_um, float)), settings, True)
    return arterial + venous


@dataclass
class _Model:
    """The assembled linear system and what is needed to read the solution back."""

    n_nodes: int  # all model nodes: split network nodes, bed nodes, the outflow sink
    a: np.ndarray  # (E,) model node at one end of each conductance
    b: np.ndarray  # (E,) the other end
    g: np.ndarray  # (E,) conductance, m^3 s^-1 Pa^-1
    fixed: np.ndarray  # (n_nodes,) bool: Dirichlet
    fixed_pa: np.ndarray  # (n_nodes,) pressure at the Dirichlet nodes
    seg_index: np.ndarray  # (S,) network segment of the first S conductances
    diam_um: np.ndarray  # (S,) their diameters (scaled)
    node_of: np.ndarray  # (n_split,) network node of each split node
    kind_of: np.ndarray  # (n_split,) its kind
    art_roots: np.ndarray
    vein_roots: np.ndarray
    sink: int
    bed_edges: np.ndarray  # conductance indices of the arterial bed links
    bed_terminal: np.ndarray  # network node of each of those arterial terminals
    bed_partner: np.ndarray  # network node of the venous terminal (-1 for the sink)
    bed_r: np.ndarray  # their resistances, Pa s m^-3
    left_out: list[str]


def _assemble(
    network: VesselNetwork,
    pixel_um: float,
    settings: FlowSettings,
    occluded: Collection[int],
    diameter_scale: np.ndarray | None,
) -> _Model:
    settings.check()
    if not np.isfinite(pixel_um) or pixel_um <= 0:
        raise TwinInputError("The image scale (µm per pixel) must be a positive number.")
    k_all = network.n_edges
    edges = np.asarray(network.edges, int).reshape(-1, 2)
    kind = np.asarray(network.kind, int)
    diam_px = np.asarray(network.diameter_px, float)
    scale = np.ones(k_all) if diameter_scale is None else np.asarray(diameter_scale, float)
    if scale.shape != (k_all,) or not np.all(np.isfinite(scale)) or np.any(scale < 0):
        raise TwinInputError("The diameter scale needs one non-negative number per segment.")
    occ = np.zeros(k_all, bool)
    occ_idx = np.asarray(list(occluded), int)
    if occ_idx.size and (occ_idx.min() < 0 or occ_idx.max() >= k_all):
        raise TwinInputError("An occluded segment is not in the vessel network.")
    occ[occ_idx] = True
    left_out: list[str] = []

    typed = (kind == ARTERY) | (kind == VEIN)
    measured = np.isfinite(diam_px) & (diam_px > 0)
    n_unknown = int(np.sum(~typed))
    if n_unknown:
        left_out.append(
            f"{n_unknown} segment(s) of unknown kind (artery or vein not decided) "
            "are not in the flow model"
        )
    if np.sum(typed & ~measured):
        left_out.append(
            f"{int(np.sum(typed & ~measured))} segment(s) without a measured "
            "calibre are not in the flow model"
        )
    use = np.flatnonzero(typed & measured)

    # split nodes per kind: key = node * 3 + kind
    keys = np.concatenate([edges[use, 0] * 3 + kind[use], edges[use, 1] * 3 + kind[use]])
    uniq, inv = np.unique(keys, return_inverse=True)
    ea, eb = inv[: use.size], inv[use.size :]
    n_split = uniq.size
    node_of, kind_of = uniq // 3, uniq % 3
    adj = sparse.coo_matrix((np.ones(use.size), (ea, eb)), shape=(n_split, n_split))
    n_comp, comp = csgraph.connected_components(adj, directed=False)
    pos = np.asarray(network.nodes, float)[node_of] if n_split else np.zeros((0, 2))
    dist = network.disc.distance(pos[:, 0], pos[:, 1]) if n_split else np.zeros(0)
    limit = settings.root_max_disc_radii * network.disc.radius_px

    keep_comp = np.zeros(n_comp, bool)
    is_root = np.zeros(n_split, bool)
    fragments = {ARTERY: [0, 0], VEIN: [0, 0]}
    seg_comp = comp[ea]
    for c in range(n_comp):
        members = np.flatnonzero(comp == c)
        root = members[np.argmin(dist[members])]
        if dist[root] <= limit:
            keep_comp[c] = True
            is_root[root] = True
        else:
            fragments[int(kind_of[root])][0] += 1
            fragments[int(kind_of[root])][1] += int(np.sum(seg_comp == c))
    for kd, name in ((ARTERY, "artery"), (VEIN, "vein")):
        if fragments[kd][0]:
            left_out.append(
                f"{fragments[kd][0]} {name} fragment(s) ({fragments[kd][1]} segment(s)) not "
                f"connected to the disc in the image (nearest point > "
                f"{settings.root_max_disc_radii:g} disc radii from its centre)"
            )
    seg_keep = keep_comp[seg_comp]
    use, ea, eb = use[seg_keep], ea[seg_keep], eb[seg_keep]
    node_keep = keep_comp[comp]
    art_roots = np.flatnonzero(is_root & (kind_of == ARTERY))
    vein_roots = np.flatnonzero(is_root & (kind_of == VEIN))
    if art_roots.size == 0:
        raise TwinInputError(
            "No artery tree reaches the optic disc, so retinal blood flow cannot be computed: "
            "check the artery/vein labels and the optic disc position."
        )

    # segment conductances
    d_um = diam_px[use] * pixel_um * scale[use]
    # a segment shorter than a pixel (two nodes side by side) counts as one pixel long
    length_m = np.maximum(np.asarray(network.length_px, float)[use], 1.0) * pixel_um * 1e-6
    g_seg = np.pi * (d_um * 1e-6) ** 4 / (128.0 * _viscosity_pa_s(d_um, settings) * length_m)
    g_seg[occ[use] | (d_um <= 0)] = 0.0

    # terminals: degree-1 split nodes of kept trees that are not roots
    degree = np.bincount(np.concatenate([ea, eb]), minlength=n_split)
    term = (degree == 1) & ~is_root & node_keep
    art_t = np.flatnonzero(term & (kind_of == ARTERY))
    vein_t = np.flatnonzero(term & (kind_of == VEIN))
    # the calibre of each terminal's segment (unscaled unless narrow_beds)
    bed_scale = scale[use] if settings.narrow_beds else np.ones(use.size)
    d_term = np.zeros(n_split)
    d_term[ea] = diam_px[use] * pixel_um * bed_scale
    d_term[eb] = diam_px[use] * pixel_um * bed_scale

    sink = n_split + vein_t.size
    n_nodes = sink + 1
    if vein_t.size:
        tree = cKDTree(pos[vein_t])
        _, j = tree.query(pos[art_t]) if art_t.size else (None, np.zeros(0, int))
        j = np.asarray(j, int)
        partner_split = vein_t[j]
        bed_node = n_split + j
        r_bed = bed_resistance(d_term[art_t], d_term[partner_split], settings)
        # arterial side to the bed node: arteriolar tree + capillaries
        r_art = _tree_resistance(d_term[art_t], settings, False)
        used_beds = np.unique(j)
        r_ven = _tree_resistance(d_term[vein_t[used_beds]], settings, True)
        n_lonely = vein_t.size - used_beds.size
        if n_lonely:
            left_out.append(
                f"{n_lonely} vein terminal(s) with no arterial terminal nearer to "
                "them than to another vein terminal carry no flow"
            )
        a_bed = np.concatenate([art_t, vein_t[used_beds]])
        b_bed = np.concatenate([bed_node, n_split + used_beds])
        r_links = np.concatenate([r_art, r_ven])
        partner_node = node_of[partner_split]
    else:
        left_out.append(
            "no vein tree reaches the disc: each arterial terminal drains straight "
            "to the outflow pressure through a venular tree of its own calibre"
        )
        r_bed = bed_resistance(d_term[art_t], d_term[art_t], settings)
        a_bed, b_bed, r_links = art_t, np.full(art_t.size, sink), r_bed
        partner_node = np.full(art_t.size, -1)
    # a venular tree with no generation (a venous terminal of capillary size) has no
    # resistance: give it a negligible one (1e-6 of the smallest other link) to stay finite
    positive = r_links[r_links > 0]
    floor = 1e-6 * float(positive.min()) if positive.size else 1.0
    g_links = 1.0 / np.maximum(r_links, floor)

    fixed = np.zeros(n_nodes, bool)
    fixed_pa = np.zeros(n_nodes)
    fixed[art_roots] = True
    fixed_pa[art_roots] = settings.inflow_mmhg * MMHG_PA
    fixed[vein_roots] = True
    fixed_pa[vein_roots] = settings.outflow_mmhg * MMHG_PA
    fixed[sink] = True
    fixed_pa[sink] = settings.outflow_mmhg * MMHG_PA
    return _Model(
        n_nodes=n_nodes,
        a=np.concatenate([ea, a_bed]),
        b=np.concatenate([eb, b_bed]),
        g=np.concatenate([g_seg, g_links]),
        fixed=fixed,
        fixed_pa=fixed_pa,
        seg_index=use,
        diam_um=d_um,
        node_of=node_of,
        kind_of=kind_of,
        art_roots=art_roots,
        vein_roots=vein_roots,
        sink=sink,
        bed_edges=use.size + np.arange(art_t.size),
        bed_terminal=node_of[art_t],
        bed_partner=partner_node,
        bed_r=r_bed,
        left_out=left_out,
    )


def _system(model: _Model) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, float]:
    """The reduced system A p_free = rhs (conductances scaled by their median), the free nodes
    it solves for, and the scale."""
    g_scale = float(np.median(model.g[model.g > 0])) if np.any(model.g > 0) else 1.0
    g = model.g / g_scale
    live = g > 0
    a, b, g = model.a[live], model.b[live], g[live]
    n = model.n_nodes
    # free nodes connected to some fixed node through live conductances
    graph = sparse.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, comp = csgraph.connected_components(graph, directed=False)
    grounded = np.zeros(comp.max() + 1, bool)
    grounded[comp[model.fixed]] = True
    free = np.flatnonzero(~model.fixed & grounded[comp])
    index = np.full(n, -1)
    index[free] = np.arange(free.size)
    rows = np.concatenate([a, b, a, b])
    cols = np.concatenate([a, b, b, a])
    vals = np.concatenate([g, g, -g, -g])
    lap = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
    a_ff = lap[free][:, free]
    rhs = -(lap[free][:, model.fixed] @ model.fixed_pa[model.fixed])
    return a_ff.tocsc(), rhs, free, g_scale


def solve_flow(
    network: VesselNetwork,
    pixel_um: float,
    settings: FlowSettings,
    *,
    occluded: Collection[int] = (),
    diameter_scale: np.ndarray | None = None,
) -> FlowSolution:
    """Steady flow through the network's artery and vein trees coupled by the derived terminal
    beds. `occluded`: segment indices carrying no flow; `diameter_scale`: (K,) calibre factors
    (e.g. 0.8 for a narrowed artery)."""
    model = _assemble(network, pixel_um, settings, occluded, diameter_scale)
    a_ff, rhs, free, _ = _system(model)
    p = np.full(model.n_nodes, np.nan)
    p[model.fixed] = model.fixed_pa[model.fixed]
    if free.size:
        p[free] = np.atleast_1d(spsolve(a_ff, rhs))
    dp = p[model.a] - p[model.b]
    q = np.where(model.g > 0, model.g * np.nan_to_num(dp), 0.0)  # m^3/s along a -> b

    k_all = network.n_edges
    s = model.seg_index.size
    flow = np.full(k_all, np.nan)
    flow[model.seg_index] = q[:s] * M3_S_TO_UL_MIN
    vel = np.full(k_all, np.nan)
    area = np.pi * (np.maximum(model.diam_um, 1e-9) * 1e-6) ** 2 / 4.0
    vel[model.seg_index] = np.where(model.diam_um > 0, np.abs(q[:s]) / area * 1e3, 0.0)

    net_out = np.zeros(model.n_nodes)  # flow leaving each node through its conductances
    np.add.at(net_out, model.a, q)
    np.add.at(net_out, model.b, -q)
    total_in = float(np.sum(net_out[model.art_roots])) * M3_S_TO_UL_MIN
    total_out = -float(np.sum(net_out[model.vein_roots]) + net_out[model.sink]) * M3_S_TO_UL_MIN

    n_split = model.node_of.size
    pressure = np.full(len(network.nodes), np.nan)
    for kd in (VEIN, ARTERY):  # the artery copy wins at a shared node
        sel = np.flatnonzero(model.kind_of == kd)
        pressure[model.node_of[sel]] = p[:n_split][sel] / MMHG_PA
    q_bed = q[model.bed_edges] * M3_S_TO_UL_MIN
    terminal_flow = {int(t): float(f) for t, f in zip(model.bed_terminal, q_bed, strict=True)}
    partner = {int(t): int(v) for t, v in zip(model.bed_terminal, model.bed_partner, strict=True)}
    r_mmhg = model.bed_r / MMHG_PA / M3_S_TO_UL_MIN  # Pa s m^-3 -> mmHg min µL^-1
    bed_r = {int(t): float(r) for t, r in zip(model.bed_terminal, r_mmhg, strict=True)}
    return FlowSolution(
        pressure_mmhg=pressure,
        flow_ul_min=flow,
        velocity_mm_s=vel,
        total_inflow_ul_min=total_in,
        total_outflow_ul_min=total_out,
        terminal_flow_ul_min=terminal_flow,
        left_out=list(model.left_out),
        terminal_partner=partner,
        bed_resistance_mmhg_min_ul=bed_r,
    )


def _check_image(name: str, image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    image = np.asarray(image)
    if image.shape != tuple(shape):
        raise TwinInputError(
            f"The {name} ({image.shape}) does not match the photograph ({tuple(shape)})."
        )
    return image


def territories(network: VesselNetwork, solution: FlowSolution, fov: np.ndarray) -> np.ndarray:
    """(rows, columns) int image: the arterial terminal node nearest to each field-of-view
    pixel (the one taken to supply it), -1 outside the field of view or when there is none."""
    fov = _check_image("field-of-view mask", fov, network.shape).astype(bool)
    terminals = np.array(sorted(solution.terminal_flow_ul_min), int)
    out = np.full(network.shape, -1, np.int32)
    if terminals.size == 0:
        return out
    rc = np.rint(np.asarray(network.nodes, float)[terminals]).astype(int)
    rc[:, 0] = np.clip(rc[:, 0], 0, network.shape[0] - 1)
    rc[:, 1] = np.clip(rc[:, 1], 0, network.shape[1] - 1)
    seeds = np.full(network.shape, -1, np.int32)
    seeds[rc[:, 0], rc[:, 1]] = terminals
    _, (ri, ci) = ndimage.distance_transform_edt(seeds < 0, return_indices=True)
    out[fov] = seeds[ri[fov], ci[fov]]
    return out


def perfusion_by_quadrant(
    network: VesselNetwork,
    solution: FlowSolution,
    territory: np.ndarray,
    pixel_um: float,
    temporal_sign: int,
    *,
    per_area: bool = False,
) -> dict[str, float]:
    """Terminal flow (µL/min) per quadrant around the disc centre (superior = smaller rows;
    `temporal_sign` +1 when the temporal side is toward larger columns, -1 otherwise). Each
    terminal's flow is spread evenly over its territory's pixels, so a territory that straddles
    a quadrant border counts in both; a terminal with no territory pixel counts where it lies.
    With `per_area`, µL/min per mm^2 of supplied area in that quadrant."""
    if temporal_sign not in (1, -1):
        raise TwinInputError(
            "temporal_sign must be +1 or -1 (which side of the disc is "
            "temporal: the side away from the nose, toward the macula)."
        )
    if per_area and (not np.isfinite(pixel_um) or pixel_um <= 0):
        raise TwinInputError("The image scale (µm per pixel) must be a positive number.")
    territory = _check_image("territory map", territory, network.shape)
    disc = network.disc
    rows, cols = np.indices(network.shape)
    quadrant = (rows >= disc.row).astype(int) + 2 * ((cols - disc.col) * temporal_sign <= 0)
    flows = {int(t): max(f, 0.0) for t, f in solution.terminal_flow_ul_min.items()}
    supplied = territory >= 0
    labels, counts = np.unique(territory[supplied], return_counts=True)
    n_px = dict(zip(labels.tolist(), counts.tolist(), strict=True))
    per_px = np.zeros(int(max([*n_px, *flows, 0])) + 1)
    for t, f in flows.items():
        if n_px.get(t, 0):
            per_px[t] = f / n_px[t]
    totals = np.bincount(quadrant[supplied], weights=per_px[territory[supplied]], minlength=4)
    for t, f in flows.items():
        if not n_px.get(t, 0):
            r, c = np.asarray(network.nodes, float)[t]
            totals[int(r >= disc.row) + 2 * int((c - disc.col) * temporal_sign <= 0)] += f
    if per_area:
        area_mm2 = np.bincount(quadrant[supplied], minlength=4) * (pixel_um / 1000.0) ** 2
        totals = np.where(area_mm2 > 0, totals / np.where(area_mm2 > 0, area_mm2, 1), np.nan)
    return {name: float(totals[i]) for i, name in enumerate(QUADRANTS)}


def ischaemic_area_pct(
    territory: np.ndarray,
    terminal_flow: dict[int, float],
    reference_flow: dict[int, float],
    fov: np.ndarray,
    threshold: float = 0.5,
) -> float:
    """Percentage of the field of view whose supplying terminal's flow is below `threshold` x
    its reference flow (a terminal absent from `terminal_flow` counts as no flow; one without
    a positive reference flow is never counted)."""
    fov = np.asarray(fov, bool)
    territory = np.asarray(territory)
    if territory.shape != fov.shape:
        raise TwinInputError("The territory map and the field-of-view mask differ in size.")
    if not np.isfinite(threshold) or not 0.0 < threshold <= 1.0:
        raise TwinInputError("The ischaemia threshold must be a fraction in (0, 1].")
    n_fov = int(fov.sum())
    if n_fov == 0:
        raise TwinInputError("The field-of-view mask is empty.")
    top = int(max(territory.max(initial=-1), *reference_flow, *terminal_flow, 0)) + 1
    ischaemic = np.zeros(top + 1, bool)  # the last entry stands for -1 (unsupplied)
    for t, ref in reference_flow.items():
        if np.isfinite(ref) and ref > 0:
            ischaemic[t] = terminal_flow.get(t, 0.0) < threshold * ref
    lab = np.where(territory >= 0, territory, top)
    return 100.0 * float(np.sum(ischaemic[lab] & fov)) / n_fov


def flow_map(network: VesselNetwork, solution: FlowSolution) -> np.ndarray:
    """Float image: |flow| (µL/min) of each modelled segment on its centre line dilated to its
    calibre (per-point widths when measured), nan elsewhere."""
    value = np.full(network.shape, np.nan)
    radius = np.zeros(network.shape)
    centre = np.zeros(network.shape, bool)
    h, w = network.shape
    for k, path in enumerate(network.paths):
        f = solution.flow_ul_min[k]
        if not np.isfinite(f):
            continue
        path = np.asarray(path, int).reshape(-1, 2)
        inside = (path[:, 0] >= 0) & (path[:, 0] < h) & (path[:, 1] >= 0) & (path[:, 1] < w)
        r = np.full(len(path), network.diameter_px[k] / 2.0)
        if network.widths_px and len(network.widths_px[k]) == len(path):
            wk = np.asarray(network.widths_px[k], float) / 2.0
            r = np.where(np.isfinite(wk) & (wk > 0), wk, r)
        path, r = path[inside], r[inside]
        value[path[:, 0], path[:, 1]] = abs(f)
        radius[path[:, 0], path[:, 1]] = np.maximum(r, 0.5)
        centre[path[:, 0], path[:, 1]] = True
    if not centre.any():
        return value
    dist, (ri, ci) = ndimage.distance_transform_edt(~centre, return_indices=True)
    out = value[ri, ci]
    out[dist > radius[ri, ci]] = np.nan
    return out
