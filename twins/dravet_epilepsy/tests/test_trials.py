"""Published trial arms and the calibrated therapy effects."""

from __future__ import annotations

import math

import numpy as np
import pytest

from meditwin_desktop.core.twin import TwinInputError

from .. import virtual_trials as vt
from ..effects import CALIBRATED, Effect, arm_effect, drug_effect, therapy_effect
from ..trials import ARMS, VALIDATION_ARMS, arm, placebo_of


def test_every_arm_has_a_source_a_placebo_and_no_guessed_number():
    keys = [a.key for a in ARMS + VALIDATION_ARMS]
    assert len(set(keys)) == len(keys)
    for item in ARMS + VALIDATION_ARMS:
        assert item.source and item.n > 0 and item.baseline_days > 0, item.key
        assert placebo_of(item).drug == "placebo"
        for name in ("baseline_median_per_28d", "median_reduction_pct", "responders_50_pct"):
            value = getattr(item, name)
            # a missing number is NaN and said so, never a silent default
            assert (not math.isnan(value)) or name in item.unconfirmed, (item.key, name)


def test_published_numbers_as_read_in_the_sources():
    # Lagae 2019 (Lancet): medians 74.9 / 42.3 / 19.2 %; 68 % responders at 0.7 mg/kg/d
    assert arm("lagae2019_fenfluramine_0.7").median_reduction_pct == 74.9
    assert arm("lagae2019_fenfluramine_0.7").responders_50_pct == 68.0
    # Nabbout 2020 (JAMA Neurol) Figure 2: 23/43 vs 2/44
    assert arm("nabbout2020_fenfluramine_0.4").responders_50_pct == pytest.approx(53.49, abs=0.01)
    # Devinsky 2017 (NEJM): 43 % vs 27 %; STICLO: 15/21 vs 1/20
    assert arm("devinsky2017_cannabidiol_20").responders_50_pct == 43.0
    assert arm("chiron2000_stiripentol_50").responders_50_pct == pytest.approx(71.43, abs=0.01)


def test_every_calibratable_arm_has_constants():
    for item in ARMS:
        if vt.published(item):
            mu, sigma = CALIBRATED[item.key]
            assert -4 < mu < 2 and 0 <= sigma < 3, item.key


def test_effect_sample_is_lognormal_with_its_median():
    effect = Effect(math.log(0.4), 0.7, "test")
    draws = effect.sample(20000, np.random.default_rng(1))
    assert np.median(draws) == pytest.approx(0.4, rel=0.03)
    assert np.std(np.log(draws)) == pytest.approx(0.7, rel=0.03)


def test_sigmas_are_fitted_or_shared_as_the_effects_docstring_says():
    # own (mu, sigma): arms with a responder rate and another statistic; the others share the
    # mean fitted sigma of their kind (effects.py module docstring)
    fitted_drugs = ("lagae2019_fenfluramine_0.7", "nabbout2020_fenfluramine_0.4",
                    "devinsky2017_cannabidiol_20")  # fmt: skip
    fitted_placebos = ("nabbout2020_placebo", "devinsky2017_placebo")
    shared_drugs = ("lagae2019_fenfluramine_0.2", "chiron2000_stiripentol_50")
    shared_placebos = ("lagae2019_placebo", "chiron2000_placebo")
    for keys, shared in ((fitted_drugs, shared_drugs), (fitted_placebos, shared_placebos)):
        for key in keys:
            found = vt.published(arm(key))
            assert "responders" in found and len(found) >= 2, key
        mean = float(np.mean([CALIBRATED[k][1] for k in keys]))
        for key in shared:
            assert CALIBRATED[key][1] == pytest.approx(mean, abs=1e-3), key


def test_arm_is_placebo_times_drug():
    for key in ("lagae2019_fenfluramine_0.7", "nabbout2020_fenfluramine_0.4"):
        whole, drug = arm_effect(key), drug_effect(key)
        placebo = arm_effect(placebo_of(arm(key)).key)
        assert whole.mu == pytest.approx(placebo.mu + drug.mu)
        assert whole.sigma**2 == pytest.approx(placebo.sigma**2 + drug.sigma**2, abs=1e-9)


def test_doses_use_the_nearest_studied_dose_below_and_never_extrapolate():
    low = therapy_effect("fenfluramine", 0.2, on_stiripentol=False)
    mid = therapy_effect("fenfluramine", 0.5, on_stiripentol=False)
    high = therapy_effect("fenfluramine", 0.7, on_stiripentol=False)
    assert mid.mu == low.mu and "nearest studied dose below" in mid.source
    assert high.mu < low.mu  # the higher dose works better
    with_stp = therapy_effect("fenfluramine", None, on_stiripentol=True)
    assert with_stp.mu == CALIBRATED["nabbout2020_fenfluramine_0.4"][0]
    with pytest.raises(TwinInputError, match="below the lowest dose"):
        therapy_effect("fenfluramine", 0.1, on_stiripentol=False)


def test_sodium_channel_blockers_worsen_and_unknown_drugs_are_refused():
    for drug in ("carbamazepine", "oxcarbazepine", "phenytoin", "lamotrigine"):
        effect = therapy_effect(drug, None, on_stiripentol=False)
        assert effect.median_multiplier > 1 and "ASSUMPTION" in effect.source
    assert therapy_effect("Lamictal", None, on_stiripentol=False).median_multiplier > 1
    assert therapy_effect("Fintepla", 0.7, False) == therapy_effect("fenfluramine", 0.7, False)
    with pytest.raises(TwinInputError, match="known: placebo, fenfluramine"):
        therapy_effect("aspirin", None, on_stiripentol=False)


def test_drug_specific_part_is_weaker_than_the_whole_arm_where_placebo_helps():
    whole = therapy_effect("fenfluramine", 0.7, False)
    drug = therapy_effect("fenfluramine", 0.7, False, with_placebo_response=False)
    assert drug.mu > whole.mu and drug.sigma < whole.sigma


def test_stored_constants_still_reproduce_the_anchor_arm_coarsely():
    # coarse re-check of calibrate()'s output on its anchor arm (Lagae 2019, 0.7 mg/kg/d)
    item = arm("lagae2019_fenfluramine_0.7")
    found = vt.run_arm(item, arm_effect(item.key), n=1500, seed=11)
    assert abs(found["median_reduction"] - 74.9) < 10
    assert abs(found["responders"] - 68.0) < 12
