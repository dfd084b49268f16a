"""Vessel mask -> vessel network: centre lines, nodes, crossings and calibres.

Method (scikit-image + scipy only):
1. the mask (inside the field of view, outside the optic disc: vessels are measured from the
   disc margin outwards) is skeletonised (`skimage.morphology.skeletonize`);
2. skeleton pixels with three or more skeleton neighbours are junction pixels; each 8-connected
   cluster of them is one node, and each run of the remaining pixels is one segment (the way
   the `skan` package reads a skeleton; Nunez-Iglesias et al., PeerJ 2018);
3. terminal spurs shorter than twice the local calibre are pruned, and nodes where only two
   segments meet are dissolved;
4. a node of degree 4, or two degree-3 nodes closer than about one calibre (up to 3.5 at
   shallow crossings), is a crossing when its four branches pair into two nearly straight
   continuations of similar calibre: the two
   vessels then run straight through it as two separate segments that share no node (blood
   does not pass from one to the other); `crossings` finds them again from the geometry;
5. each tree is oriented from its node nearest the disc (`edges[k][0]` is the nearer end);
6. the calibre at each centre-line point is the width of the mask along the normal to the
   local direction, with sub-pixel edges where the linearly interpolated mask crosses 0.5
   (capped where the normal runs along another vessel);
   `diameter_px` is the median over the central 60 % of the segment, away from its nodes and
   crossings; within one calibre of a node or crossing (where the normal runs into the other
   vessels) a point's calibre is that representative value.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from skimage.morphology import remove_small_holes, skeletonize

from meditwin_desktop.core.twin import TwinInputError, tr

from .network import UNKNOWN, Disc, VesselNetwork, path_normals

_EIGHT = np.ones((3, 3), bool)
_CROSSING_MAX_BEND_DEG = 40.0  # each vessel of a crossing continues within this of straight
# (a working choice, not a published value: branching angles in the retina are mostly 60-90 deg)


def build_network(
    vessels: np.ndarray,
    disc: Disc,
    *,
    rgb: np.ndarray | None = None,
    fov: np.ndarray | None = None,
    min_length_px: float | None = None,
) -> VesselNetwork:
    """The vessel network of a binary vessel mask (rows, columns), in pixels.

    `disc` is the optic disc (segments inside it are left out); `fov` restricts the mask to
    the field of view; `min_length_px` is the shortest isolated vessel piece kept (default:
    a fifth of the disc radius, at least 5 px). With `rgb` the segments are also labelled
    artery / vein (`artery_vein.classify_arteries_veins`); otherwise every kind is UNKNOWN.
    """
    mask = np.asarray(vessels)
    if mask.ndim != 2:
        raise TwinInputError(
            tr(
                "The vessel mask must be a 2-D image (rows, columns); got shape {shape}."
            ).format(shape=mask.shape)
        )
    mask = mask > 0
    if fov is not None:
        fov = np.asarray(fov, bool)
        if fov.shape != mask.shape:
            raise TwinInputError(
                tr(
                    "The field-of-view mask {shape} and the vessel mask {shape2} differ in "
                    "size."
                ).format(shape=fov.shape, shape2=mask.shape)
            )
        mask &= fov
    rows, cols = np.ogrid[: mask.shape[0], : mask.shape[1]]
    mask &= (rows - disc.row) ** 2 + (cols - disc.col) ** 2 > disc.radius_px**2
    # one- or two-pixel holes would turn into loops of the centre line
    mask = remove_small_holes(mask, max_size=8) if mask.any() else mask
    if min_length_px is None:
        min_length_px = max(5.0, disc.radius_px / 5.0)
    dist = ndimage.distance_transform_edt(mask)
    skel = skeletonize(mask)
    if not skel.any():
        raise TwinInputError(
            tr(
                "No vessels were found outside the optic disc: check that the photograph is a "
                "focused, well exposed fundus image."
            )
        )
    graph = _Graph.from_skeleton(skel, dist)
    graph.prune_spurs()
    graph.dissolve_degree_two()
    graph.prune_spurs()
    graph.dissolve_degree_two()
    graph.resolve_crossings()
    graph.dissolve_degree_two()
    graph.drop_short_pieces(float(min_length_px))
    if not graph.segs:
        raise TwinInputError(
            tr(
                "No vessel long enough to measure was found outside the optic disc: check the "
                "photograph's focus and exposure."
            )
        )
    network = graph.to_network(mask, dist, disc)
    if rgb is not None:
        from .artery_vein import classify_arteries_veins

        network = classify_arteries_veins(network, rgb, fov)
    return network


def crossings(network: VesselNetwork) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of segments whose centre lines cross (touch away from their ends)
    without sharing a node."""
    shape = network.shape
    owner = np.full(shape, -1, np.int64)
    points, ids = [], []
    for k, path in enumerate(network.paths):
        path = np.asarray(path, int)
        if len(path) > 4:
            inner = path[2:-2]
            points.append(inner)
            ids.append(np.full(len(inner), k))
    if not points:
        return []
    pts = np.concatenate(points)
    seg = np.concatenate(ids)
    ok = (pts[:, 0] >= 0) & (pts[:, 0] < shape[0]) & (pts[:, 1] >= 0) & (pts[:, 1] < shape[1])
    pts, seg = pts[ok], seg[ok]
    owner[pts[:, 0], pts[:, 1]] = seg
    found: set[tuple[int, int]] = set()
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r = np.clip(pts[:, 0] + dr, 0, shape[0] - 1)
            c = np.clip(pts[:, 1] + dc, 0, shape[1] - 1)
            other = owner[r, c]
            hit = (other >= 0) & (other != seg)
            for a, b in zip(seg[hit], other[hit], strict=True):
                found.add((int(min(a, b)), int(max(a, b))))
    edges = np.asarray(network.edges, int)
    pairs = []
    for a, b in sorted(found):
        if set(edges[a].tolist()) & set(edges[b].tolist()):
            continue  # they meet at a node: a bifurcation, not a crossing
        pairs.append((a, b))
    return pairs


