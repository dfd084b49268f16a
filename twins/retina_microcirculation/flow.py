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
  (its link to the disc was not seen). Artery roots are held at `inflow_mmhg`, vein roots at
  `outflow_mmhg`.
- Gap bridging (`bridge_gap_disc_radii`, default 1; 0 turns it off). Segmentation breaks
  vessels where another vessel crosses, along faint stretches and where the artery/vein
  label flips, yet the vessel still carries blood. Fragments are taken in order of their
  root's distance from the disc; each is joined from its root, by a straight virtual segment
  (`Bridge`) of the gap's length with the calibre of the fragment's root segment, to the
  nearest node of the same kind on a tree already connected to the disc, or to the circle of
  `root_max_disc_radii` (where roots are held at the boundary pressure), whichever is
  nearer, provided that gap is at most `bridge_gap_disc_radii` disc radii and the node lies
  nearer the disc than the fragment's root (blood reaches a fragment from the disc side; a
  node beyond it would make blood run back toward the disc). A joined fragment counts as
  connected for those after it; passes repeat until none joins. Why one disc radius
  (~0.9 mm): a judgement, not a published value. A gap at a crossing is about the crossing
  vessel's width (0.1-0.2 radius); on the networks measured from the phantom's photographs
  (seeds 0, 1, 2, 22, arterioles x1 and x0.85), with the limit raised to 3 radii, the median
  gap bridged was 0.73 radius for arteries and 0.59 for veins, and 67 % and 80 % were within
  1 radius; farther, the nearest node of the same kind is more and more likely to belong to
  a neighbouring branch (whether each bridge joins the right vessel was not scored).
  tests/bench/bench_retina_flow.py prints what bridging changes. A terminal that fragments
  were bridged onto keeps a bed for what is still unseen below it: Murray's law d_rest^3 =
  d_terminal^3 - sum d_fragment_root^3 (none when d_rest is below a capillary). Fragments
  still unjoined are left out; both are reported (`notes`, `left_out`).
- Every non-root leaf of a tree (a terminal) drains into, or collects from, the unseen
  microcirculation. Pairing: each arterial terminal is linked to its nearest venous terminal
  and each venous terminal to its nearest arterial terminal. Each arterial terminal has its
  own capillary-bed node (fed through its arteriolar tree), drained through a venular tree by
  every venous terminal linked to it (a venous terminal linked to several beds has one
  venular tree per bed: its capacity is over-estimated there). Beds stay local: pooling
  every bed linked through shared terminals (the first version) merged half the retina into
  one bed on measured networks, and a branch vein occlusion then drained elsewhere at no cost.
  Why both ways: every venous end seen in the image collects from some capillary bed, and
  the bed is a continuous mesh rather than one-to-one pairs; with only arterial -> nearest
  venous links, 22-49 venous terminals per network measured from the phantom's photographs
  carried no flow (most of them). Linking to the nearest vein NODE (any point of a vein) was
  not taken: a mid-vessel node's calibre says nothing about the venules that join it there.
  The terminal bed resistance is derived, not fitted: a symmetric bifurcating arteriolar
  tree from the terminal's calibre down to capillaries, then a symmetric venular tree back
  up to the venous terminal's calibre (`bed_resistance`):
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
  Simplification: the two trees are sized independently (2^N capillaries below the artery,
  2^N' above the vein), not matched vessel for vessel; the capillaries of one bed node are
  pooled (no resistance between its terminals beyond their own trees).
- The result is a sparse symmetric linear system in the node pressures (Kirchhoff's law at
  every free node), solved with scipy.sparse.linalg.spsolve. Total retinal flow is then a
  prediction, nothing fitted: on the phantom's true tree (phantom.make_fundus(0), inflow
  62 mmHg, outflow 15 mmHg) it is 10.7 µL/min with the in vivo law and 22.8 with the in vitro
  law (7.7 and 17.0 with the earlier one-way pairing that left venous terminals idle),
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
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree

