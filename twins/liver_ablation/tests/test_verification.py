"""The twin's verification cases (those `meditwin verify` runs on an installation) pass."""

from __future__ import annotations

from .. import TWIN
from ..verification import VERIFICATION


def test_the_twin_declares_its_verification_cases():
    assert TWIN.verification is VERIFICATION
    assert VERIFICATION and len({case.name for case in VERIFICATION}) == len(VERIFICATION)
    for case in VERIFICATION:
        assert case.quantity and case.source and case.tolerance >= 0, case.name


def test_every_verification_case_passes():
    failures = []
    for case in VERIFICATION:
        value = case.compute()
        if not case.passed(value):
            failures.append(
                f"{case.name}: {value} against {case.reference} (tolerance "
                f"{case.tolerance}{' relative' if case.relative else ''})"
            )
    assert not failures, failures