def segment_at(
    network: VesselNetwork, row: float, col: float, max_distance_px: float = 10
) -> int | None:
    """Index of the segment whose centre line passes nearest (row, col), or None when none
    is within `max_distance_px` (a click on the image)."""
    best, best_d = None, float(max_distance_px)
    for k, path in enumerate(network.paths):
        path = np.asarray(path, float)
        if len(path) == 0:
            continue
        d = float(np.min(np.hypot(path[:, 0] - row, path[:, 1] - col)))
        if d <= best_d:
            best, best_d = k, d
    return best


def tree_labels(network: VesselNetwork, *, by_kind: bool = False) -> np.ndarray:
    """(K,) int: the vessel tree of each segment (segments joined through nodes share one;
    the two vessels of a crossing share none). With `by_kind`, segments join only segments
    of their own kind (the trees the flow model uses: an artery and a vein that meet at a
    node, such as the two halves of a side-by-side pair, are separate trees)."""
    n_nodes = len(network.nodes)
    edges = np.asarray(network.edges, int)
    if len(edges) == 0:
        return np.zeros(0, int)
    if by_kind:
        kind = np.asarray(network.kind, int)
        edges = edges * 3 + kind[:, None]
        n_nodes *= 3
    adj = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n_nodes, n_nodes))
    _, node_label = connected_components(adj, directed=False)
    return node_label[edges[:, 0]]


# ------------------------------------------------------------------------------------------
# the mutable graph used while building


