"""A Leaspy logistic disease-course model read from the JSON file Leaspy's `save` writes.

Leaspy (ARAMIS lab, ICM/Inria; BSD-3-Clause-Clear) v2 logistic model with sources
(Schiratti et al. 2017; Koval et al. 2021), for feature k at age t:

    rt = exp(xi) * (t - tau)                   reparametrised (disease) time, years
    w = sources @ mixing_matrix                space shifts, one per feature
    g = exp(log_g_mean); v0 = exp(log_v0_mean); metric = (g + 1)**2 / g
    y_k(t) = sigmoid(metric_k * (v0_k * rt + w_k) - log g_k)   (0 healthy .. 1)

as in leaspy 2.1.0 `models/logistic.py` (`model_with_sources`, `metric`) and
`models/time_reparametrized.py` (`time_reparametrization`). Leaspy recomputes the mixing
matrix at load from `betas_mean` and a Householder basis orthogonal to metric**2 * v0
(`utils/linalg.py`, `compute_orthonormal_basis`, strip_col 0) and checks the stored one
against it (absolute tolerance 1e-4): this module does the same. Leaspy 1.x files (1.1 to
1.5: parameters "g", "v0", "betas", noise in "noise_model") describe the same model and load
exactly (see `_load_v1`); files older than 1.1 (no "leaspy_version") are refused, as Leaspy
refuses them.

Our extension: an optional top-level key "meditwin" (Leaspy's loader passes unknown
top-level keys to the model as ignored keyword arguments) carrying a label, whether the
model is a demonstration, its licence and source, and per-feature linear scalings from a
clinical unit to the model's 0-1 space: y = (x - at_0) / (at_1 - at_0).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import N_, TwinInputError, tr

DATA = Path(__file__).parent / "data"
SUPPORTED = N_("Leaspy's logistic model (file written by Leaspy's `save`, 1.1 to 2.x)")
# Leaspy checks a stored mixing matrix against the recomputed one with this tolerance
# (leaspy 2.1.0 models/stateful.py, load_parameters: torch.allclose(..., atol=1e-4)).
MIXING_ATOL = 1e-4
_GAUSSIAN = ("gaussian-diagonal", "gaussian-scalar")


def normalise_name(name: str) -> str:
    """Feature/measurement name key: case-insensitive, spaces, hyphens, underscores ignored."""
    return re.sub(r"[\s\-_]+", "", str(name)).lower()


@dataclass(frozen=True)
class Scaling:
    """Linear map between a clinical unit and the model's 0-1 space (0 = healthy end)."""

    unit: str
    at_0: float
    at_1: float

    def to_model(self, x: Any) -> Any:
        """Clinical value(s) -> model space: (x - at_0) / (at_1 - at_0)."""
        return (np.asarray(x, dtype=float) - self.at_0) / (self.at_1 - self.at_0)

    def to_clinical(self, y: Any) -> Any:
        """Model-space value(s) -> clinical unit."""
        return self.at_0 + np.asarray(y, dtype=float) * (self.at_1 - self.at_0)


