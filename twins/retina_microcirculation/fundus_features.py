"""Pixel features and the small bundled vessel classifier of the fundus analysis.

The photograph is first resampled so that its field of view (FOV) is `WORK_DIAMETER` pixels
across (CHASE_DB1's native FOV size), so every filter scale below is a fixed fraction of the
FOV diameter: the same code serves a 565 x 584 DRIVE-like image and a 3000 x 2000 camera image.

Features per pixel (scipy.ndimage Gaussian derivatives and grey closings, on the CLAHE green
channel from skimage.exposure.equalize_adapthist, inverted so vessels are bright):
intensity at three smoothings, background-subtracted intensity, Hessian eigenvalues at four
scales (scale-normalised, the quantities Frangi's vesselness is built from), black top-hats
(grey closing minus image) at two sizes, gradient magnitude at two scales.

The classifier is a one-hidden-layer perceptron (numpy only) trained by `train()` on CHASE_DB1
children 01-07 (Owen et al. 2009; Fraz et al. 2012, CC BY 4.0), 1st observer masks; weights are
shipped in data/vessel_mlp.npz (see data/README.md). The held-out children 08-14 are never seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

WORK_DIAMETER = 920.0  # FOV diameter (pixels) the features and the model work at
MODEL_PATH = Path(__file__).with_name("data") / "vessel_mlp.npz"
TRAIN_CHILDREN = tuple(f"{i:02d}" for i in range(1, 8))
TEST_CHILDREN = tuple(f"{i:02d}" for i in range(8, 15))

_HESSIAN_SIGMAS = (1.0, 1.6, 2.6, 4.2)
_FEATURE_NAMES = (
    ["e", "e_s1", "e_s3", "e_minus_bg"]
    + [f"{n}_s{s}" for s in _HESSIAN_SIGMAS for n in ("l1", "l2")]
    + ["tophat7", "tophat15", "grad1", "grad2.5", "local_z", "line15", "line25"]
)


def _line_kernels(length: int, n_angles: int = 12) -> list[np.ndarray]:
    """Averaging kernels along straight lines of `length` pixels (Ricci and Perfetti 2007)."""
    half = length // 2
    t = np.linspace(-half, half, 4 * length)
    kernels = []
    for angle in np.arange(n_angles) * np.pi / n_angles:
        k = np.zeros((length, length), np.float32)
        rr = np.rint(half + t * np.sin(angle)).astype(int)
        cc = np.rint(half + t * np.cos(angle)).astype(int)
        k[rr, cc] = 1.0
        kernels.append(k / k.sum())
    return kernels


_LINES = {n: _line_kernels(n) for n in (15, 25)}


def fill_outside(image: np.ndarray, fov: np.ndarray, sigma: float = 8.0) -> np.ndarray:
    """`image` with the pixels outside `fov` replaced by the nearest inside value, smoothed
    (scipy.ndimage.distance_transform_edt + gaussian_filter), so that filters see no
    artificial edge at the FOV border."""
    image = np.asarray(image, np.float32)
    if fov.all() or not fov.any():
        return image.copy()
    idx = ndi.distance_transform_edt(~fov, return_distances=False, return_indices=True)
    filled = image[idx[0], idx[1]]
    smooth = ndi.gaussian_filter(filled, sigma)
    out = image.copy()
    out[~fov] = smooth[~fov]
    return out


def features(e: np.ndarray, fov: np.ndarray) -> np.ndarray:
    """(H, W, F) float32 features of the inverted enhanced green `e` (vessels bright, 0..1)
    at the working scale; `fov` bool. Uses scipy.ndimage gaussian_filter (with derivative
    orders) and grey_closing."""
    e = fill_outside(e, fov)
    g = ndi.gaussian_filter
    out = [e, g(e, 1.0), g(e, 3.0), e - g(e, 12.0)]
    for s in _HESSIAN_SIGMAS:
        rr = g(e, s, order=(2, 0))
        cc = g(e, s, order=(0, 2))
        rc = g(e, s, order=(1, 1))
        half = 0.5 * (rr + cc)
        root = np.sqrt(0.25 * (rr - cc) ** 2 + rc**2)
        # vessels are bright ridges in e: strongly negative second derivative across them
        out += [-(half - root) * s * s, -(half + root) * s * s]
    inv = -e  # vessels dark in inv: black top-hat = closing(inv) - inv
    for size in (7, 15):
        out.append(ndi.grey_closing(inv, size=(size, size)) - inv)
    for s in (1.0, 2.5):
        out.append(np.hypot(g(e, s, order=(1, 0)), g(e, s, order=(0, 1))) * s)
    mean = ndi.uniform_filter(e, 31)
    sd = np.sqrt(np.maximum(ndi.uniform_filter(e * e, 31) - mean * mean, 1e-6))
    out.append((e - mean) / sd)
    for n, kernels in _LINES.items():
        best = ndi.correlate(e, kernels[0])
        for k in kernels[1:]:
            np.maximum(best, ndi.correlate(e, k), out=best)
        out.append((best - ndi.uniform_filter(e, n)) / sd)
    return np.stack(out, axis=-1).astype(np.float32)


def _mlp_forward(x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    z = (x - p["mean"]) / p["std"]
    h = np.tanh(z @ p["w1"] + p["b1"])
    return 1.0 / (1.0 + np.exp(-(h @ p["w2"] + p["b2"])))


_MODEL: dict[str, np.ndarray] | None = None


def load_model(path: Path = MODEL_PATH) -> dict[str, np.ndarray]:
    """The bundled classifier's weights (read once, offline)."""
    global _MODEL
    if _MODEL is None or path != MODEL_PATH:
        with np.load(path) as f:
            model = {k: f[k] for k in f.files}
        if path != MODEL_PATH:
            return model
        _MODEL = model
    return _MODEL


