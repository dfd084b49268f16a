"""The demo's known growth and decay rates recovered from its labels (used by the tests and
by `meditwin verify`, so it imports no test framework: an installed bundle has none)."""

from __future__ import annotations


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
