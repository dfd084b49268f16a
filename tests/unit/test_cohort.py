"""`meditwin cohort run`: a twin over a cohort of cases (core/cohort.py, cli_cohort.py).

The cohort: 12 variants of the demo FH patient (cardiometabolic twin, milliseconds a run)
in a private library, plus one case without an LDL-C (the twin does not fit it). Runs go
through a thread pool that counts them, except where the command line itself is tested.
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import pytest
from scipy import stats

from meditwin_desktop import cli
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.cohort import (
    RUNS_FILE,
    CohortCase,
    file_case_id,
    library_cohort,
    read_cohort_file,
    run_cohort,
)
from meditwin_desktop.core.cohort_summary import agreement, write_outputs
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import BASELINE
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.core.uncertainty import UncertaintyPlan
from meditwin_desktop.demo.case import DEMO_CASES

ROOT = Path(__file__).resolve().parents[2]
FH = DEMO_CASES["fh-patient"]["clinical"]
# age, sex, LDL-C, HDL-C (mg/dL), systolic pressure (mmHg), smoker
VARIANTS = [
    (41, "male", 190.0, 40.0, 128.0, True), (44, "female", 210.0, 55.0, 118.0, False),
    (47, "male", 240.0, 45.0, 134.0, True), (50, "female", 175.0, 60.0, 142.0, False),
    (52, "male", 260.0, 38.0, 150.0, False), (55, "female", 195.0, 52.0, 126.0, True),
    (58, "male", 225.0, 42.0, 138.0, False), (60, "female", 180.0, 65.0, 132.0, False),
    (63, "male", 205.0, 47.0, 146.0, True), (66, "female", 230.0, 58.0, 122.0, False),
    (69, "male", 185.0, 50.0, 156.0, False), (72, "female", 250.0, 48.0, 140.0, True),
]  # fmt: skip
SECRET = "Zanzibar"  # in every patient's name: must appear in no output


def _clinical(age, sex, ldl, hdl, sbp, smoker) -> dict:
    return {**FH, "age_y": age, "sex": sex, "ldl_mg_dl": ldl, "hdl_mg_dl": hdl,
            "total_chol_mg_dl": ldl + hdl + 30.0, "sbp_mmhg": sbp, "smoker": smoker}  # fmt: skip


@pytest.fixture
def library(tmp_path, monkeypatch):
    """A private library: the 12 variants, then the case the twin does not fit."""
    home = tmp_path / "home"
    monkeypatch.setenv("MEDITWIN_HOME", str(home))
    library = CaseLibrary()
    ids = []
    for n, variant in enumerate(VARIANTS):
        case = Case(name=f"{SECRET} Patient{n}", patient_id=f"PID-{n:03d}",
                    clinical=_clinical(*variant))  # fmt: skip
        library.save(case)
        ids.append(case.id)
    unfit = Case(name=f"{SECRET} Unfit", patient_id="PID-999",
                 clinical={k: v for k, v in FH.items() if k != "ldl_mg_dl"})  # fmt: skip
    library.save(unfit)
    library.ids, library.unfit = ids, unfit.id
    return library


@pytest.fixture(scope="module")
def twin():
    return discover().get("cardiometabolic")


class CountingPool(ThreadPoolExecutor):
    """A thread pool that counts the runs submitted to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.count = 0
        self._counting = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        with self._counting:
            self.count += 1
        return super().submit(fn, *args, **kwargs)


def _run(twin, cases, folder, library, scenarios=None, plan=None, progress=None):
    """Run the cohort on a fresh counting runner; (result, runs submitted)."""
    pool = CountingPool()
    runner = Runner(executor=pool, timeout_s=60)
    try:
        result = run_cohort(twin, cases, scenarios or [Scenario(BASELINE)], runner, folder,
                            library=library, plan=plan, progress=progress)  # fmt: skip
    finally:
        runner.shutdown()
        pool.shutdown()
    return result, pool.count


def _lines(folder: Path) -> list[dict]:
    found = []
    for raw in (folder / RUNS_FILE).read_text(encoding="utf-8").splitlines():
        with suppress(ValueError):  # a line cut short
            found.append(json.loads(raw))
    return found