class _Graph:
    """Nodes and segments while the skeleton is cleaned up."""

    def __init__(self, dist: np.ndarray) -> None:
        self.dist = dist
        self.nodes: dict[int, np.ndarray] = {}  # id -> (row, col) float
        self.segs: dict[int, list] = {}  # id -> [a, b, path (N, 2) int from a to b]
        self.at: dict[int, set[int]] = {}  # node -> segment ids
        self.crossing_points: list[np.ndarray] = []
        self._next_node = 0
        self._next_seg = 0

    # -- construction ----------------------------------------------------------------------
    def add_node(self, pos: np.ndarray) -> int:
        n = self._next_node
        self._next_node += 1
        self.nodes[n] = np.asarray(pos, float)
        self.at[n] = set()
        return n

    def add_seg(self, a: int, b: int, path: np.ndarray) -> int:
        path = _dedupe(np.asarray(path, int))
        s = self._next_seg
        self._next_seg += 1
        self.segs[s] = [a, b, path]
        self.at[a].add(s)
        self.at[b].add(s)
        return s

    def remove_seg(self, s: int) -> None:
        a, b, _ = self.segs.pop(s)
        self.at[a].discard(s)
        self.at[b].discard(s)

    @classmethod
    def from_skeleton(cls, skel: np.ndarray, dist: np.ndarray) -> _Graph:
        g = cls(dist)
        count = ndimage.convolve(skel.astype(np.int16), _EIGHT.astype(np.int16), mode="constant")
        count -= 1
        junction = skel & (count >= 3)
        jlab, n_j = ndimage.label(junction, structure=_EIGHT)
        cluster_node = np.empty(n_j + 1, int)
        if n_j:
            centres = ndimage.center_of_mass(junction, jlab, np.arange(1, n_j + 1))
            for i, c in enumerate(centres, start=1):
                cluster_node[i] = g.add_node(np.asarray(c))
        chain = skel & ~junction
        clab, n_c = ndimage.label(chain, structure=_EIGHT)
        if n_c == 0:
            return g
        objects = ndimage.find_objects(clab)
        padded_j = np.pad(jlab, 1)
        h, w = skel.shape
        for i, sl in enumerate(objects, start=1):
            r0, c0 = sl[0].start, sl[1].start
            sub = clab[sl] == i
            pix = np.argwhere(sub) + np.array([r0, c0])
            ordered = _order_chain(pix)
            if ordered is None:
                continue  # an isolated closed loop: no end to start from
            ends = []
            for p in (ordered[0], ordered[-1]):
                win = padded_j[p[0] : p[0] + 3, p[1] : p[1] + 3]
                ends.append(sorted(set(win[win > 0].tolist())))
            if len(ordered) == 1:
                both = ends[0]
                start_c = both[0] if both else None
                end_c = both[1] if len(both) > 1 else None
            else:
                start_c = ends[0][0] if ends[0] else None
                end_c = ends[1][0] if ends[1] else None
            if start_c is not None and start_c == end_c:
                continue  # a small loop from a junction back to itself
            pts = [ordered]
            if start_c is not None:
                a = int(cluster_node[start_c])
                pts.insert(0, np.rint(g.nodes[a])[None].astype(int))
            else:
                a = g.add_node(ordered[0].astype(float))
            if end_c is not None:
                b = int(cluster_node[end_c])
                pts.append(np.rint(g.nodes[b])[None].astype(int))
            else:
                b = g.add_node(ordered[-1].astype(float))
            path = np.concatenate(pts)
            path[:, 0] = np.clip(path[:, 0], 0, h - 1)
            path[:, 1] = np.clip(path[:, 1], 0, w - 1)
            g.add_seg(a, b, path)
        return g

    # -- geometry helpers ------------------------------------------------------------------
    def calibre_at(self, pos: np.ndarray) -> float:
        r = int(np.clip(round(pos[0]), 0, self.dist.shape[0] - 1))
        c = int(np.clip(round(pos[1]), 0, self.dist.shape[1] - 1))
        return max(2.0 * float(self.dist[r, c]), 1.0)

    def path_from(self, s: int, n: int) -> np.ndarray:
        a, _, path = self.segs[s]
        return path if a == n else path[::-1]

    def other_end(self, s: int, n: int) -> int:
        a, b, _ = self.segs[s]
        return b if a == n else a

    def seg_calibre(self, s: int) -> float:
        path = self.segs[s][2]
        return max(float(np.median(2.0 * self.dist[path[:, 0], path[:, 1]])), 1.0)

    def seg_length(self, s: int) -> float:
        return _path_length(self.segs[s][2])

    def degree(self, n: int) -> int:
        return sum(2 if self.segs[s][0] == self.segs[s][1] else 1 for s in self.at[n])

    def branch_direction(self, s: int, n: int, origin: np.ndarray, scale: float) -> np.ndarray:
        """Unit vector from `origin` along segment s leaving node n, averaged over the points
        between one and three calibres away."""
        path = self.path_from(s, n).astype(float)
        d = np.hypot(path[:, 0] - origin[0], path[:, 1] - origin[1])
        pick = (d >= scale) & (d <= 3.0 * scale)
        if not pick.any():
            pick = d >= d.max() * 0.5 if d.max() > 0 else np.ones(len(d), bool)
        v = path[pick].mean(axis=0) - origin
        norm = float(np.hypot(*v))
        return v / norm if norm > 0 else np.zeros(2)

    # -- clean-up --------------------------------------------------------------------------
    def prune_spurs(self) -> None:
        """Remove terminal segments shorter than twice the calibre at their junction."""
        doomed = []
        for s, (a, b, _) in self.segs.items():
            da, db = self.degree(a), self.degree(b)
            if (da == 1) == (db == 1):
                continue  # isolated piece or internal segment
            junction = b if da == 1 else a
            if self.seg_length(s) < 2.0 * self.calibre_at(self.nodes[junction]):
                doomed.append(s)
        for s in doomed:
            a, b, _ = self.segs[s]
            self.remove_seg(s)
            for n in (a, b):
                if not self.at[n]:
                    del self.at[n], self.nodes[n]

    def dissolve_degree_two(self) -> None:
        """Join the two segments at every node where exactly two meet."""
        for n in list(self.nodes):
            if n not in self.nodes or len(self.at[n]) != 2:
                continue
            s1, s2 = sorted(self.at[n])
            if self.degree(n) != 2:
                continue
            p1 = self.path_from(s1, n)[::-1]  # ends at n
            p2 = self.path_from(s2, n)  # starts at n
            a, b = self.other_end(s1, n), self.other_end(s2, n)
            if a == n or b == n:
                continue
            self.remove_seg(s1)
            self.remove_seg(s2)
            self.add_seg(a, b, np.concatenate([p1, p2[1:]]))
            del self.at[n], self.nodes[n]

    def drop_short_pieces(self, min_length: float) -> None:
        """Remove isolated segments (both ends free) shorter than `min_length`."""
        for s in list(self.segs):
            a, b, _ = self.segs[s]
            if self.degree(a) == 1 and self.degree(b) == 1 and self.seg_length(s) < min_length:
                self.remove_seg(s)
                for n in (a, b):
                    if not self.at[n]:
                        del self.at[n], self.nodes[n]

    # -- crossings -------------------------------------------------------------------------
    def resolve_crossings(self) -> None:
        """Split each crossing node into two through-vessels (see module docstring)."""
        # two degree-3 nodes joined by a short segment, the shortest (relative to the
        # calibre of the vessels around) first
        candidates = []
        for s, (u, v, _) in self.segs.items():
            if u == v or self.degree(u) != 3 or self.degree(v) != 3:
                continue
            around = [t for t in self.at[u] | self.at[v] if t != s]
            if len(set(around)) != 4:
                continue
            calibre = max(self.seg_calibre(t) for t in around)
            ratio = self.seg_length(s) / calibre
            # a shallow crossing splits into two junctions further apart: accept up to 3.5
            # calibres, but beyond one calibre only for near-straight continuations
            if ratio <= 3.5:
                candidates.append((ratio, s))
        for ratio, s in sorted(candidates):
            if s not in self.segs:
                continue
            u, v, path = self.segs[s]
            if self.degree(u) != 3 or self.degree(v) != 3:
                continue
            branches_u = [t for t in self.at[u] if t != s]
            branches_v = [t for t in self.at[v] if t != s]
            if len(set(branches_u + branches_v)) != 4:
                continue
            short = ratio <= 1.0
            mid = len(path) // 2
            centre = path[mid].astype(float)
            # each branch, extended to the centre through the short segment
            ext = {}
            for t in branches_u:
                ext[t] = (u, np.concatenate([self.path_from(t, u)[::-1], path[: mid + 1]]))
            for t in branches_v:
                ext[t] = (v, np.concatenate([self.path_from(t, v)[::-1], path[mid:][::-1]]))
            allowed = [
                ((branches_u[0], branches_v[0]), (branches_u[1], branches_v[1])),
                ((branches_u[0], branches_v[1]), (branches_u[1], branches_v[0])),
            ]
            max_bend = _CROSSING_MAX_BEND_DEG if short else _CROSSING_MAX_BEND_DEG / 2
            self._make_crossing(centre, ext, allowed, (s,), (u, v), max_bend)
        # degree-4 nodes
        for n in list(self.nodes):
            if n not in self.nodes or len(self.at[n]) != 4 or self.degree(n) != 4:
                continue
            centre = self.nodes[n]
            pix = np.rint(centre).astype(int)[None]
            ext = {}
            for t in self.at[n]:
                p = self.path_from(t, n)[::-1]
                ext[t] = (n, np.concatenate([p, pix]))
            b = sorted(self.at[n])
            allowed = [
                ((b[0], b[1]), (b[2], b[3])),
                ((b[0], b[2]), (b[1], b[3])),
                ((b[0], b[3]), (b[1], b[2])),
            ]
            self._make_crossing(centre, ext, allowed, (), (n,), _CROSSING_MAX_BEND_DEG)

    def _make_crossing(
        self,
        centre: np.ndarray,
        ext: dict[int, tuple[int, np.ndarray]],
        allowed: list,
        removed: tuple[int, ...],
        old_nodes: tuple[int, ...],
        max_bend: float,
    ) -> None:
        scale = self.calibre_at(centre)
        direction, calibre = {}, {}
        for t, (n, _) in ext.items():
            direction[t] = self.branch_direction(t, n, centre, scale)
            calibre[t] = self.seg_calibre(t)
        best, best_cost = None, np.inf
        for pairing in allowed:
            cost, straight = 0.0, True
            for t1, t2 in pairing:
                cos = float(np.dot(direction[t1], direction[t2]))
                bend = 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
                straight &= bend <= max_bend
                cost += bend / 90.0 + abs(calibre[t1] - calibre[t2]) / max(
                    calibre[t1], calibre[t2], 1.0
                )
            if straight and cost < best_cost:
                best, best_cost = pairing, cost
        if best is None:
            return  # no two straight continuations: a true branching point, leave it
        ends = {}
        for t, (n, p) in ext.items():
            ends[t] = (self.other_end(t, n), p)
        for s in removed:
            self.remove_seg(s)
        for t in ext:
            self.remove_seg(t)
        for n in old_nodes:
            del self.at[n], self.nodes[n]
        for t1, t2 in best:
            a, p1 = ends[t1]
            b, p2 = ends[t2]
            if a == b:
                continue
            self.add_seg(a, b, np.concatenate([p1, p2[::-1][1:]]))
        self.crossing_points.append(np.asarray(centre, float))

    # -- output ----------------------------------------------------------------------------
    def to_network(self, mask: np.ndarray, dist: np.ndarray, disc: Disc) -> VesselNetwork:
        ids = sorted(self.nodes)
        index = {n: i for i, n in enumerate(ids)}
        nodes = np.array([self.nodes[n] for n in ids], float).reshape(-1, 2)
        seg_ids = sorted(self.segs)
        edges = np.array([[index[self.segs[s][0]], index[self.segs[s][1]]] for s in seg_ids], int)
        paths = [self.segs[s][2] for s in seg_ids]
        # orient every tree from its node nearest the disc
        lengths = np.array([_path_length(p) for p in paths])
        n = len(nodes)
        adj = coo_matrix(
            (np.maximum(lengths, 1e-6), (edges[:, 0], edges[:, 1])), shape=(n, n)
        ).tocsr()
        _, comp = connected_components(adj, directed=False)
        d_disc = disc.distance(nodes[:, 0], nodes[:, 1])
        roots = [int(np.flatnonzero(comp == c)[np.argmin(d_disc[comp == c])])
                 for c in np.unique(comp)]  # fmt: skip
        hops = np.min(dijkstra(adj, directed=False, indices=roots), axis=0)
        for k, (a, b) in enumerate(edges):
            if hops[b] < hops[a] or (hops[b] == hops[a] and d_disc[b] < d_disc[a]):
                edges[k] = (b, a)
                paths[k] = paths[k][::-1].copy()
        # calibres
        avoid = [nodes[i] for i in range(n)] + list(self.crossing_points)
        avoid_pts = np.array(avoid, float).reshape(-1, 2)
        avoid_r = np.array([self.calibre_at(p) for p in avoid_pts])
        maskf = mask.astype(np.float32)
        widths, diameters = [], []
        for path in paths:
            wpx = measure_widths(maskf, path, dist)
            diameter, clean = _representative(path, wpx, avoid_pts, avoid_r)
            # within a calibre of a node or crossing the normal runs into the other vessels:
            # there the segment's representative calibre stands for the point's
            widths.append(np.where(clean, wpx, diameter) if clean.any() else wpx)
            diameters.append(diameter)
        k = len(paths)
        return VesselNetwork(
            nodes=nodes, edges=edges, diameter_px=np.array(diameters, float),
            length_px=lengths, kind=np.full(k, UNKNOWN, np.int8), paths=paths, disc=disc,
            shape=(int(mask.shape[0]), int(mask.shape[1])), widths_px=widths,
            av_confidence=np.zeros(k, float),
        )  # fmt: skip


