"""The demo `alzheimer-mci` run through the twin: its visits were drawn from the demo model
with a known truth (`demo.alzheimer_visits.TRUTH`), which the twin must give back within its
own uncertainty; and the four scenarios of the board question run on it."""

from __future__ import annotations

import pytest

from meditwin_desktop.core.twin import check_result, view_of


def _quiet(*_args) -> None:
    return None


@pytest.fixture(scope="module")
def demo():
    from meditwin_desktop.demo.case import demo_case

    return view_of(demo_case("alzheimer-mci"))


def _run(view, **overrides):
    from .. import TWIN

    baseline = {k: v.value for k, v in TWIN.personalize(view).items()}
    params = TWIN.parameters_for(baseline, overrides)
    result = TWIN.simulate(params, TWIN.prepare(view), _quiet, lambda: False)
    check_result(TWIN, result)
    return result


def test_the_demo_truth_comes_back(demo):
    """Tolerance: 2 Laplace SD (the visits carry the model's own noise); measured about 1.1 SD
    for both (the Laplace SD is ~20 % narrow, personalization.py)."""
    import numpy as np

    from meditwin_desktop.demo.alzheimer_visits import TRUTH

    from ..inputs import prepare
    from ..model import _feature_values, model_of, observations
    from ..personalization import personalize

    model, _ = model_of({})
    found, _, _ = _feature_values(model, prepare(demo)["measurements"])
    individual = personalize(model, observations(model, found)[0])
    assert individual.n_visits == 5 and len(found) == 7
    assert abs(individual.tau - TRUTH["tau"]) < 2 * individual.sd("tau")
    assert abs(individual.xi - TRUTH["xi"]) < 2 * individual.sd("xi")
    assert np.isfinite(individual.covariance).all()


def test_the_board_scenarios(demo):
    none = _run(demo)
    lecanemab = _run(demo, treatment="lecanemab")
    donanemab = _run(demo, treatment="donanemab")
    assert none.outcomes["time_gained_y"] == 0.0
    assert 0 < lecanemab.outcomes["time_gained_y"] < donanemab.outcomes["time_gained_y"]
    assert (none.outcomes["mmse_at_horizon"] < lecanemab.outcomes["mmse_at_horizon"]
            < donanemab.outcomes["mmse_at_horizon"])  # fmt: skip
    # the demo patient is eligible: confirmed amyloid, MMSE 23, e3/e4, no anticoagulant
    assert not [w for w in lecanemab.warnings if w.startswith("lecanemab:")]
    assert none.outcomes["years_to_milestone"] < lecanemab.outcomes["years_to_milestone"]
