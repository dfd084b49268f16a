"""Virtual trials: the twin's effects applied to simulated trial cohorts (coarse versions of
the `meditwin verify` cases, which use 4000 children per arm)."""

from __future__ import annotations

import pickle
from functools import partial

import numpy as np
import pytest

from .. import virtual_trials as vt
from ..trials import ARMS, arm


def test_checks_are_well_formed_and_sourced():
    names = [row[0] for row in vt.VIRTUAL_TRIAL_CHECKS]
    assert len(set(names)) == len(names) >= 15
    assert "lagae2019_fenfluramine_0.7_responders" in names
    for _name, key, statistic, reference, tolerance, source in vt.VIRTUAL_TRIAL_CHECKS:
        assert statistic in vt.STATISTICS and arm(key).key == key
        assert 0 < tolerance < 30 and reference >= 0 and "tolerance" in source


def test_a_check_is_picklable_for_worker_processes():
    compute = partial(vt.trial_statistic, "lagae2019_fenfluramine_0.7", "responders")
    assert pickle.loads(pickle.dumps(compute)).args == compute.args


@pytest.mark.parametrize(
    "key",
    ["lagae2019_fenfluramine_0.7", "nabbout2020_fenfluramine_0.4", "devinsky2017_cannabidiol_20",
     "chiron2000_stiripentol_50", "lagae2019_placebo"],
)  # fmt: skip
def test_coarse_virtual_trial_within_tolerance(key):
    rows = [r for r in vt.VIRTUAL_TRIAL_CHECKS if r[1] == key]
    found = vt.run_arm(arm(key), vt.effect_for(arm(key)), n=1200, seed=5)
    for name, _key, statistic, reference, tolerance, _source in rows:
        assert abs(found[statistic] - reference) <= tolerance, (name, found[statistic])


def test_held_out_trial_fenfluramine_responders():
    # Sullivan 2023 (not used in the calibration): 72.9 % responders at 0.7 mg/kg/d
    _median, responders = vt.virtual_trial(arm("sullivan2023_fenfluramine_0.7"), n=1200, seed=3)
    assert abs(responders - 72.9) <= 12.8


def test_inclusion_threshold_and_baseline_median_are_applied():
    item = arm("lagae2019_fenfluramine_0.7")
    _lam, per28 = vt.cohort(item, 2000, np.random.default_rng(2))
    assert per28.min() >= 4.0 - 1e-9  # >= 6 seizures in 42 days
    assert np.median(per28) == pytest.approx(20.7, rel=0.06)


def test_verification_cases_one_per_check():
    cases = vt.verification_cases()
    assert [c.name for c in cases] == [row[0] for row in vt.VIRTUAL_TRIAL_CHECKS]
    assert all(c.tolerance > 0 and c.source for c in cases)


def test_each_check_says_whether_the_calibration_used_its_statistic():
    # in-sample (a calibration target) vs out-of-sample: `meditwin verify` must say which
    for name, key, statistic, _reference, _tolerance, source in vt.VIRTUAL_TRIAL_CHECKS:
        calibrated = arm(key) in ARMS and bool(vt.published(arm(key)))
        assert ((key, statistic) in vt.calibration_targets()) == calibrated, name
        assert source.startswith(vt.IN_SAMPLE if calibrated else vt.OUT_OF_SAMPLE), name
    held_out = [r[0] for r in vt.VIRTUAL_TRIAL_CHECKS if r[5].startswith(vt.OUT_OF_SAMPLE)]
    assert held_out == ["sullivan2023_fenfluramine_0.7_responders"]