# ------------------------------------------------------------------------------------------
# calibre


def measure_widths(
    mask: np.ndarray, path: np.ndarray, dist: np.ndarray | None = None, step: float = 0.25
) -> np.ndarray:
    """Vessel width (pixels) at each centre-line point of `path`: the length of the normal to
    the local direction inside the mask, with sub-pixel edges where the linearly interpolated
    mask crosses 0.5."""
    path = np.asarray(path, float)
    n = len(path)
    maskf = np.asarray(mask, np.float32)
    if dist is None:
        dist = ndimage.distance_transform_edt(maskf > 0.5)
    pi = np.clip(np.rint(path).astype(int), 0, np.array(maskf.shape) - 1)
    half = 2.0 * dist[pi[:, 0], pi[:, 1]]
    if n == 0:
        return np.zeros(0)
    reach = float(max(4.0, 1.5 * half.max() + 2.0))
    k = int(np.clip(np.rint(np.median(half)), 2, 6))
    normal = path_normals(path, k)
    offsets = np.arange(0.0, reach + step, step)
    widths = np.empty(n)
    for side_sign, store in ((1.0, "r"), (-1.0, "l")):
        rr = path[:, 0:1] + side_sign * offsets[None] * normal[:, 0:1]
        cc = path[:, 1:2] + side_sign * offsets[None] * normal[:, 1:2]
        prof = ndimage.map_coordinates(maskf, [rr.ravel(), cc.ravel()], order=1, cval=0.0)
        prof = prof.reshape(n, len(offsets))
        below = prof < 0.5
        below[:, -1] = True
        first = np.argmax(below, axis=1)
        first = np.maximum(first, 1)
        v0 = prof[np.arange(n), first - 1]
        v1 = prof[np.arange(n), first]
        frac = np.where(v0 > v1, (v0 - 0.5) / np.maximum(v0 - v1, 1e-9), 0.0)
        edge = offsets[first - 1] + np.clip(frac, 0.0, 1.0) * step
        if store == "r":
            widths[:] = edge
        else:
            widths += edge
    # the centre line on the mask's edge (rare): fall back to the distance transform; where
    # the normal runs along another vessel (junctions, crossings) the profile is too long:
    # no wider than the largest disc that fits at the point allows (2 * distance + 1.5 px)
    widths = np.where(widths > 0, widths, np.maximum(half, 1.0))
    return np.minimum(widths, half + 1.5)