from meditwin_desktop.core.twin import N_, TwinInputError, number, tr

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
QUADRANTS = (N_("superotemporal"), N_("inferotemporal"), N_("superonasal"), N_("inferonasal"))


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
    root_max_disc_radii: float = 2.0  # farther roots: fragment (bridged or left out)
    bridge_gap_disc_radii: float = 1.0  # fragments bridged across gaps up to this; 0: off
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
            self.bridge_gap_disc_radii,
        )
        if not all(np.isfinite(float(x)) for x in numbers):
            raise TwinInputError(tr("Flow settings must be finite numbers."))
        if self.inflow_mmhg <= self.outflow_mmhg:
            raise TwinInputError(
                tr(
                    "The arterial inflow pressure ({inflow_mmhg} mmHg) must exceed the venous "
                    "outflow pressure ({outflow_mmhg} mmHg, ~ intraocular pressure): check "
                    "blood pressure and intraocular pressure."
                ).format(inflow_mmhg=_g(self.inflow_mmhg), outflow_mmhg=_g(self.outflow_mmhg))
            )
        if not 0.0 <= self.haematocrit < 0.9:
            raise TwinInputError(tr(
                "Haematocrit must be a fraction between 0 and 0.9 (e.g. 0.45)."
            ))
        if self.viscosity_law not in LAWS:
            raise TwinInputError(tr("The viscosity law must be 'vivo' or 'vitro'."))
        if self.capillary_diameter_um <= 1.1 or self.length_per_diameter <= 0:
            raise TwinInputError(tr(
                "Capillary diameter must exceed 1.1 µm, length/diameter > 0."
            ))
        if self.murray_exponent <= 0 or self.plasma_viscosity_mpa_s <= 0:
            raise TwinInputError(tr(
                "Murray exponent and plasma viscosity must be positive."
            ))
        if self.root_max_disc_radii <= 0:
            raise TwinInputError(tr(
                "The root distance limit must be a positive number of radii."
            ))
        if self.bridge_gap_disc_radii < 0:
            raise TwinInputError(tr(
                "The gap-bridging distance must be 0 (off) or a positive number of disc radii."
            ))  # fmt: skip


@dataclass(frozen=True)
class Bridge:
    """A virtual segment joining a fragment (a tree not connected to the disc in the image)
    to a tree that is: from `upstream_node` (on the connected tree, nearer the disc; or the
    disc itself) to the fragment's root, `gap_px` long (straight), with the calibre of the
    fragment's root segment.
    `flow_ul_min` follows the module's sign convention (positive from `upstream_node` to
    the fragment root in an artery, negative in a vein); nan before the solve."""

    kind: int  # ARTERY or VEIN
    upstream_node: int  # network node on the connected tree; -1: the disc (the circle
    #                     root_max_disc_radii from its centre, at the root pressure)
    fragment_root: int  # network node: the fragment's node nearest the disc centre
    gap_px: float
    diameter_px: float
    n_segments: int  # segments of the fragment (not counting fragments bridged onto it)
    flow_ul_min: float = float("nan")


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
    venous_terminal_flow_ul_min: dict[int, float] = field(default_factory=dict)  # venous
    #   terminal node -> flow it collects from its bed (positive toward the disc)
    bridges: list[Bridge] = field(default_factory=list)  # gaps bridged (module docstring)
    notes: list[str] = field(default_factory=list)  # what the model assumed beyond the image


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

    n_nodes: int  # all model nodes: split network nodes, bed nodes, the outflow sink, and
    #               the disc's artery and vein nodes (for bridges to the disc)
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
    disc_art: int  # held at the inflow pressure
    disc_vein: int  # held at the outflow pressure
    bed_edges: np.ndarray  # conductance indices of the arterial bed links
    bed_terminal: np.ndarray  # network node of each of those arterial terminals
    bed_partner: np.ndarray  # network node of the venous terminal (-1 for the sink)
    bed_r: np.ndarray  # their resistances, Pa s m^-3
    vein_bed_edges: np.ndarray  # conductance indices of the venous bed links
    vein_terminal: np.ndarray  # network node of each of those venous terminals
    bridge_edges: np.ndarray  # conductance indices of the bridges
    bridges: list[Bridge]
    left_out: list[str]
    notes: list[str]


