"""Contraindications, dose limits, interactions and monitoring."""

from __future__ import annotations

import pytest

from meditwin_desktop.core.twin import TwinInputError

from ..rules import SODIUM_CHANNEL_BLOCKERS, THERAPIES, check_regimen, drug_code


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Depakine", "valproate"), ("valproic acid", "valproate"),
     ("Dépakine Chrono 500 mg", "valproate"), ("valproate de sodium", "valproate"),
     ("Epilim", "valproate"), ("Urbanyl 10 mg", "clobazam"), ("Onfi", "clobazam"),
     ("Diacomit", "stiripentol"), ("Fintepla", "fenfluramine"), ("Epidyolex", "cannabidiol"),
     ("EPIDIOLEX", "cannabidiol"), ("Keppra", "levetiracetam"), ("Lamictal", "lamotrigine"),
     ("Tegretol LP", "carbamazepine"), ("Trileptal", "oxcarbazepine"), ("Dilantin", "phenytoin"),
     ("phénytoïne", "phenytoin"), ("bromure de potassium", "bromide"), ("Rivotril", "clonazepam"),
     ("Zonegran", "zonisamide"), ("Zarontin", "ethosuximide"), ("Topamax", "topiramate")],
)  # fmt: skip
def test_drug_names_as_typed(typed, code):
    assert drug_code(typed) == code


def test_unknown_name_is_none():
    assert drug_code("paracetamol") is None and drug_code("") is None


VPA_CLB = [("Depakine", 30.0), ("Urbanyl", 0.5)]


@pytest.mark.parametrize("drug", sorted(SODIUM_CHANNEL_BLOCKERS))
def test_sodium_channel_blockers_are_contraindicated_with_a_source(drug):
    rules = check_regimen(drug, None, 20.0, VPA_CLB)
    assert rules.contraindicated and "Wirrell" in rules.contraindications[0]
    assert not check_regimen("stiripentol", None, 20.0, VPA_CLB).contraindications


def test_fenfluramine_needs_echocardiography_and_respects_label_maxima():
    rules = check_regimen("fenfluramine", 0.7, 20.0, VPA_CLB)  # 14 mg/day: within the label
    assert not rules.contraindicated
    assert any("Echocardiography" in m and "pulmonary arterial hypertension" in m
               for m in rules.monitoring)  # fmt: skip
    with pytest.raises(TwinInputError, match=r"0.8 mg/kg/day for 20 kg.*0.7 mg/kg/day"):
        check_regimen("fenfluramine", 0.8, 20.0, VPA_CLB)
    with pytest.raises(TwinInputError, match=r"40 kg is 28.0 mg/day.*at most 26 mg/day"):
        check_regimen("fenfluramine", 0.7, 40.0, VPA_CLB)


def test_fenfluramine_with_stiripentol_has_the_lower_maximum():
    current = [*VPA_CLB, ("Diacomit", 50.0)]
    with pytest.raises(TwinInputError, match=r"with stiripentol: 0.4 mg/kg/day, at most 17"):
        check_regimen("fenfluramine", 0.7, 20.0, current)
    with pytest.raises(TwinInputError, match="17 mg/day"):
        check_regimen("fenfluramine", 0.4, 50.0, current)  # 20 mg/day
    rules = check_regimen("fenfluramine", 0.4, 20.0, current)
    assert any("0.4 mg/kg/day" in i for i in rules.interactions) and rules.on_stiripentol


def test_cannabidiol_interactions_and_liver_tests():
    rules = check_regimen("Epidyolex", 20.0, 20.0, VPA_CLB)
    assert any("N-desmethylclobazam" in i for i in rules.interactions)
    assert any("valproate" in i and "transaminases" in i for i in rules.interactions)
    assert any("transaminases" in m for m in rules.monitoring)
    with pytest.raises(TwinInputError, match="above the label maximum"):
        check_regimen("cannabidiol", 25.0, 20.0, VPA_CLB)


def test_stiripentol_raises_clobazam_and_is_given_with_clobazam_and_valproate():
    rules = check_regimen("stiripentol", 50.0, 20.0, VPA_CLB)
    assert any("clobazam and norclobazam" in i for i in rules.interactions)
    lone = check_regimen("stiripentol", 50.0, 20.0, [("Keppra", 40.0)])
    assert any("lacks clobazam and valproate" in w for w in lone.warnings)


def test_unknown_drugs():
    with pytest.raises(TwinInputError, match="it knows: cannabidiol, carbamazepine"):
        check_regimen("aspirin", None, 20.0, VPA_CLB)
    with pytest.raises(TwinInputError, match="cannot evaluate adding 'valproate'"):
        check_regimen("valproate", None, 20.0, [])  # known, but not an add-on option
    rules = check_regimen("stiripentol", None, 20.0, [*VPA_CLB, ("Mystery-pill", None)])
    assert any("'Mystery-pill' is not known to the twin: interactions not checked" in w
               for w in rules.warnings)  # fmt: skip


def test_current_sodium_channel_blocker_is_flagged():
    rules = check_regimen("stiripentol", None, 20.0, [*VPA_CLB, ("Lamictal", 5.0)])
    assert any("sodium-channel blockers can worsen" in w for w in rules.warnings)


def test_every_add_on_option_has_a_source():
    for code, therapy in THERAPIES.items():
        if therapy.add_on:
            assert therapy.sources, code


def test_no_add_on_checks_the_current_regimen_only():
    rules = check_regimen("none", None, 20.0, [*VPA_CLB, ("Tegretol", 10.0), ("Xyz", None)])
    assert not rules.contraindicated and not rules.monitoring and not rules.on_stiripentol
    assert len(rules.warnings) == 2  # the current sodium-channel blocker, the unknown drug
    assert THERAPIES["fenfluramine"].doses == (0.2, 0.7) and not THERAPIES["lamotrigine"].doses


@pytest.mark.parametrize(
    ("add", "current"), [("stiripentol", "Diacomit"), ("lamotrigine", "Lamictal")]
)
def test_adding_a_drug_already_taken_is_refused(add, current):
    # the trials measured adding a drug against placebo: applying that effect to a drug the
    # child already takes would count it twice
    with pytest.raises(TwinInputError, match="already in the current regimen"):
        check_regimen(add, None, 20.0, [*VPA_CLB, (current, None)])


def test_label_dose_capped_per_day_for_a_heavy_child_is_said():
    # 0.7 mg/kg/day for 45 kg is 31.5 mg/day: the label (and the trials) cap it at 26 mg/day
    rules = check_regimen("fenfluramine", None, 45.0, VPA_CLB)
    assert any("capped at 26 mg/day, 0.58 mg/kg/day" in w for w in rules.warnings)
    assert not any(
        "capped" in w for w in check_regimen("fenfluramine", None, 30.0, VPA_CLB).warnings
    )


def test_age_outside_the_trials_is_said():
    young = check_regimen("fenfluramine", None, 10.0, VPA_CLB, age_y=1.5)
    assert any("enrolled children aged 2 to 18" in w and "2 years" in w for w in young.warnings)
    assert not any(
        "enrolled" in w for w in check_regimen("cannabidiol", None, 20, VPA_CLB, 6.0).warnings
    )
    assert not any(
        "enrolled" in w for w in check_regimen("stiripentol", None, 20, VPA_CLB, 1.0).warnings
    )
