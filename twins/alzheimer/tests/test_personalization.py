"""MAP personalisation of the Leaspy logistic model, against Leaspy's published individual
parameters and on patients simulated from the model."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.twin import TwinInputError

from .. import leaspy_checks as checks
from .. import personalization as pz
from ..leaspy_model import example_model_path, load_model


@pytest.fixture(scope="module")
def model():
    return load_model(example_model_path())


def test_gradient_and_hessian_match_finite_differences(model) -> None:
    _, obs, _ = checks.example_patients()
    problem = pz._Problem(model, obs[3].ages, obs[3].values)
    z = np.array([0.4, -0.3, 0.5, -1.1])
    eye, h = np.eye(4), 1e-6
    grad_fd = [(problem.fun(z + h * e) - problem.fun(z - h * e)) / (2 * h) for e in eye]
    hess_fd = [(problem.jac(z + h * e) - problem.jac(z - h * e)) / (2 * h) for e in eye]
    assert np.abs(np.array(grad_fd) - problem.jac(z)).max() < 1e-5
    assert np.abs(np.array(hess_fd) - problem.hess(z)).max() < 1e-5


def test_agrees_with_leaspys_published_individual_parameters(model) -> None:
    # Leaspy 2.1.0 example data and individual parameters (datasets/, BSD-3-Clause-Clear).
    # The published values are float32 and come from an optimiser stopped at its own
    # tolerance (Leaspy's scipy_minimize: Powell, xtol 1e-4 in prior-sd units, i.e.
    # ~1e-3 y for tau); measured over all 200 patients: median |dtau| 1e-4 y, p90 1e-3 y,
    # max 0.02 y; |dxi| median 3e-5, p90 2e-4. Tolerances below are ~5-10x those.
    n = 40
    diff_tau = checks.leaspy_agreement("tau", "median", n)
    assert diff_tau < 0.005
    assert checks.leaspy_agreement("tau", "p90", n) < 0.01
    assert checks.leaspy_agreement("tau", "max", n) < 0.05
    assert checks.leaspy_agreement("xi", "median", n) < 1e-3
    assert checks.leaspy_agreement("xi", "p90", n) < 5e-3
    assert checks.leaspy_agreement("sources", "median", n) < 1e-3
    assert checks.leaspy_agreement("sources", "p90", n) < 5e-3
    # Our MAP is at least as good a MAP as the published one for the same objective.
    _, obs, published = checks.example_patients()
    for o, p in zip(obs[:n], published[:n], strict=True):
        ind = pz.personalize(model, o)
        nlp = pz.objective(model, o)
        assert nlp(ind.mean) <= nlp(p) + 1e-6
        assert ind.converged


def test_published_file_is_leaspy_1_scipy_minimize() -> None:
    # Replaying Leaspy 1.x's default scipy_minimize (BFGS, gtol 1e-2) on our objective gives
    # the published values to float32 level (measured on 200: median |dtau| 7e-6 y, p90
    # 3e-4 y): the published file is that algorithm's output, and our objective is Leaspy's.
    assert checks.leaspy1_replay("tau", "median", 40) < 1e-4
    assert checks.leaspy1_replay("xi", "median", 40) < 1e-5


def test_recovers_simulated_patients(model) -> None:
    # Prior sd: tau 8.4 y, xi 0.61. Measured (60 patients, 5 yearly visits, seed 1):
    # median |dtau| 0.28 y, |dxi| 0.13.
    assert checks.recovery_error("tau", n_patients=60) < 0.6
    assert checks.recovery_error("xi", n_patients=60) < 0.25


def test_uncertainty_shrinks_as_visits_are_added(model) -> None:
    sds = [checks.tau_sd_median(k, n_patients=25) for k in (1, 3, 6)]
    assert sds[0] > sds[1] > sds[2]
    assert sds[0] < model.tau_std  # the data always tell something
    assert sds[2] < 0.6 * sds[0]


def test_one_value_works_with_wide_uncertainty(model) -> None:
    values = np.full((1, model.n_features), np.nan)
    values[0, 2] = 0.3  # one MMSE in the 0-1 space
    one = pz.personalize(model, pz.Observations(np.array([74.0]), values))
    _, obs, _ = checks.example_patients()
    full = pz.personalize(model, obs[0])
    assert one.n_visits == 1 and one.n_values == 1 and one.features_used == ("MMSE",)
    assert one.sd("tau") > 3 * full.sd("tau")
    assert one.sd("sources_0") > full.sd("sources_0")
    assert one.covariance.shape == (4, 4)
    np.testing.assert_allclose(one.covariance, one.covariance.T)
    assert np.all(np.linalg.eigvalsh(one.covariance) > 0)


def test_counts_skip_missing_values(model) -> None:
    _, obs, _ = checks.example_patients()
    values = obs[0].values.copy()
    values[1, :] = np.nan
    values[:, 5] = np.nan
    ind = pz.personalize(model, pz.Observations(obs[0].ages, values))
    assert ind.n_visits == len(obs[0].ages) - 1
    assert ind.n_values == int(np.isfinite(values).sum())
    assert "FDG PET" not in ind.features_used and len(ind.features_used) == 6


def test_bad_observations_refused(model) -> None:
    nothing = np.full((2, model.n_features), np.nan)
    with pytest.raises(TwinInputError, match="No measurement of any model feature"):
        pz.personalize(model, pz.Observations(np.array([70.0, 71.0]), nothing))
    with pytest.raises(TwinInputError, match=r"expected \(2, 7\)"):
        pz.personalize(model, pz.Observations(np.array([70.0, 71.0]), np.zeros((2, 3))))
    with pytest.raises(TwinInputError, match="every visit needs an age"):
        pz.personalize(model, pz.Observations(np.array([np.nan]), np.zeros((1, 7))))
    unscaled = np.full((1, model.n_features), np.nan)
    unscaled[0, 2] = 27.0  # an MMSE in points given to a model without scaling
    with pytest.raises(TwinInputError, match=r"MMSE = 27 is far outside the model's 0-1 space"):
        pz.personalize(model, pz.Observations(np.array([70.0]), unscaled))
    with pytest.raises(TwinInputError, match="No individual parameter 'alpha'"):
        pz.personalize(model, pz.Observations(np.array([70.0]), np.zeros((1, 7)))).sd("alpha")


def test_samples_follow_the_laplace_posterior(model) -> None:
    _, obs, _ = checks.example_patients()
    ind = pz.personalize(model, obs[5])
    draws = pz.sample(ind, 20000, seed=3)
    assert draws.shape == (20000, 4)
    np.testing.assert_array_equal(draws, pz.sample(ind, 20000, seed=3))
    sd = np.sqrt(np.diag(ind.covariance))
    assert np.all(np.abs(draws.mean(axis=0) - ind.mean) < 4 * sd / np.sqrt(20000))
    assert np.allclose(draws.std(axis=0), sd, rtol=0.03)
    with pytest.raises(TwinInputError):
        pz.sample(ind, 0, seed=1)