def _loop_closers(a: np.ndarray, b: np.ndarray, diameter: np.ndarray, n: int) -> np.ndarray:
    """Bool per segment (a[k], b[k]): the segments to leave out so that every connected part
    is a tree, keeping the widest (a maximum spanning forest by calibre: Kruskal's algorithm
    with union-find)."""
    closers = np.ones(a.size, bool)
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in np.argsort(-np.nan_to_num(diameter), kind="stable"):
        ra, rb = find(int(a[k])), find(int(b[k]))
        if ra != rb:
            parent[ra] = rb
            closers[k] = False
    return closers


def _assemble(
    network: VesselNetwork,
    pixel_um: float,
    settings: FlowSettings,
    occluded: Collection[int],
    diameter_scale: np.ndarray | None,
) -> _Model:
    settings.check()
    if not np.isfinite(pixel_um) or pixel_um <= 0:
        raise TwinInputError(tr("The image scale (µm per pixel) must be a positive number."))
    k_all = network.n_edges
    edges = np.asarray(network.edges, int).reshape(-1, 2)
    kind = np.asarray(network.kind, int)
    diam_px = np.asarray(network.diameter_px, float)
    scale = np.ones(k_all) if diameter_scale is None else np.asarray(diameter_scale, float)
    if scale.shape != (k_all,) or not np.all(np.isfinite(scale)) or np.any(scale < 0):
        raise TwinInputError(tr(
            "The diameter scale needs one non-negative number per segment."
        ))
    occ = np.zeros(k_all, bool)
    occ_idx = np.asarray(list(occluded), int)
    if occ_idx.size and (occ_idx.min() < 0 or occ_idx.max() >= k_all):
        raise TwinInputError(tr("An occluded segment is not in the vessel network."))
    occ[occ_idx] = True
    left_out: list[str] = []

    typed = (kind == ARTERY) | (kind == VEIN)
    measured = np.isfinite(diam_px) & (diam_px > 0)
    n_unknown = int(np.sum(~typed))
    if n_unknown:
        left_out.append(
            tr(
                "{n_unknown} segment(s) of unknown kind (artery or vein not decided) are not "
                "in the flow model"
            ).format(n_unknown=n_unknown)
        )
    if np.sum(typed & ~measured):
        left_out.append(
            tr(
                "{value} segment(s) without a measured calibre are not in the flow model"
            ).format(value=int(np.sum(typed & ~measured)))
        )
    use = np.flatnonzero(typed & measured)

    # split nodes per kind: key = node * 3 + kind
    keys = np.concatenate([edges[use, 0] * 3 + kind[use], edges[use, 1] * 3 + kind[use]])
    uniq, inv = np.unique(keys, return_inverse=True)
    ea, eb = inv[: use.size], inv[use.size :]
    n_split = uniq.size
    node_of, kind_of = uniq // 3, uniq % 3
    loops = _loop_closers(ea, eb, diam_px[use], n_split)
    if loops.any():
        left_out.append(
            tr(
                "{sum} segment(s) closing a loop within one kind's vessels (a crossing read as "
                "a junction, or a vessel traced twice; real retinal trees have no loops) are "
                "not in the flow model: the thinnest of each loop, so that blood cannot bypass "
                "an occlusion through it"
            ).format(sum=int(loops.sum()))
        )
        use, ea, eb = use[~loops], ea[~loops], eb[~loops]
    adj = sparse.coo_matrix((np.ones(use.size), (ea, eb)), shape=(n_split, n_split))
    n_comp, comp = csgraph.connected_components(adj, directed=False)
    pos = np.asarray(network.nodes, float)[node_of] if n_split else np.zeros((0, 2))
    dist = network.disc.distance(pos[:, 0], pos[:, 1]) if n_split else np.zeros(0)
    limit = settings.root_max_disc_radii * network.disc.radius_px

    keep_comp = np.zeros(n_comp, bool)
    is_root = np.zeros(n_split, bool)
    root_of = np.zeros(n_comp, int)
    for c in range(n_comp):
        members = np.flatnonzero(comp == c)
        root_of[c] = members[np.argmin(dist[members])]
        if dist[root_of[c]] <= limit:
            keep_comp[c] = True
            is_root[root_of[c]] = True
    seg_comp = comp[ea]
    max_gap = settings.bridge_gap_disc_radii * network.disc.radius_px
    joined, links = _bridge_fragments(pos, dist, comp, kind_of, keep_comp, root_of, max_gap, limit)
    n_comp_segs = np.bincount(seg_comp, minlength=n_comp)
    for kd, name in ((ARTERY, N_("artery")), (VEIN, N_("vein"))):
        lost = np.flatnonzero(~joined & (kind_of[root_of] == kd))
        if lost.size:
            left_out.append(
                tr(
                    "{size} {name} fragment(s) ({sum} segment(s)) not connected to the disc in "
                    "the image (nearest point > {root_max_disc_radii} disc radii from its "
                    "centre) and no {name} of the disc's trees (nor that circle) within "
                    "{bridge_gap_disc_radii} x the disc radius on its disc side to bridge to"
                ).format(
                    size=lost.size,
                    name=tr(name),
                    sum=int(n_comp_segs[lost].sum()),
                    root_max_disc_radii=_g(settings.root_max_disc_radii),
                    bridge_gap_disc_radii=_g(settings.bridge_gap_disc_radii),
                )
            )
    bridges: list[Bridge] = []
    b_up = np.array([u for u, _, _, _ in links], int)
    b_root = np.array([r for _, r, _, _ in links], int)
    b_gap = np.array([g for _, _, g, _ in links], float)
    b_seg = np.zeros(len(links), int)  # the fragment root's widest segment (index into use)
    for i, (u, r, g, c) in enumerate(links):
        at_root = np.flatnonzero((ea == r) | (eb == r))
        b_seg[i] = at_root[np.argmax(diam_px[use[at_root]])]
        bridges.append(
            Bridge(kind=int(kind_of[r]), upstream_node=int(node_of[u]) if u >= 0 else -1,
                   fragment_root=int(node_of[r]), gap_px=float(g),
                   diameter_px=float(diam_px[use[b_seg[i]]]), n_segments=int(n_comp_segs[c]))
        )  # fmt: skip
    notes: list[str] = []
    for kd, name in ((ARTERY, N_("artery")), (VEIN, N_("vein"))):
        mine = [b for b in bridges if b.kind == kd]
        if mine:
            gap_mm = sum(b.gap_px for b in mine) * pixel_um / 1000.0
            notes.append(
                tr(
                    "{count} {name} fragment(s) ({mine} segment(s)) not seen connected to the "
                    "disc were joined to the nearest {name} on their disc side across straight "
                    "gaps totalling {gap_mm} mm (longest {value} mm), each gap with its "
                    "fragment's first calibre"
                ).format(
                    count=len(mine),
                    name=tr(name),
                    mine=sum(b.n_segments for b in mine),
                    gap_mm=number(gap_mm, 2),
                    value=number(max(b.gap_px for b in mine) * pixel_um / 1000.0, 2),
                )
            )
    seg_keep = joined[seg_comp]
    use, ea, eb = use[seg_keep], ea[seg_keep], eb[seg_keep]
    # bridges index `use` before the filter: renumber their segments
    b_seg = np.searchsorted(np.flatnonzero(seg_keep), b_seg)
    node_keep = joined[comp]
    art_roots = np.flatnonzero(is_root & (kind_of == ARTERY))
    vein_roots = np.flatnonzero(is_root & (kind_of == VEIN))
    if art_roots.size == 0:
        raise TwinInputError(
            tr(
                "No artery tree reaches the optic disc, so retinal blood flow cannot be "
                "computed: check the artery/vein labels and the optic disc position."
            )
        )

    # segment conductances
    d_um = diam_px[use] * pixel_um * scale[use]
    # a segment shorter than a pixel (two nodes side by side) counts as one pixel long
    length_m = np.maximum(np.asarray(network.length_px, float)[use], 1.0) * pixel_um * 1e-6
    g_seg = np.pi * (d_um * 1e-6) ** 4 / (128.0 * _viscosity_pa_s(d_um, settings) * length_m)
    g_seg[occ[use] | (d_um <= 0)] = 0.0
    # bridges: straight tubes of the gap's length with the fragment root segment's calibre
    # (and its scale); an occluded root segment stops its fragment anyway
    d_br = d_um[b_seg] if b_seg.size else np.zeros(0)
    len_br = np.maximum(b_gap, 1.0) * pixel_um * 1e-6
    g_br = np.pi * (d_br * 1e-6) ** 4 / (128.0 * _viscosity_pa_s(d_br, settings) * len_br)
    g_br[d_br <= 0] = 0.0

    # the calibre of each terminal's segment (unscaled unless narrow_beds)
    bed_scale = scale[use] if settings.narrow_beds else np.ones(use.size)
    d_term = np.zeros(n_split)
    d_term[ea] = diam_px[use] * pixel_um * bed_scale
    d_term[eb] = diam_px[use] * pixel_um * bed_scale
    # terminals: degree-1 split nodes of kept trees that are not roots; a fragment's root
    # joined by a bridge is not one
    seen = np.bincount(np.concatenate([ea, eb]), minlength=n_split)
    term = (seen == 1) & ~is_root & node_keep
    term[b_root] = False
    # a terminal that fragments were bridged onto keeps a bed for what is still unseen below
    # it: by Murray's law, d_rest^e = d_terminal^e - sum of the fragments' root calibres^e
    # (none when the fragments account for it all, i.e. d_rest below a capillary)
    to_node = b_up >= 0
    e = settings.murray_exponent
    d_root = diam_px[use[b_seg]] * pixel_um * bed_scale[b_seg] if b_seg.size else np.zeros(0)
    joined_cube = np.zeros(n_split)
    np.add.at(joined_cube, b_up[to_node], d_root[to_node] ** e)
    onto = np.flatnonzero(term & (joined_cube > 0))
    rest = d_term[onto] ** e - joined_cube[onto]
    keep_bed = rest > settings.capillary_diameter_um**e
    term[onto[~keep_bed]] = False
    d_term[onto[keep_bed]] = rest[keep_bed] ** (1.0 / e)
    art_t = np.flatnonzero(term & (kind_of == ARTERY))
    vein_t = np.flatnonzero(term & (kind_of == VEIN))

    if vein_t.size and art_t.size:
        j = np.asarray(cKDTree(pos[vein_t]).query(pos[art_t])[1], int)
        i = np.asarray(cKDTree(pos[art_t]).query(pos[vein_t])[1], int)
        # one capillary bed per arterial terminal, drained by its nearest venous terminal and
        # by the venous terminals whose nearest arterial terminal it is: local beds (pooling
        # every bed linked through shared terminals merged half the retina into one bed, and
        # a branch vein occlusion then drained elsewhere at no cost)
        beds = np.concatenate([np.arange(art_t.size), i])
        veins = np.concatenate([j, np.arange(vein_t.size)])
        bed_link, vein_link = np.unique(np.stack([beds, veins]), axis=1)
        r_bed = bed_resistance(d_term[art_t], d_term[vein_t[j]], settings)
        r_art = _tree_resistance(d_term[art_t], settings, False)  # down to the capillaries
        r_ven = _tree_resistance(d_term[vein_t], settings, True)  # from post-capillaries up
        a_bed = np.concatenate([art_t, vein_t[vein_link]])
        b_bed = n_split + np.concatenate([np.arange(art_t.size), bed_link])
        r_links = np.concatenate([r_art, r_ven[vein_link]])
        partner_node = node_of[vein_t[j]]
        sink = n_split + art_t.size
        vein_t = vein_t[vein_link]  # one venous link per (bed, venous terminal) pair
    else:
        if vein_t.size:
            left_out.append(
                tr(
                    "{size} vein terminal(s) carry no flow: no arterial terminal in the flow "
                    "model"
                ).format(size=vein_t.size)
            )
            vein_t = vein_t[:0]
        else:
            left_out.append(
                tr(
                    "no vein tree reaches the disc: each arterial terminal drains straight to "
                    "the outflow pressure through a venular tree of its own calibre"
                )
            )
        r_bed = bed_resistance(d_term[art_t], d_term[art_t], settings)
        sink = n_split
        a_bed, b_bed, r_links = art_t, np.full(art_t.size, sink), r_bed
        partner_node = np.full(art_t.size, -1)
    disc_art, disc_vein = sink + 1, sink + 2
    n_nodes = sink + 3
    b_up = np.where(b_up >= 0, b_up, np.where(kind_of[b_root] == ARTERY, disc_art, disc_vein))
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
    fixed[[sink, disc_art, disc_vein]] = True
    fixed_pa[[sink, disc_vein]] = settings.outflow_mmhg * MMHG_PA
    fixed_pa[disc_art] = settings.inflow_mmhg * MMHG_PA
    first_bed = use.size + b_up.size
    return _Model(
        n_nodes=n_nodes,
        a=np.concatenate([ea, b_up, a_bed]),
        b=np.concatenate([eb, b_root, b_bed]),
        g=np.concatenate([g_seg, g_br, g_links]),
        fixed=fixed,
        fixed_pa=fixed_pa,
        seg_index=use,
        diam_um=d_um,
        node_of=node_of,
        kind_of=kind_of,
        art_roots=art_roots,
        vein_roots=vein_roots,
        sink=sink,
        disc_art=disc_art,
        disc_vein=disc_vein,
        bed_edges=first_bed + np.arange(art_t.size),
        bed_terminal=node_of[art_t],
        bed_partner=partner_node,
        bed_r=r_bed,
        vein_bed_edges=first_bed + art_t.size + np.arange(vein_t.size),
        vein_terminal=node_of[vein_t],
        bridge_edges=use.size + np.arange(b_up.size),
        bridges=bridges,
        left_out=left_out,
        notes=notes,
    )


