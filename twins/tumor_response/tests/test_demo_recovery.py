"""The demo `crc-liver-followup` measured from its labels and run through the twin: its
metastases were drawn with known Stein rates (`demo.followup_anatomy.TRUTH`), which the twin
must give back (a `meditwin verify` case, `verification.demo_rate_error`)."""

from __future__ import annotations

import pytest

from .demo_recovery import demo_rate_error


@pytest.mark.parametrize("parameter", ["g", "d"])
def test_the_demo_rates_come_back_from_its_labels(parameter):
    """Tolerance 10 % (diameters within one voxel of the truth); measured: < 1 %."""
    assert demo_rate_error(parameter) < 0.10