@dataclass(frozen=True, eq=False)
class LeaspyModel:
    """A loaded Leaspy logistic model (population parameters and priors)."""

    features: tuple[str, ...]
    log_g: np.ndarray  # (n_features,)
    log_v0: np.ndarray  # (n_features,)
    mixing_matrix: np.ndarray  # (source_dimension, n_features)
    tau_mean: float
    tau_std: float
    xi_mean: float
    xi_std: float
    noise_std: np.ndarray  # (n_features,)
    scaling: Mapping[str, Scaling] = field(default_factory=dict)
    label: str = ""
    demonstration: bool = False
    licence: str = ""
    source: str = ""
    sources_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n_sources,)
    sources_std: float = 1.0
    leaspy_version: str = ""
    obs_model: str = "gaussian-diagonal"

    @property
    def n_features(self) -> int:
        """Number of features (model dimension)."""
        return len(self.features)

    @property
    def source_dimension(self) -> int:
        """Number of sources."""
        return int(self.mixing_matrix.shape[0])

    def values_at_rt(self, rt: Any, sources: Any) -> np.ndarray:
        """Model values (n_times, n_features) at reparametrised times `rt` (years)."""
        rt = np.atleast_1d(np.asarray(rt, dtype=float))
        w = self.space_shifts(sources)
        g = np.exp(self.log_g)
        metric = (g + 1.0) ** 2 / g
        logit = metric * (np.exp(self.log_v0) * rt[:, None] + w) - self.log_g
        return _sigmoid(logit)

    def values(self, ages: Any, xi: float, tau: float, sources: Any) -> np.ndarray:
        """Model values (n_ages, n_features) at `ages` (years) for one patient."""
        ages = np.atleast_1d(np.asarray(ages, dtype=float))
        return self.values_at_rt(math.exp(xi) * (ages - tau), sources)

    def space_shifts(self, sources: Any) -> np.ndarray:
        """Space shifts w = sources @ mixing_matrix, (n_features,)."""
        s = np.asarray(sources if sources is not None else [], dtype=float).reshape(-1)
        if s.size != self.source_dimension:
            raise TwinInputError(
                tr(
                    "The model has {source_dimension} sources; {size} were given."
                ).format(
                    source_dimension=self.source_dimension,
                    size=s.size,
                )
            )
        if s.size == 0:
            return np.zeros(self.n_features)
        return s @ self.mixing_matrix

    def feature_index(self, name: str) -> int | None:
        """Index of the feature matching `name` (case, spaces, hyphens, underscores ignored)."""
        key = normalise_name(name)
        for i, f in enumerate(self.features):
            if normalise_name(f) == key:
                return i
        return None

    def scaling_for(self, name: str) -> Scaling | None:
        """The clinical scaling of a feature, or None (its values are in the 0-1 space)."""
        key = normalise_name(name)
        for f, s in self.scaling.items():
            if normalise_name(f) == key:
                return s
        return None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def householder_basis(dgamma: np.ndarray, metric_diag: np.ndarray) -> np.ndarray:
    """Leaspy's orthonormal basis (dimension, dimension-1): Householder reflection of
    metric_diag * dgamma onto e_0, first column dropped (leaspy 2.1.0 utils/linalg.py)."""
    d = np.asarray(metric_diag, dtype=float) * np.asarray(dgamma, dtype=float)
    n = d.size
    alpha = -np.sign(d[0]) * np.linalg.norm(d)
    u = d.copy()
    u[0] -= alpha
    v = u / np.linalg.norm(u)
    q = np.eye(n) - 2.0 * np.outer(v, v)
    return q[:, 1:]