def _bridge_fragments(
    pos: np.ndarray,
    dist: np.ndarray,
    comp: np.ndarray,
    kind_of: np.ndarray,
    connected: np.ndarray,
    root_of: np.ndarray,
    max_gap: float,
    root_limit: float,
) -> tuple[np.ndarray, list[tuple[int, int, float, int]]]:
    """Join fragments (components not `connected`) to connected components of their kind:
    fragments in order of their root's distance from the disc, each from its root to the
    nearest node of a connected component of the same kind that lies within `max_gap` pixels
    and nearer the disc than the root, or to the disc itself (upstream node -1) when the
    root lies within `max_gap` of the circle of radius `root_limit` where roots are held at
    the boundary pressure, whichever is nearer; a joined fragment is connected for those
    after it; passes repeat until none joins. Returns the new connected flags and the links
    (upstream split node or -1, fragment root, gap, fragment component)."""
    connected = connected.copy()
    links: list[tuple[int, int, float, int]] = []
    if max_gap <= 0:
        return connected, links
    comp_kind = kind_of[root_of]
    while True:
        added = False
        for kd in (ARTERY, VEIN):
            frags = np.flatnonzero(~connected & (comp_kind == kd))
            if not frags.size:
                continue
            targets = np.flatnonzero(connected[comp] & (kind_of == kd))
            tree = cKDTree(pos[targets]) if targets.size else None
            for c in frags[np.argsort(dist[root_of[frags]], kind="stable")]:
                r = root_of[c]
                up, gap = -1, dist[r] - root_limit  # the disc
                if tree is not None:
                    cand = targets[np.asarray(tree.query_ball_point(pos[r], max_gap), int)]
                    cand = cand[dist[cand] < dist[r]]
                    if cand.size:
                        gaps = np.hypot(*(pos[cand] - pos[r]).T)
                        best = int(np.argmin(gaps))
                        if gaps[best] < gap:
                            up, gap = int(cand[best]), float(gaps[best])
                if gap > max_gap:
                    continue
                links.append((up, int(r), float(gap), int(c)))
                connected[c] = True
                added = True
                targets = np.concatenate([targets, np.flatnonzero(comp == c)])
                tree = cKDTree(pos[targets])
        if not added:
            return connected, links


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
    total_in += float(net_out[model.disc_art]) * M3_S_TO_UL_MIN
    vein_out = np.sum(net_out[model.vein_roots]) + net_out[model.sink] + net_out[model.disc_vein]
    total_out = -float(vein_out) * M3_S_TO_UL_MIN

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
    q_vein = -q[model.vein_bed_edges] * M3_S_TO_UL_MIN  # from the bed into the terminal
    vein_flow: dict[int, float] = {}
    for terminal, value in zip(model.vein_terminal, q_vein, strict=True):  # its links summed
        vein_flow[int(terminal)] = vein_flow.get(int(terminal), 0.0) + float(value)
    q_br = q[model.bridge_edges] * M3_S_TO_UL_MIN
    bridges = [replace(br, flow_ul_min=float(f)) for br, f in zip(model.bridges, q_br, strict=True)]
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
        venous_terminal_flow_ul_min=vein_flow,
        bridges=bridges,
        notes=list(model.notes),
    )