def _representative(
    path: np.ndarray, widths: np.ndarray, avoid: np.ndarray, avoid_r: np.ndarray
) -> tuple[float, np.ndarray]:
    """Median calibre over the central 60 % of a segment, leaving out points within one
    calibre of a node or crossing; and which points are that far from them (bool, (N,))."""
    n = len(widths)
    clean = np.ones(n, bool)
    if n == 0:
        return 0.0, clean
    central = np.zeros(n, bool)
    central[int(0.2 * n) : max(int(np.ceil(0.8 * n)), int(0.2 * n) + 1)] = True
    if len(avoid):
        p = np.asarray(path, float)
        d = np.hypot(p[:, None, 0] - avoid[None, :, 0], p[:, None, 1] - avoid[None, :, 1])
        clean = ~(d < avoid_r[None, :]).any(axis=1)
    for pick in (central & clean, clean, central):
        if pick.any():
            return float(np.median(widths[pick])), clean
    return float(np.median(widths)), clean


# ------------------------------------------------------------------------------------------
# helpers


def _order_chain(pix: np.ndarray) -> np.ndarray | None:
    """The pixels of a simple 8-connected chain in order from one end to the other, or None
    for a closed loop."""
    if len(pix) == 1:
        return pix
    lookup = {(int(r), int(c)): i for i, (r, c) in enumerate(pix)}
    neighbours: list[list[int]] = []
    for r, c in pix:
        nb4, nb8 = [], []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == 0 and dc == 0:
                    continue
                j = lookup.get((int(r) + dr, int(c) + dc))
                if j is not None:
                    (nb4 if dr == 0 or dc == 0 else nb8).append(j)
        neighbours.append(nb4 + nb8)  # prefer 4-neighbours when walking
    ends = [i for i, nb in enumerate(neighbours) if len(nb) <= 1]
    if not ends:
        return None
    order = [ends[0]]
    seen = {ends[0]}
    while True:
        nxt = [j for j in neighbours[order[-1]] if j not in seen]
        if not nxt:
            break
        order.append(nxt[0])
        seen.add(nxt[0])
    return pix[order]