def _table(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    return float(text) if text else None


# -- the statistics on their own ------------------------------------------------------------
def test_agreement_by_hand():
    # d = predicted - observed = 0, 1, 2: bias 1, MAE 1, RMSE sqrt(5/3), sd 1
    found = agreement([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [(0.5, 1.5), (0, 0.9), (None, None)])
    assert found["n"] == 3 and found["bias"] == 1.0 and found["mae"] == 1.0
    assert found["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert (found["loa_low"], found["loa_high"]) == pytest.approx((1 - 1.96, 1 + 1.96))
    assert found["pearson_r"] is None  # the observed values do not vary
    assert (found["coverage"], found["coverage_n"]) == (0.5, 2)  # no interval: not counted
    assert agreement([], [])["n"] == 0


# -- a cohort of library cases --------------------------------------------------------------
def test_resume_runs_only_what_is_not_done(library, twin, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cases = library_cohort(library)
    assert len(cases) == 13

    def stop_after_five(state):
        if state.ran == 5:
            raise KeyboardInterrupt  # as Ctrl-C in the middle of the cohort

    with pytest.raises(KeyboardInterrupt):
        _run(twin, cases, out, library, progress=stop_after_five)
    kept = [r for r in _lines(out) if r["status"] == "ok"]
    assert len(kept) == 5
    with open(out / RUNS_FILE, "a", encoding="utf-8") as handle:
        handle.write(f'{{"case": "{kept[0]["case"]}", "scenario": "Base')  # killed mid-line
    # a finished case changes: it must run again; a failed run is retried
    changed = library.load(kept[1]["case"])
    changed.clinical["ldl_mg_dl"] += 10.0
    library.save(changed)
    with open(out / RUNS_FILE, "a", encoding="utf-8") as handle:
        handle.write("\n" + json.dumps({**kept[2], "status": "failed", "error": "a crash"}))

    result, submitted = _run(twin, cases, out, library)
    assert submitted == 12 - 5 + 2  # the 7 never run, the changed case, the failed run
    assert result.progress.reused == 3 and result.failed == 0
    assert result.records[(kept[0]["case"], BASELINE)] == kept[0]  # kept as it was
    # the cut line is skipped, the next record starts on a line of its own
    assert sum(r["status"] == "ok" for r in _lines(out)) == 5 + 9
    assert (result.records[(changed.id, BASELINE)]["parameters"]["ldl_mg_dl"]
            == changed.clinical["ldl_mg_dl"])  # fmt: skip

    _, again = _run(twin, cases, out, library)
    assert again == 0  # nothing left to do
    skipped = [r for r in _lines(out) if r["status"] == "skipped"]
    assert [r["case"] for r in skipped] == [library.unfit]  # recorded once, not per session
    assert "ldl_mg_dl" in skipped[0]["error"]


def test_outputs_equal_meditwin_run_and_name_no_patient(library, twin, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["cohort", "run", "cardiometabolic", "--all", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "12 run(s) ok" in printed.out and "1 case(s) skipped" in printed.out
    assert "cohort: 13/13 cases" in printed.err  # progress
    rows = {row["case"]: row for row in _table(out / "outcomes.csv")}
    assert set(rows) == {*library.ids, library.unfit}
    assert rows[library.unfit]["status"] == "skipped"
    assert "ldl_mg_dl" in rows[library.unfit]["error"]
    for case_id in library.ids[:2]:
        assert cli.main(["run", "cardiometabolic", "--case", case_id, "--json"]) == 0
        [entry] = json.loads(capsys.readouterr().out)["scenarios"]
        for name, outcome in entry["outcomes"].items():
            assert _number(rows[case_id][name]) == outcome["value"], name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["cases"] == {"total": 13, "skipped": 1}
    assert summary["runs"] == {"total": 12, "ok": 12, "failed": 0}
    assert summary["skipped"][0]["case"] == library.unfit
    ldl = summary["outcomes"][BASELINE]["ldl_on_treatment_mg_dl"]
    values = [_number(rows[i]["ldl_on_treatment_mg_dl"]) for i in library.ids]
    assert ldl["n"] == 12 and ldl["mean"] == pytest.approx(statistics.mean(values))
    assert ldl["sd"] == pytest.approx(statistics.stdev(values))
    assert ldl["median"] == pytest.approx(statistics.median(values))
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert (ldl["q1"], ldl["q3"]) == pytest.approx((q1, q3))
    assert (ldl["min"], ldl["max"]) == (min(values), max(values))
    assert ldl["on_target"] == sum(v <= 70 for v in values) / 12  # untreated: none
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "LDL-C on treatment" in markdown and library.unfit in markdown
    for path in out.iterdir():  # outputs name cases by id only
        text = path.read_text(encoding="utf-8", errors="replace")
        assert SECRET not in text and "PID-" not in text, path.name


def test_observed_against_predicted(library, twin, tmp_path):
    """The agreement statistics against numbers computed here from the table."""
    observed = [150.0, 230.0, 260.0, 160.0, 250.0, 200.0, 215.0]  # LDL-C on treatment
    risk = ["9,5", "", "14", "11", "22", "8", "13"]  # decimal comma, one missing
    lines = ["case;scenario;observed:ldl_on_treatment_mg_dl;observed:pce_10y_risk_pct;note"]
    for n, (value, pce) in enumerate(zip(observed, risk, strict=True)):
        case = library.ids[n] if n != 1 else f"{SECRET} Patient1"  # a name works too
        lines.append(f"{case};;{value:g};{pce};free text, never copied")
    lines.append(f"{library.unfit};Baseline;100;")
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenarios = [Scenario(BASELINE)]
    cases = read_cohort_file(cohort, twin, scenarios, library)
    assert [c.id for c in cases] == [*library.ids[:7], library.unfit]
    assert [c.line for c in cases] == list(range(2, 10))
    out = tmp_path / "out"
    out.mkdir()
    result, submitted = _run(twin, cases, out, library)
    assert submitted == 7
    _, summary = write_outputs(out, twin, cases, scenarios, result.records)
    rows = _table(out / "outcomes.csv")
    assert [r["observed:ldl_on_treatment_mg_dl"] for r in rows[:2]] == ["150.0", "230.0"]
    assert "note" not in rows[0] and "free text" not in (out / "outcomes.csv").read_text()

    agreed = summary["agreement"][BASELINE]
    predicted = [_number(r["ldl_on_treatment_mg_dl"]) for r in rows[:7]]
    d = [p - o for p, o in zip(predicted, observed, strict=True)]
    ldl = agreed["ldl_on_treatment_mg_dl"]
    assert (ldl["n"], ldl["observed"]) == (7, 8)  # the skipped case's value has no pair
    assert ldl["bias"] == pytest.approx(statistics.mean(d))
    assert ldl["mae"] == pytest.approx(statistics.mean(abs(x) for x in d))
    assert ldl["rmse"] == pytest.approx(math.sqrt(statistics.mean(x * x for x in d)))
    assert ldl["pearson_r"] == pytest.approx(stats.pearsonr(predicted, observed).statistic)
    sd = statistics.stdev(d)
    assert ldl["loa_low"] == pytest.approx(statistics.mean(d) - 1.96 * sd)
    assert ldl["loa_high"] == pytest.approx(statistics.mean(d) + 1.96 * sd)
    pce = agreed["pce_10y_risk_pct"]
    pairs = [(float(r["pce_10y_risk_pct"]), float(o.replace(",", ".")))
             for r, o in zip(rows[:7], risk, strict=True)
             if o and r["pce_10y_risk_pct"]]  # fmt: skip
    assert pce["observed"] == 6 and pce["n"] == len(pairs) >= 4  # outside validity: no pair
    assert pce["bias"] == pytest.approx(statistics.mean(p - o for p, o in pairs))
    assert "coverage" not in pce  # no uncertainty, no interval


def test_uncertainty_adds_spreads_and_coverage(library, tmp_path):
    """The analytic test twin: linear = 2 x1 + x2 ~ N(25, 5), whatever the case."""
    from tests.support.uncertain_twin import TWIN

    cases = [CohortCase(i, i, observed={BASELINE: {"linear": v}})
             for i, v in zip(library.ids[:4], (15.0, 24.0, 26.0, 35.0), strict=True)]  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    plan = UncertaintyPlan(samples=64, seed=1)
    result, _ = _run(TWIN, cases, out, library, plan=plan)
    _, summary = write_outputs(out, TWIN, cases, [Scenario(BASELINE)], result.records, plan)
    rows = _table(out / "outcomes.csv")
    row = rows[0]
    low, median, high = (float(row[f"linear:{k}"]) for k in ("low", "median", "high"))
    assert low < median < high and low == pytest.approx(25 - 1.645 * math.sqrt(5), abs=1.5)
    assert float(row["linear:p_target"]) == pytest.approx(stats.norm.cdf(2 / 5**0.5), abs=0.1)
    inside = [low <= v <= high for v in (15.0, 24.0, 26.0, 35.0)]
    coverage = summary["agreement"][BASELINE]["linear"]
    assert (coverage["coverage"], coverage["coverage_n"]) == (sum(inside) / 4, 4) == (0.5, 4)
    assert "uncertainty" in result.records[(cases[0].id, BASELINE)]
    assert summary["outcomes"][BASELINE]["linear"]["mean_p_target"] == pytest.approx(
        float(row["linear:p_target"]))  # the same for every case here  # fmt: skip
    assert "Observed inside the predicted interval" in (out / "summary.md").read_text()


def test_command_line_end_to_end(library, twin, tmp_path):
    """A cohort file (';', a case file beside it) through `python -m meditwin_desktop`."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    document = {"format": "meditwin-case", "version": 1,
                "patient": {"name": f"{SECRET} Filed", "id": "PID-777"},
                "clinical": _clinical(*VARIANTS[3])}  # fmt: skip
    (folder / f"{SECRET}.json").write_text(json.dumps(document), encoding="utf-8")
    (folder / "cohort.csv").write_text(
        f"case;observed:ldl_on_treatment_mg_dl\n{library.ids[0]};180,5\n{SECRET}.json;170\n"
        f"{library.unfit};\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "meditwin_desktop", "cohort", "run", "cardiometabolic",
               "--cases", str(folder / "cohort.csv"), "--out", str(out), "--uncertainty", "8",
               "--json"]  # fmt: skip
    env = {**os.environ, "MEDITWIN_HOME": os.environ["MEDITWIN_HOME"], "MEDITWIN_LANG": "en"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"outcomes.csv", "summary.json", "summary.md"} <= set(report["files"])
    assert report["ran"] == 2 and report["summary"]["cases"]["skipped"] == 1
    rows = _table(out / "outcomes.csv")
    assert [r["status"] for r in rows] == ["ok", "ok", "skipped"]
    assert rows[1]["case"].startswith("file-") and rows[1]["line"] == "3"
    assert {
        "ldl_on_treatment_mg_dl:median",
        "ldl_on_treatment_mg_dl:low",
        "ldl_on_treatment_mg_dl:high",
        "ldl_on_treatment_mg_dl:p_target",
    } <= set(rows[0])
    if rows[0]["ldl_on_treatment_mg_dl:median"]:  # the twin declares uncertain inputs
        low, high = (float(rows[0][f"ldl_on_treatment_mg_dl:{k}"]) for k in ("low", "high"))
        assert low <= float(rows[0]["ldl_on_treatment_mg_dl:median"]) <= high
    assert float(rows[0]["observed:ldl_on_treatment_mg_dl"]) == 180.5
    assert float(rows[1]["ldl_on_treatment_mg_dl"]) == VARIANTS[3][2]  # from the case file
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert SECRET not in text and "PID-" not in text, path.name
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0 and json.loads(again.stdout)["ran"] == 0  # resumed: all done


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("patient;observed:ldl_on_treatment_mg_dl\nx;1\n", "no column 'case'"),
        ("case\n{id}\nnobody-such\n", "line 3: No case called 'nobody-such'"),
        ("case\nmissing/file.json\n", "line 2: missing/file.json does not exist"),
        ("case,observed:weight\n{id},1\n", "no number outcome 'weight'"),
        ("case,observed:ldl_on_treatment_mg_dl\n{id},high\n", "'high' is not a number"),
        ("case,scenario\n{id},Statin\n", "no scenario 'Statin'"),
        ("case\n{id}\n{id}\n", "already on line 2"),
    ],
)
def test_bad_input_is_refused_with_exit_2(library, tmp_path, capsys, content, message):
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(content.format(id=library.ids[0]), encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(["cohort", "run", "cardiometabolic", "--cases", str(cohort), "--out",
                     str(out)])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (out / RUNS_FILE).exists()


def test_a_cohort_file_is_read_strictly(library, twin, tmp_path):
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("Case;Scenario\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="lists no case"):
        read_cohort_file(cohort, twin, [Scenario(BASELINE)], library)


def test_scenarios_each_have_their_row_and_observations(library, twin, tmp_path):
    statin = Scenario("Statin", {"therapy": "statin_high"})
    scenarios = [Scenario(BASELINE), statin]
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "case,scenario,observed:ldl_on_treatment_mg_dl\n"
        f"{library.ids[0]},Statin,95\n{library.ids[1]},,200\n{library.ids[1]},Statin,80\n",
        encoding="utf-8",
    )
    cases = read_cohort_file(cohort, twin, scenarios, library)
    assert [c.observed for c in cases] == [
        {"Statin": {"ldl_on_treatment_mg_dl": 95.0}},
        {BASELINE: {"ldl_on_treatment_mg_dl": 200.0}, "Statin": {"ldl_on_treatment_mg_dl": 80.0}},
    ]
    out = tmp_path / "out"
    out.mkdir()
    result, submitted = _run(twin, cases, out, library, scenarios=scenarios)
    assert submitted == 4 and result.failed == 0
    _, summary = write_outputs(out, twin, cases, scenarios, result.records)
    rows = _table(out / "outcomes.csv")
    assert [(r["scenario"], r["observed:ldl_on_treatment_mg_dl"]) for r in rows] == [
        (BASELINE, ""),
        ("Statin", "95.0"),
        (BASELINE, "200.0"),
        ("Statin", "80.0"),
    ]
    treated = [float(r["ldl_on_treatment_mg_dl"]) for r in rows if r["scenario"] == "Statin"]
    untreated = [float(r["ldl_on_treatment_mg_dl"]) for r in rows if r["scenario"] == BASELINE]
    assert all(t < u for t, u in zip(treated, untreated, strict=True))  # the statin acts
    agreed = summary["agreement"]
    assert agreed[BASELINE]["ldl_on_treatment_mg_dl"]["n"] == 1
    statin_pairs = agreed["Statin"]["ldl_on_treatment_mg_dl"]
    assert statin_pairs["n"] == 2
    assert statin_pairs["bias"] == pytest.approx((treated[0] - 95 + treated[1] - 80) / 2)


def test_failed_runs_are_reported_and_retried(library, tmp_path):
    """The analytic test twin fails when x1 > fail_above; a damaged case file fails too."""
    from tests.support.uncertain_twin import TWIN

    damaged = tmp_path / f"{SECRET}.json"
    damaged.write_text('{"format": "meditwin-case", "version": 1, "patient": ', encoding="utf-8")
    cases = [CohortCase(i, i) for i in library.ids[:2]]
    cases.append(CohortCase(file_case_id(damaged), str(damaged), from_file=True))
    scenarios = [Scenario(BASELINE), Scenario("Fails", {"fail_above": 1.0})]
    out = tmp_path / "out"
    out.mkdir()
    result, submitted = _run(TWIN, cases, out, library, scenarios=scenarios)
    # the second case's Baseline is the first's (same inputs): from the runner's cache
    assert submitted == 3 and result.failed == 2 + 2  # two runs, the damaged case's two
    _, summary = write_outputs(out, TWIN, cases, scenarios, result.records)
    failures = {(f["case"], f["scenario"]): f["error"] for f in summary["failures"]}
    assert "x1 beyond what this model takes" in failures[(library.ids[0], "Fails")]
    assert failures[(cases[2].id, BASELINE)].startswith(f"{cases[2].id}, line 1")
    assert summary["runs"] == {"total": 6, "ok": 2, "failed": 4}
    for path in out.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path.name
    _, again = _run(TWIN, cases, out, library, scenarios=scenarios)
    assert again == 2  # the failed runs, not the two that ended ok


def test_exit_1_when_a_run_failed(library, tmp_path, capsys):
    (tmp_path / "damaged.json").write_text("{", encoding="utf-8")
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(f"case\n{library.ids[0]}\ndamaged.json\n", encoding="utf-8")
    out = tmp_path / "out"
    command = ["cohort", "run", "cardiometabolic", "--cases", str(cohort), "--out", str(out)]
    assert cli.main(command) == 1
    assert "1 run(s) ok" in capsys.readouterr().out
    rows = _table(out / "outcomes.csv")
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert rows[1]["error"].startswith(rows[1]["case"])  # the file's name is not shown


def test_one_cohort_run_at_a_time_in_a_folder(library, tmp_path, capsys):
    from meditwin_desktop.core.locks import file_lock

    out = tmp_path / "out"
    out.mkdir()
    with file_lock(out / ".lock", exclusive=True):  # another cohort run
        assert cli.main(["cohort", "run", "cardiometabolic", "--all", "--out", str(out)]) == 2
    assert "Another cohort run is writing to" in capsys.readouterr().err