def _check_image(name: str, image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    image = np.asarray(image)
    if image.shape != tuple(shape):
        raise TwinInputError(
            tr(
                "The {name} ({shape}) does not match the photograph ({shape2})."
            ).format(name=name, shape=image.shape, shape2=tuple(shape))
        )
    return image


def territories(
    network: VesselNetwork, solution: FlowSolution, fov: np.ndarray, *, venous: bool = False
) -> np.ndarray:
    """(rows, columns) int image: the arterial terminal node nearest to each field-of-view
    pixel (the one taken to supply it; with `venous`, the venous terminal taken to drain
    it), -1 outside the field of view or when there is none."""
    fov = _check_image("field-of-view mask", fov, network.shape).astype(bool)
    flows = solution.venous_terminal_flow_ul_min if venous else solution.terminal_flow_ul_min
    terminals = np.array(sorted(flows), int)
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
            tr(
                "temporal_sign must be +1 or -1 (which side of the disc is temporal: the side "
                "away from the nose, toward the macula)."
            )
        )
    if per_area and (not np.isfinite(pixel_um) or pixel_um <= 0):
        raise TwinInputError(tr("The image scale (µm per pixel) must be a positive number."))
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


def ischaemic_map(
    territory: np.ndarray,
    terminal_flow: dict[int, float],
    reference_flow: dict[int, float],
    threshold: float = 0.5,
) -> np.ndarray:
    """Bool image: pixels whose terminal's flow is below `threshold` x its reference flow (a
    terminal absent from `terminal_flow` counts as no flow; one without a positive reference
    flow is never counted)."""
    territory = np.asarray(territory)
    if not np.isfinite(threshold) or not 0.0 < threshold <= 1.0:
        raise TwinInputError(tr("The ischaemia threshold must be a fraction in (0, 1]."))
    top = int(max(territory.max(initial=-1), *reference_flow, *terminal_flow, 0)) + 1
    ischaemic = np.zeros(top + 1, bool)  # the last entry stands for -1 (unsupplied)
    for t, ref in reference_flow.items():
        if np.isfinite(ref) and ref > 0:
            ischaemic[t] = abs(terminal_flow.get(t, 0.0)) < threshold * ref
    return ischaemic[np.where(territory >= 0, territory, top)]


def ischaemic_area_pct(
    territory: np.ndarray,
    terminal_flow: dict[int, float],
    reference_flow: dict[int, float],
    fov: np.ndarray,
    threshold: float = 0.5,
) -> float:
    """Percentage of the field of view whose supplying terminal's flow is below `threshold` x
    its reference flow (`ischaemic_map`)."""
    fov = np.asarray(fov, bool)
    if np.shape(territory) != fov.shape:
        raise TwinInputError(tr(
            "The territory map and the field-of-view mask differ in size."
        ))
    n_fov = int(fov.sum())
    if n_fov == 0:
        raise TwinInputError(tr("The field-of-view mask is empty."))
    starved = ischaemic_map(territory, terminal_flow, reference_flow, threshold)
    return 100.0 * float(np.sum(starved & fov)) / n_fov


def flow_map(network: VesselNetwork, solution: FlowSolution) -> np.ndarray:
    """Float image: |flow| (µL/min) of each modelled segment on its centre line dilated to its
    calibre (per-point widths when measured), nan elsewhere."""
    return network.paint(np.abs(solution.flow_ul_min))


def _g(value, spec: str = "g") -> str:
    """`value` formatted by `spec` (a `g` format), with the language's decimal separator."""
    text = format(float(value), spec)
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])