def _dedupe(path: np.ndarray) -> np.ndarray:
    if len(path) < 2:
        return path
    keep = np.ones(len(path), bool)
    keep[1:] = np.any(path[1:] != path[:-1], axis=1)
    return path[keep]


def _dedupe_with(
    path: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """`path` clipped to the image with consecutive repeated points dropped, and the
    matching entries of `values` (one per point)."""
    path = np.asarray(path, int).copy()
    path[:, 0] = np.clip(path[:, 0], 0, shape[0] - 1)
    path[:, 1] = np.clip(path[:, 1], 0, shape[1] - 1)
    if len(path) < 2:
        return path, np.asarray(values)
    keep = np.ones(len(path), bool)
    keep[1:] = np.any(path[1:] != path[:-1], axis=1)
    return path[keep], np.asarray(values)[keep]


def _path_length(path: np.ndarray) -> float:
    """Length along a centre line, smoothed first (Gaussian, 2 px) so that the staircase of
    an oblique pixel path does not count: an 8-connected path at 37 degrees is 5 % too long."""
    if len(path) < 2:
        return 0.0
    p = np.asarray(path, float)
    if len(p) > 4:
        p = ndimage.gaussian_filter1d(p, 2.0, axis=0, mode="nearest")
        p[0], p[-1] = path[0], path[-1]
    step = np.diff(p, axis=0)
    return float(np.hypot(step[:, 0], step[:, 1]).sum())
