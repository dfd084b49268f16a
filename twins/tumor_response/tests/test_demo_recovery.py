"""The demo `crc-liver-followup` measured from its labels and run through the twin: its
metastases were drawn with known Stein rates (`demo.followup_anatomy.TRUTH`), which the twin
must give back (a `meditwin verify` case, `verification.demo_rate_error`)."""

from __future__ import annotations

import pytest


def demo_rate_error(parameter: str) -> float:
    """Relative error of the twin's g or d on the demo `crc-liver-followup`, measured from
    its ground-truth labels (the demo's metastases follow known rates)."""
    from meditwin_desktop.core.lesions import measure_labels
    from meditwin_desktop.demo import followup_anatomy
    from meditwin_desktop.demo.case import demo_case

    from .. import TWIN, personalize, prepare, simulate

    case = demo_case("crc-liver-followup")
    case.measurements += measure_labels(case)
    baseline = {k: v.value for k, v in personalize(case).items()}
    result = simulate(TWIN.parameters_for(baseline, {}), prepare(case), _quiet, lambda: False)
    value = result.outcomes[f"{'growth' if parameter == 'g' else 'decay'}_rate_"
                            f"{parameter}_per_day"]  # fmt: skip
    truth = followup_anatomy.TRUTH["tumour 1"][parameter]
    return abs(value / truth - 1.0)


def _quiet(*_args) -> None:
    return None


@pytest.mark.parametrize("parameter", ["g", "d"])
def test_the_demo_rates_come_back_from_its_labels(parameter):
    """Tolerance 10 % (diameters within one voxel of the truth); measured: < 1 %."""
    assert demo_rate_error(parameter) < 0.10
