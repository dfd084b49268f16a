"""An undefined outcome is null with a reason, never 0; a target outside the patient is
refused before anything runs (the liver twin on the demo CT)."""

from __future__ import annotations

import pytest

from meditwin_desktop.cli_twins import run_json
from meditwin_desktop.core.comparison import cell_text, outcome_note
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import prepare_scenarios, run_scenarios
from meditwin_desktop.core.twin import Scenario, TwinInputError
from meditwin_desktop.demo.case import demo_case


@pytest.fixture(scope="module")
def liver():
    return discover().get("liver_ablation"), demo_case("thorax-abdomen")


def test_coverage_without_a_tumour_near_the_target_is_null_with_its_reason(liver):
    twin, case = liver
    runner = Runner(max_parallel=1)
    try:  # (0, 0, 0) is inside the body, far from both metastases
        [run] = run_scenarios(twin, case, [Scenario("away", {"target_lps_mm": "0, 0, 0"})],
                              runner)  # fmt: skip
    finally:
        runner.shutdown()
    assert run.status == "ok", run.error
    coverage = next(o for o in twin.outcomes if o.name == "tumor_coverage_pct")
    assert run.outcomes["tumor_coverage_pct"] is None  # was 0.0: "0 % covered" is false
    assert "no tumour" in outcome_note(coverage, run)
    assert cell_text(coverage, run, None) == "n/a"
    entry = run_json(run, twin)["outcomes"]["tumor_coverage_pct"]
    assert entry["value"] is None and "no tumour" in entry["note"]


@pytest.mark.parametrize(
    ("target", "where"), [("500, 500, 500", "outside the image"), ("-190, -180, 0", "body")]
)
def test_a_target_outside_the_patient_is_refused(liver, target, where):
    twin, case = liver
    with pytest.raises(TwinInputError, match=where):
        prepare_scenarios(twin, case, [Scenario("bad", {"target_lps_mm": target})])


@pytest.mark.parametrize("where", ["baseline (the largest tumour)", "liver", "aorta"])
def test_a_target_inside_an_organ_or_tumour_is_inside_the_body(liver, where):
    """Organs and tumours are labelled over the body: they are inside it all the same (the
    default target, the centre of tumour 1, was once refused as 'outside the body')."""
    twin, case = liver
    overrides = {}
    if where in ("liver", "aorta"):
        from meditwin_desktop.core.twin_case import view_of

        overrides = {"target_lps_mm": tuple(view_of(case).label_centroid(where))}
    prepared = prepare_scenarios(twin, case, [Scenario("inside", overrides)])
    assert len(prepared.scenarios) == 1