def vessel_probability(feat: np.ndarray, fov: np.ndarray, model: dict | None = None) -> np.ndarray:
    """(H, W) float32 vessel probability from `features()`; 0 outside `fov`."""
    p = load_model() if model is None else model
    prob = np.zeros(fov.shape, np.float32)
    x = feat[fov]
    for start in range(0, len(x), 400_000):
        prob_part = _mlp_forward(x[start : start + 400_000], p)
        prob.flat[np.flatnonzero(fov)[start : start + 400_000]] = prob_part.ravel()
    return prob


def _adam_fit(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / std
    nf = x.shape[1]
    w = {
        "w1": rng.normal(0, 1 / np.sqrt(nf), (nf, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0, 1 / np.sqrt(hidden), (hidden, 1)),
        "b2": np.zeros(1),
    }
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v2 = {k: np.zeros_like(v) for k, v in w.items()}
    lr, b1, b2, t, batch = 3e-3, 0.9, 0.999, 0, 4096
    for _ in range(epochs):
        order = rng.permutation(len(z))
        for start in range(0, len(z), batch):
            idx = order[start : start + batch]
            xb, yb = z[idx], y[idx, None]
            h = np.tanh(xb @ w["w1"] + w["b1"])
            out = 1 / (1 + np.exp(-(h @ w["w2"] + w["b2"])))
            d_out = (out - yb) / len(idx)  # cross-entropy gradient
            dh = (d_out @ w["w2"].T) * (1 - h * h)
            grads = {
                "w2": h.T @ d_out + 1e-4 * w["w2"],
                "b2": d_out.sum(0),
                "w1": xb.T @ dh + 1e-4 * w["w1"],
                "b1": dh.sum(0),
            }
            t += 1
            for k in w:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v2[k] = b2 * v2[k] + (1 - b2) * grads[k] ** 2
                mh, vh = m[k] / (1 - b1**t), v2[k] / (1 - b2**t)
                w[k] -= lr * mh / (np.sqrt(vh) + 1e-8)
    return {"mean": mean, "std": std, **w}


def train(
    folder: Path,
    children: Sequence[str] = TRAIN_CHILDREN,
    out: Path = MODEL_PATH,
    per_image: int = 50_000,
    hidden: int = 32,
    epochs: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """Retrain the bundled classifier on CHASE_DB1 `children` (both eyes of each child, 1st
    observer), save it to `out` with the F1-optimal threshold on the training pixels.
    Returns {'threshold', 'train_f1', 'n_pixels'}. Deterministic for a given `seed`."""
    import skimage.io

    from .fundus import prepare  # local: fundus imports this module

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for child in children:
        for eye in ("L", "R"):
            rgb = skimage.io.imread(Path(folder) / f"Image_{child}{eye}.jpg")
            truth = skimage.io.imread(Path(folder) / f"Image_{child}{eye}_1stHO.png") > 0
            work = prepare(rgb)
            feat = features(work.e, work.fov)
            t = work.resize_to_work(truth.astype(np.float32)) > 0.5
            idx = np.flatnonzero(work.fov)
            pick = rng.choice(idx, size=min(per_image, len(idx)), replace=False)
            xs.append(feat.reshape(-1, feat.shape[-1])[pick])
            ys.append(t.ravel()[pick].astype(np.float64))
    x, y = np.concatenate(xs).astype(np.float64), np.concatenate(ys)
    params = _adam_fit(x, y, hidden, epochs, seed)
    prob = _mlp_forward(x, params).ravel()
    best = (0.0, 0.5)
    for th in np.linspace(0.2, 0.8, 61):
        pred = prob >= th
        tp = float((pred & (y > 0)).sum())
        f1 = 2 * tp / (pred.sum() + (y > 0).sum())
        best = max(best, (f1, float(th)))
    params["threshold"] = np.array(best[1])
    params["feature_names"] = np.array(_FEATURE_NAMES)
    np.savez_compressed(out, **{k: np.asarray(v, np.float32) if k != "feature_names" else v
                                for k, v in params.items()})  # fmt: skip
    global _MODEL
    _MODEL = None
    return {"threshold": best[1], "train_f1": best[0], "n_pixels": float(len(y))}