def mixing_from_betas(log_g: np.ndarray, log_v0: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """Mixing matrix (n_sources, n_features) = (basis @ betas).T, the basis orthogonal to
    v0 for the metric (g + 1)**2 / g, as Leaspy's logistic model derives it."""
    g = np.exp(log_g)
    metric = (g + 1.0) ** 2 / g
    basis = householder_basis(np.exp(log_v0), metric**2)
    return (basis @ betas).T


def demo_model_path() -> Path:
    """The twin's default model: Leaspy's example model with clinical scalings."""
    return DATA / "demo_model.json"


def example_model_path() -> Path:
    """Leaspy's published example model (alzheimer-model_parameters.json), unmodified."""
    return DATA / "leaspy_example_alzheimer.json"


def _bad(path: Path | str, why: str) -> TwinInputError:
    return TwinInputError(tr(
        "Model file {name}: {why}"
    ).format(
        name=Path(path).name,
        why=why,
    ))


def _vector(path: Path | str, params: Mapping[str, Any], key: str, n: int) -> np.ndarray:
    if key not in params:
        raise _bad(path, tr(
            "the parameter '{key}' is missing; re-save the model with Leaspy."
        ).format(
            key=key,
        ))
    try:
        arr = np.asarray(params[key], dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise _bad(path, tr(
            "the parameter '{key}' is not a list of numbers."
        ).format(
            key=key,
        )) from exc
    if arr.size != n:
        raise _bad(
            path,
            tr(
                "'{key}' has {size} values but the model has {n} features (dimension and "
                "parameter lengths disagree)."
            ).format(
                key=key,
                size=arr.size,
                n=n,
            ),
        )
    if not np.all(np.isfinite(arr)):
        raise _bad(path, tr("'{key}' holds non-finite values.").format(key=key))
    return arr


def _scalar(path: Path | str, params: Mapping[str, Any], key: str, positive: bool) -> float:
    arr = _vector(path, params, key, 1) if key in params else None
    if arr is None:
        raise _bad(path, tr(
            "the parameter '{key}' is missing; re-save the model with Leaspy."
        ).format(
            key=key,
        ))
    value = float(arr[0])
    if positive and value <= 0:
        raise _bad(path, tr(
            "'{key}' must be > 0 (it is {value})."
        ).format(
            key=key,
            value=value,
        ))
    return value


def _obs_model(path: Path | str, settings: Mapping[str, Any]) -> str:
    obs = settings.get("obs_models", "gaussian-diagonal")
    if isinstance(obs, Mapping):
        if set(obs) != {"y"}:
            raise _bad(
                path,
                tr(
                    "observation models {obs} are not supported: only one gaussian observation "
                    "model ('y') is."
                ).format(
                    obs=sorted(obs),
                ),
            )
        obs = obs["y"]
    if isinstance(obs, list | tuple):
        if len(obs) != 1:
            raise _bad(path, tr("only one (gaussian) observation model is supported."))
        obs = obs[0]
    if not isinstance(obs, str) or obs.lower() not in _GAUSSIAN:
        raise _bad(
            path,
            tr(
                "observation model '{obs}' is not supported: only gaussian noise "
                "('gaussian-diagonal' or 'gaussian-scalar') is."
            ).format(
                obs=obs,
            ),
        )
    return obs.lower()


def _meditwin(path: Path | str, block: Any, features: tuple[str, ...]) -> dict[str, Any]:
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise _bad(path, tr("the 'meditwin' block must be an object."))
    out: dict[str, Any] = {
        "label": str(block.get("label", "")),
        "demonstration": bool(block.get("demonstration", False)),
        "licence": str(block.get("licence", "")),
        "source": str(block.get("source", "")),
    }
    keys = {normalise_name(f): f for f in features}
    scaling: dict[str, Scaling] = {}
    raw = block.get("scaling", {}) or {}
    if not isinstance(raw, Mapping):
        raise _bad(path, tr(
            "'meditwin.scaling' must map feature names to {unit, at_0, at_1}."
        ))
    for name, spec in raw.items():
        feature = keys.get(normalise_name(name))
        if feature is None:
            raise _bad(path, tr(
                "the scaling names '{name}', which is not a model feature."
            ).format(
                name=name,
            ))
        try:
            s = Scaling(str(spec["unit"]), float(spec["at_0"]), float(spec["at_1"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(path, tr(
                "the scaling of '{name}' needs unit, at_0 and at_1."
            ).format(
                name=name,
            )) from exc
        if not (math.isfinite(s.at_0) and math.isfinite(s.at_1)) or s.at_0 == s.at_1:
            raise _bad(path, tr(
                "the scaling of '{name}' needs two different finite ends."
            ).format(
                name=name,
            ))
        scaling[feature] = s
    out["scaling"] = scaling
    return out


def load_model(path: str | Path) -> LeaspyModel:
    """Read a Leaspy logistic model JSON file; TwinInputError with a clear message otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise _bad(path, tr("not found.")) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, tr(
            "cannot be read ({name})."
        ).format(
            name=exc.__class__.__name__,
        )) from exc
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            path,
            tr(
                "is not valid JSON (line {lineno}: {msg}); a Leaspy model is the JSON file "
                "written by Leaspy's save (is the file truncated?)."
            ).format(
                lineno=exc.lineno,
                msg=exc.msg,
            ),
        ) from exc
    if not isinstance(settings, Mapping) or "name" not in settings or "parameters" not in settings:
        raise _bad(path, tr(
            "is not a Leaspy model file (no 'name' and 'parameters'); {supported}."
        ).format(
            supported=tr(SUPPORTED),
        ))
    name = str(settings["name"]).lower()
    version = str(settings.get("leaspy_version", ""))
    if name != "logistic":
        raise _bad(
            path,
            tr(
                "is a Leaspy '{name}' model; only {supported} is supported."
            ).format(
                name=settings['name'],
                supported=tr(SUPPORTED),
            ),
        )
    if not version:
        raise _bad(
            path,
            tr(
                "has no 'leaspy_version': it was written by Leaspy < 1.1, which Leaspy itself "
                "no longer loads; re-fit it with Leaspy 2."
            ),
        )
    params = settings["parameters"]
    if not isinstance(params, Mapping):
        raise _bad(path, tr("'parameters' must be an object."))
    load = _load_v1 if version.startswith(("0.", "1.")) or "v0" in params or "g" in params else (
        _load_v2)  # fmt: skip
    try:
        return load(path, settings, version)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        # a value of the wrong type or shape somewhere the checks did not foresee
        raise _bad(path, tr(
            "has a value Leaspy would not have written ({exc}); {supported}."
        ).format(
            exc=exc,
            supported=tr(SUPPORTED),
        )) from (
            exc)  # fmt: skip


def _features(path: Path | str, settings: Mapping[str, Any]) -> tuple[str, ...]:
    features = settings.get("features")
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(f, str) and f.strip() for f in features)
    ):
        raise _bad(path, tr("'features' must be a non-empty list of feature names."))
    if len({normalise_name(f) for f in features}) != len(features):
        raise _bad(path, tr(
            "two features have the same name (case, spaces, hyphens ignored)."
        ))
    dim = settings.get("dimension", len(features))
    if dim != len(features):
        raise _bad(path, tr(
            "'dimension' is {dim} but {count} features are listed."
        ).format(
            dim=dim,
            count=len(features),
        ))
    return tuple(features)


def _features_and_sources(path: Path, settings: Mapping[str, Any]) -> tuple[tuple[str, ...], int]:
    """The features and the number of sources, checked (both file formats)."""
    features = _features(path, settings)
    n = len(features)
    ns = settings.get("source_dimension", 0 if n == 1 else None)
    if not isinstance(ns, int) or isinstance(ns, bool) or not 0 <= ns <= max(n - 1, 0):
        raise _bad(path, tr(
            "'source_dimension' must be an integer in [0, {value}] (it is {ns})."
        ).format(
            value=n - 1,
            ns=ns,
        ))
    return features, ns


def _model(
    path: Path,
    settings: Mapping[str, Any],
    features: tuple[str, ...],
    log_g: np.ndarray,
    log_v0: np.ndarray,
    mixing: np.ndarray,
    noise: np.ndarray,
    priors: tuple[float, np.ndarray, float],
    version: str,
    obs: str,
) -> LeaspyModel:
    """The model, with tau's prior (same keys in both formats), the other priors
    (xi_mean, sources_mean, sources_std) and the MEDITWIN block."""
    params = settings["parameters"]
    xi_mean, sources_mean, sources_std = priors
    return LeaspyModel(
        features=features,
        log_g=log_g,
        log_v0=log_v0,
        mixing_matrix=mixing,
        tau_mean=_scalar(path, params, "tau_mean", False),
        tau_std=_scalar(path, params, "tau_std", True),
        xi_mean=xi_mean,
        xi_std=_scalar(path, params, "xi_std", True),
        noise_std=noise,
        sources_mean=sources_mean,
        sources_std=sources_std,
        leaspy_version=version,
        obs_model=obs,
        **_meditwin(path, settings.get("meditwin"), features),
    )


def _load_v2(path: Path, settings: Mapping[str, Any], version: str) -> LeaspyModel:
    features, ns = _features_and_sources(path, settings)
    n = len(features)
    params = settings["parameters"]
    obs = _obs_model(path, settings)
    log_g = _vector(path, params, "log_g_mean", n)
    log_v0 = _vector(path, params, "log_v0_mean", n)
    if obs == "gaussian-scalar":
        noise = np.full(n, _scalar(path, params, "noise_std", True))
    else:
        raw = np.asarray(params.get("noise_std", []), dtype=float).reshape(-1)
        noise = np.full(n, raw[0]) if raw.size == 1 else _vector(path, params, "noise_std", n)
    if np.any(noise <= 0) or not np.all(np.isfinite(noise)):
        raise _bad(path, tr("'noise_std' must be > 0 for every feature."))
    mixing = _mixing_v2(path, params, log_g, log_v0, n, ns)
    hyper = settings.get("hyperparameters") or {}
    xi_mean = float(hyper.get("xi_mean", 0.0))
    sources_mean = np.asarray(hyper.get("sources_mean", np.zeros(ns)), dtype=float).reshape(-1)
    if sources_mean.size != ns:
        raise _bad(path, tr(
            "'sources_mean' has {size} values for {ns} sources."
        ).format(
            size=sources_mean.size,
            ns=ns,
        ))
    sources_std = float(np.asarray(hyper.get("sources_std", 1.0), dtype=float).reshape(-1)[0])
    if sources_std <= 0:
        raise _bad(path, tr("'sources_std' must be > 0."))
    return _model(path, settings, features, log_g, log_v0, mixing, noise,
                  (xi_mean, sources_mean, sources_std), version, obs)  # fmt: skip


def _mixing_v2(
    path: Path, params: Mapping[str, Any], log_g: np.ndarray, log_v0: np.ndarray, n: int, ns: int
) -> np.ndarray:
    if ns == 0:
        return np.zeros((0, n))
    stored = None
    if "mixing_matrix" in params:
        try:
            stored = np.asarray(params["mixing_matrix"], dtype=float)
        except (TypeError, ValueError) as exc:
            raise _bad(path, tr("'mixing_matrix' is not a matrix of numbers.")) from exc
        if stored.shape != (ns, n):
            raise _bad(
                path,
                f"'mixing_matrix' has shape {stored.shape} but source_dimension {ns} and "
                f"{n} features need ({ns}, {n}).",
            )
    if "betas_mean" in params:
        try:
            betas = np.asarray(params["betas_mean"], dtype=float)
        except (TypeError, ValueError) as exc:
            raise _bad(path, tr("'betas_mean' is not a matrix of numbers.")) from exc
        if betas.shape != (n - 1, ns):
            raise _bad(
                path,
                f"'betas_mean' has shape {betas.shape}; {n} features and {ns} sources "
                f"need ({n - 1}, {ns}).",
            )
        mixing = mixing_from_betas(log_g, log_v0, betas)
        if stored is not None and not np.allclose(stored, mixing, atol=MIXING_ATOL, rtol=0):
            raise _bad(
                path,
                "its 'mixing_matrix' disagrees with the one Leaspy derives from 'betas_mean' "
                f"(max difference {np.abs(stored - mixing).max():.2g}); the file was edited "
                "or is corrupt.",
            )
        return mixing
    if stored is None:
        raise _bad(
            path,
            tr(
                "the model has {ns} sources but neither 'mixing_matrix' nor 'betas_mean' is "
                "given; re-save the model with Leaspy."
            ).format(
                ns=ns,
            ),
        )
    if not np.all(np.isfinite(stored)):
        raise _bad(path, tr("'mixing_matrix' holds non-finite values."))
    return stored


def _load_v1(path: Path, settings: Mapping[str, Any], version: str) -> LeaspyModel:
    """Leaspy 1.x multivariate logistic file (leaspy 1.5.0 models/multivariate.py,
    models/utils/attributes/logistic_attributes.py): parameters "g" and "v0" hold log g and
    log v0, the same curve and time reparametrisation as 2.x; the mixing matrix is recomputed
    from "betas" with the same Householder basis (metric (1 + g)**4 / g**2 = metric**2); the
    stored one (features x sources) is ignored, as 1.x does at load."""
    features, ns = _features_and_sources(path, settings)
    n = len(features)
    params = settings["parameters"]
    noise = settings.get("noise_model", "gaussian-diagonal")
    scale = params.get("noise_std")
    if isinstance(noise, Mapping):
        scale = noise.get("scale", scale)
        noise = noise.get("name", "")
    obs = str(noise).replace("_", "-").lower()
    if obs not in _GAUSSIAN:
        raise _bad(
            path,
            tr(
                "noise model '{noise}' is not supported: only gaussian noise "
                "('gaussian-diagonal' or 'gaussian-scalar') is."
            ).format(
                noise=noise,
            ),
        )
    if scale is None:
        raise _bad(path, tr("the gaussian noise scale (noise_std) is missing."))
    noise_std = _vector(path, {"noise_std": scale}, "noise_std", np.size(scale))
    noise_std = np.full(n, noise_std[0]) if noise_std.size == 1 else noise_std
    if noise_std.size != n or np.any(noise_std <= 0):
        raise _bad(path, tr("'noise_std' must be one or {n} values > 0.").format(n=n))
    log_g = _vector(path, params, "g", n)
    log_v0 = _vector(path, params, "v0", n)
    if ns:
        if "betas" not in params:
            raise _bad(path, tr(
                "the model has {ns} sources but no 'betas'."
            ).format(
                ns=ns,
            ))
        betas = np.asarray(params["betas"], dtype=float)
        if betas.shape != (n - 1, ns):
            raise _bad(path, tr(
                "'betas' has shape {shape}; expected ({value}, {ns})."
            ).format(
                shape=betas.shape,
                value=n - 1,
                ns=ns,
            ))
        mixing = mixing_from_betas(log_g, log_v0, betas)
    else:
        mixing = np.zeros((0, n))
    sources_mean = float(params.get("sources_mean", 0.0)) if ns else 0.0
    priors = (float(params.get("xi_mean", 0.0)), np.full(ns, sources_mean),
              float(params.get("sources_std", 1.0)) if ns else 1.0)  # fmt: skip
    return _model(path, settings, features, log_g, log_v0, mixing, noise_std, priors, version,
                  obs)  # fmt: skip
