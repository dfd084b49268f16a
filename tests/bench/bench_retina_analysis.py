"""Speed (and, with --chase, accuracy) of the retina twin's fundus analysis (issue 22:
analysis of a 565 x 584 image < 2 s, of a 3000 x 2000 image < 15 s, one core).

The two images are made from skimage.data.retina() (a real fundus photograph, CC0): resampled
so that its FOV is 540 pixels across in a 565 x 584 frame (DRIVE's geometry) and 2000 pixels
across in a 3000 x 2000 frame (a camera's; FOV clipped top and bottom). As the reference in the
same process, skimage.filters.frangi with default settings runs on the green channel of the
same image; the ratio says how many such Frangi runs one analysis costs.

`PYTHONPATH=. python tests/bench/bench_retina_analysis.py [--chase]`
--chase also scores the 14 held-out CHASE_DB1 photographs (children 08-14) against the 1st
observer inside the FOV, per image and on average, with the 2nd observer's score and the
disc's vessel-hub rank (share of the FOV with a lower vessel density than on the disc,
1st-observer vessels).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import skimage.data
from skimage.filters import frangi
from skimage.transform import resize

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
CHASE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "retina" / "CHASE_DB1"


def _framed(rgb: np.ndarray, fov_diameter: int, shape: tuple[int, int]) -> np.ndarray:
    """`rgb` (FOV filling its width) resampled to `fov_diameter` and centred in `shape`."""
    rows = np.flatnonzero((rgb[..., 0] > 25).any(1))
    cols = np.flatnonzero((rgb[..., 0] > 25).any(0))
    crop = rgb[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    s = fov_diameter / max(crop.shape[:2])
    size = (round(crop.shape[0] * s), round(crop.shape[1] * s))
    crop = (resize(crop, size, anti_aliasing=s < 1) * 255).astype(np.uint8)
    out = np.zeros((*shape, 3), np.uint8)
    r0, c0 = (shape[0] - size[0]) // 2, (shape[1] - size[1]) // 2
    src_r0, src_c0 = max(0, -r0), max(0, -c0)
    r0, c0 = max(0, r0), max(0, c0)
    h, w = min(shape[0] - r0, size[0] - src_r0), min(shape[1] - c0, size[1] - src_c0)
    out[r0 : r0 + h, c0 : c0 + w] = crop[src_r0 : src_r0 + h, src_c0 : src_c0 + w]
    return out


def _timed(fn, *args, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    from twins.retina_microcirculation import fundus

    retina = skimage.data.retina()
    fundus.analyse(retina)  # load the model, warm caches
    for label, diameter, shape, limit in (
        ("565 x 584 (DRIVE-like)", 540, (584, 565), 2.0),
        ("3000 x 2000 (camera)", 2000, (2000, 3000), 15.0),
    ):
        image = _framed(retina, diameter, shape)
        t = _timed(fundus.analyse, image, repeat=3 if diameter < 1000 else 1)
        t_ref = _timed(frangi, image[..., 1], repeat=3 if diameter < 1000 else 1)
        ok = "OK" if t < limit else "TOO SLOW"
        print(
            f"{label}: analyse {t:.2f} s (target < {limit:.0f} s, {ok}); "
            f"skimage frangi default {t_ref:.2f} s; ratio {t / t_ref:.2f}"
        )
    if "--chase" in sys.argv:
        _chase(fundus)


def _chase(fundus) -> None:
    import skimage.io

    if not CHASE.is_dir():
        print(f"CHASE_DB1 not found at {CHASE}")
        return
    r = fundus.score_chase(CHASE)
    for name, s in r["images"].items():
        truth = skimage.io.imread(CHASE / f"{name}_1stHO.png") > 0
        a = fundus.analyse(skimage.io.imread(CHASE / f"{name}.jpg"))
        rank = fundus.vessel_hub_rank(a.disc, truth, a.fov)
        print(
            f"{name}: sensitivity {s['sensitivity']:.3f} specificity {s['specificity']:.3f} "
            f"F1 {s['f1']:.3f} (2nd observer F1 {s['second_observer']['f1']:.3f}); "
            f"disc hub rank {rank:.3f}, confidence {a.disc.confidence:.2f}"
        )
    m, m2 = r["mean"], r["second_observer_mean"]
    print(
        f"mean of {r['n_held_out']} held-out: sensitivity {m['sensitivity']:.4f} specificity "
        f"{m['specificity']:.4f} F1 {m['f1']:.4f}; 2nd observer F1 {m2['f1']:.4f}"
    )


if __name__ == "__main__":
    main()
