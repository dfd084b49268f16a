"""The Leaspy model file reader and the logistic model's equations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from meditwin_desktop.core.twin import TwinInputError

from .. import leaspy_model as lm


def _classic(model: lm.LeaspyModel, age: float, xi: float, tau: float, sources) -> list[float]:
    """Scalar classic form 1 / (1 + g exp(-metric (v0 rt + w))), element by element."""
    rt = math.exp(xi) * (age - tau)
    out = []
    for k in range(model.n_features):
        w = sum(sources[j] * model.mixing_matrix[j, k] for j in range(len(sources)))
        g = math.exp(model.log_g[k])
        metric = (g + 1.0) ** 2 / g
        out.append(1.0 / (1.0 + g * math.exp(-metric * (math.exp(model.log_v0[k]) * rt + w))))
    return out


def test_values_match_an_independent_scalar_implementation() -> None:
    model = lm.load_model(lm.example_model_path())
    rng = np.random.default_rng(20)
    worst = 0.0
    for _ in range(30):
        xi = rng.normal(0, 0.6)
        tau = rng.normal(77, 8)
        sources = rng.normal(0, 1, model.source_dimension)
        ages = rng.uniform(50, 100, 6)
        got = model.values(ages, xi, tau, sources)
        ref = np.array([_classic(model, a, xi, tau, sources) for a in ages])
        worst = max(worst, float(np.abs(got - ref).max()))
    assert got.shape == (6, 7)
    assert worst < 1e-9


def test_example_model_reads_as_leaspy_writes_it() -> None:
    model = lm.load_model(lm.example_model_path())
    raw = json.loads(lm.example_model_path().read_text())
    assert model.features[2] == "MMSE" and model.source_dimension == 2
    assert model.tau_mean == pytest.approx(77.15788269042969)
    assert model.xi_mean == 0.0 and model.sources_std == 1.0
    # Mixing matrix derived from betas as Leaspy does at load, equal to the stored one
    # (stored in float32, hence 1e-6).
    assert np.abs(model.mixing_matrix - np.array(raw["parameters"]["mixing_matrix"])).max() < 1e-6
    assert model.scaling == {} and not model.demonstration
    assert model.feature_index("hippocampus-volume_ratio") == 6
    assert model.feature_index("ADAS-Cog 13") is None


def test_demo_model_is_the_example_plus_labelled_scalings() -> None:
    demo = lm.load_model(lm.demo_model_path())
    example = lm.load_model(lm.example_model_path())
    assert demo.demonstration and "demonstration" in demo.label
    assert "BSD-3-Clause-Clear" in demo.licence
    np.testing.assert_array_equal(demo.log_v0, example.log_v0)
    mmse = demo.scaling_for("mmse")
    assert mmse is not None and mmse.unit == "points"
    assert mmse.to_model(30) == 0 and mmse.to_model(0) == 1
    assert float(mmse.to_clinical(mmse.to_model(23.5))) == pytest.approx(23.5)
    assert len(demo.scaling) == demo.n_features


def _write(tmp_path: Path, settings: dict | str) -> Path:
    p = tmp_path / "model.json"
    p.write_text(settings if isinstance(settings, str) else json.dumps(settings))
    return p


def _example() -> dict:
    return json.loads(lm.example_model_path().read_text())


def test_linear_or_joint_model_refused_by_name(tmp_path: Path) -> None:
    for name in ("linear", "joint", "mixture_logistic"):
        d = _example()
        d["name"] = name
        with pytest.raises(TwinInputError, match=f"Leaspy '{name}' model.*only Leaspy's logistic"):
            lm.load_model(_write(tmp_path, d))


def test_truncated_or_foreign_json_refused(tmp_path: Path) -> None:
    text = lm.example_model_path().read_text()
    with pytest.raises(TwinInputError, match=r"not valid JSON.*truncated"):
        lm.load_model(_write(tmp_path, text[: len(text) // 2]))
    with pytest.raises(TwinInputError, match="not a Leaspy model file"):
        lm.load_model(_write(tmp_path, {"patients": []}))
    with pytest.raises(TwinInputError, match="not found"):
        lm.load_model(tmp_path / "absent.json")


def test_missing_or_inconsistent_parameters_refused(tmp_path: Path) -> None:
    d = _example()
    del d["parameters"]["mixing_matrix"]
    del d["parameters"]["betas_mean"]
    with pytest.raises(TwinInputError, match="neither 'mixing_matrix' nor 'betas_mean'"):
        lm.load_model(_write(tmp_path, d))
    d = _example()
    d["parameters"]["mixing_matrix"] = d["parameters"]["mixing_matrix"][:1]
    with pytest.raises(TwinInputError, match=r"shape \(1, 7\).*source_dimension 2"):
        lm.load_model(_write(tmp_path, d))
    d = _example()
    d["parameters"]["mixing_matrix"][0][3] += 0.01
    with pytest.raises(TwinInputError, match="disagrees with the one Leaspy derives"):
        lm.load_model(_write(tmp_path, d))
    d = _example()
    d["parameters"]["log_v0_mean"] = d["parameters"]["log_v0_mean"][:6]
    with pytest.raises(TwinInputError, match=r"'log_v0_mean' has 6 values.*7 features"):
        lm.load_model(_write(tmp_path, d))
    d = _example()
    d["dimension"] = 8
    with pytest.raises(TwinInputError, match="'dimension' is 8"):
        lm.load_model(_write(tmp_path, d))
    d = _example()
    del d["parameters"]["tau_std"]
    with pytest.raises(TwinInputError, match="'tau_std' is missing"):
        lm.load_model(_write(tmp_path, d))


def test_mixing_matrix_alone_or_betas_alone_suffice(tmp_path: Path) -> None:
    ref = lm.load_model(lm.example_model_path()).mixing_matrix
    d = _example()
    del d["parameters"]["mixing_matrix"]  # Leaspy's save(with_mixing_matrix=False)
    np.testing.assert_allclose(lm.load_model(_write(tmp_path, d)).mixing_matrix, ref)
    d = _example()
    del d["parameters"]["betas_mean"]
    np.testing.assert_allclose(lm.load_model(_write(tmp_path, d)).mixing_matrix, ref, atol=1e-6)


def test_observation_models(tmp_path: Path) -> None:
    d = _example()
    d["obs_models"] = {"y": "bernoulli"}
    with pytest.raises(TwinInputError, match=r"'bernoulli' is not supported.*gaussian"):
        lm.load_model(_write(tmp_path, d))
    d = _example()
    d["obs_models"] = {"y": "gaussian-scalar"}
    d["parameters"]["noise_std"] = [0.1]
    model = lm.load_model(_write(tmp_path, d))
    np.testing.assert_array_equal(model.noise_std, np.full(7, 0.1))


def test_scaling_must_name_a_feature(tmp_path: Path) -> None:
    d = _example()
    d["meditwin"] = {"scaling": {"CDR-SB": {"unit": "points", "at_0": 0, "at_1": 18}}}
    with pytest.raises(TwinInputError, match="'CDR-SB', which is not a model feature"):
        lm.load_model(_write(tmp_path, d))


V1_FILE = Path(__file__).parent / "data" / "leaspy1_alzheimer-multivariate-model_parameters.json"


def test_leaspy_1_file_gives_the_same_model(tmp_path: Path) -> None:
    # Leaspy 1.5.0's copy of the same example model (datasets/model_parameters/
    # alzheimer-multivariate-model_parameters.json, written by 1.2.1rc1, BSD-3-Clause):
    # parameters g, v0, betas, noise in "noise_model"; the mixing matrix it stores
    # (features x sources) must be what we derive from betas.
    v1 = lm.load_model(V1_FILE)
    v2 = lm.load_model(lm.example_model_path())
    assert v1.leaspy_version.startswith("1.")
    stored = np.array(json.loads(V1_FILE.read_text())["parameters"]["mixing_matrix"]).T
    assert np.abs(v1.mixing_matrix - stored).max() < 1e-6
    ages = np.linspace(60, 95, 8)
    np.testing.assert_allclose(
        v1.values(ages, 0.2, 74.0, [0.3, -0.8]), v2.values(ages, 0.2, 74.0, [0.3, -0.8]), atol=1e-7
    )
    np.testing.assert_array_equal(v1.noise_std, v2.noise_std)
    d = json.loads(V1_FILE.read_text())
    d["noise_model"] = {"name": "ordinal"}
    with pytest.raises(TwinInputError, match=r"noise model 'ordinal' is not supported"):
        lm.load_model(_write(tmp_path, d))
    d = json.loads(V1_FILE.read_text())
    d["name"] = "logistic_parallel"
    with pytest.raises(TwinInputError, match=r"Leaspy 'logistic_parallel' model"):
        lm.load_model(_write(tmp_path, d))
