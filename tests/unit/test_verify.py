"""`meditwin verify`, `meditwin check-twin` and `meditwin twin new` (issue 15, points 4, 5, 7)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest
from meditwin_twins.cardiometabolic import TWIN as CARDIO

from meditwin_desktop import __version__, cli, cli_verify
from meditwin_desktop.core.registry import Registry, discover
from meditwin_desktop.core.twin import Parameter, Requirement, Result, VerificationCase
from meditwin_desktop.core.twin_check import check_twin, find_readme, missing_sections
from meditwin_desktop.core.verification import run_case

CASE_KEYS = ["name", "quantity", "value", "unit", "reference", "tolerance", "source", "passed"]


def _with(monkeypatch, *twins) -> None:
    """`meditwin` sees exactly these twins."""
    registry = Registry({t.id: t for t in twins}, [])
    monkeypatch.setattr(cli_verify, "discover", lambda: registry)


def _boom() -> float:
    return 1 / 0


FAILING = replace(
    CARDIO,
    id="failing",
    verification=(
        VerificationCase("good", "a number", "mL", 1.0, 0.1, "by hand", lambda: 1.05),
        VerificationCase("off", "a number", "mL", 1.0, 0.1, "by hand", lambda: 2.0),
        VerificationCase("raises", "a number", "mL", 1.0, 0.1, "by hand", _boom),
        VerificationCase("no number", "a number", "mL", 1.0, 0.1, "by hand", lambda: None),
        VerificationCase("relative", "a number", "mL", 200.0, 0.01, "by hand", lambda: 201.0,
                         relative=True),
    ),
)  # fmt: skip


def test_verify_json_has_exactly_the_documented_keys(capsys):
    assert cli.main(["verify", "hlhs_norwood", "cardiometabolic", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in document["twins"]] == ["hlhs_norwood", "cardiometabolic"]
    for twin in document["twins"]:
        assert list(twin) == ["id", "version", "cases", "skipped"] and twin["version"]
        assert twin["skipped"] == []  # nothing left out without --quick
        assert twin["cases"], twin["id"]
        for case in twin["cases"]:
            assert list(case) == CASE_KEYS
            assert case["passed"] is True
            assert abs(case["value"] - case["reference"]) <= case["tolerance"]
    scores = {c["name"]: c for c in document["twins"][1]["cases"]}
    goff = scores["PCE worked example, white man"]
    assert (goff["reference"], goff["tolerance"], goff["unit"]) == (5.3, 0.1, "%")
    assert "Goff" in goff["source"]


SLOW_TO_VERIFY = ("vt_ablation", "dravet_epilepsy", "retina_microcirculation")


def test_verify_all_twins_prints_each_case_and_writes_the_evidence(tmp_path, capsys):
    """Every installed twin but the slow ones (the liver's cases on small grids: a few
    seconds; the heavy cases, minutes each, are skipped with --quick and said so). The VT,
    Dravet and retina cases take 45, 14 and several seconds even quick: their twins' own
    tests run them (test_niederer.py) or coarse versions of them (test_virtual_trials.py,
    the retina's test_verification.py); running them here too doubled that time."""
    pdf = tmp_path / "evidence.pdf"
    twins = [t for t in discover().twins.values() if t.id not in SLOW_TO_VERIFY]
    assert len(twins) >= 5
    assert cli.main(["verify", "--quick", "--report", str(pdf), *[t.id for t in twins]]) == 0
    out = capsys.readouterr().out
    for twin in twins:
        assert f"{twin.id} {twin.version}" in out
        for case in twin.verification:
            assert (f"PASS  {case.name}" in out) != case.heavy
            if case.heavy:
                assert "skipped (heavy, run without --quick)" in out and case.name in out
    assert "Pennes" in out and "source: Amabile C et al." in out
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Installation verification evidence" in text
    assert f"MEDITWIN Desktop {__version__}" in text and "Machine:" in text
    assert "liver_ablation 1.2" in text and "ALL" in text and "PASSED" in text
    assert "Haycock 1978 body surface area" in text
    assert not list(tmp_path.glob(".*"))  # written atomically: no temporary file left


def test_failing_and_raising_cases_fail_without_a_traceback(monkeypatch, tmp_path, capsys):
    _with(monkeypatch, FAILING)
    assert cli.main(["verify"]) == 1
    captured = capsys.readouterr()
    assert "PASS  good" in captured.out and "FAIL  off" in captured.out
    assert "error: ZeroDivisionError: division by zero" in captured.out
    assert "compute() returned NoneType" in captured.out
    assert "reference 200 ± 2 mL (relative 0.01)" in captured.out
    assert "2 of 5 verification cases passed; failed: off, raises, no number" in captured.out
    assert "Traceback" not in captured.out + captured.err

    assert cli.main(["verify", "--json", "--report", str(tmp_path / "e.pdf")]) == 1
    captured = capsys.readouterr()
    cases = {c["name"]: c for c in json.loads(captured.out)["twins"][0]["cases"]}
    assert cases["raises"]["value"] is None and cases["raises"]["passed"] is False
    assert cases["relative"]["tolerance"] == pytest.approx(2.0)
    assert "'raises' failed: ZeroDivisionError" in captured.err
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "e.pdf").pages)
    assert "3 OF 5 CASES FAILED" in text and "FAIL" in text


def test_verify_refuses_unknown_twins_and_bad_report_paths(tmp_path, capsys):
    assert cli.main(["verify", "no_such_twin"]) == 2
    assert "No twin 'no_such_twin' is installed" in capsys.readouterr().err
    assert cli.main(["verify", "--report", str(tmp_path / "missing" / "e.pdf")]) == 2
    assert cli.main(["verify", "--report", str(tmp_path / "e.txt")]) == 2
    assert "must end in .pdf" in capsys.readouterr().err


def test_run_case_never_raises():
    result = run_case(FAILING.verification[2])
    assert (result.value, result.passed) == (None, False)
    assert result.error == "ZeroDivisionError: division by zero"
    nan = VerificationCase("nan", "q", "", 0.0, 1.0, "s", lambda: float("nan"))
    assert run_case(nan).error == "the computed value is nan" and not run_case(nan).passed


# -- check-twin --------------------------------------------------------------------------------


def test_check_twin_passes_a_conforming_twin(capsys):
    assert cli.main(["check-twin", "cardiometabolic"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cardiometabolic 1.2: OK")
    assert "ran simulate twice on the case 'demo fh-patient'" in out


def _random_simulate(params, inputs, progress, cancelled) -> Result:
    """Not deterministic: an unseeded random outcome."""
    return Result({o.name: random.random() for o in CARDIO.outcomes})


def _nan_simulate(params, inputs, progress, cancelled) -> Result:
    outcomes = {o.name: 1.0 for o in CARDIO.outcomes}
    outcomes.update(dlcn_points=float("nan"), ldl_on_treatment_mg_dl=None)
    return Result(outcomes)


def test_check_twin_lists_the_problems(monkeypatch, capsys):
    odd = Requirement("label", "liver")
    object.__setattr__(odd, "kind", "telepathy")  # a plugin that bypassed the contract
    bad = replace(
        CARDIO,
        id="bad",
        question="",
        limitations=(),
        parameters=(
            Parameter("depth", "Depth", "mm", 50.0, 0.0, 10.0, source=""),
            Parameter("mode", "", "", "c", choices=("a", "b"), source="x"),
        ),
        requirements=(odd,),
        simulate=lambda params, inputs, progress, cancelled: None,
        verification=(),
    )
    _with(monkeypatch, bad)
    assert cli.main(["check-twin", "bad"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("bad 1.2: ")
    for expected in (
        "metadata: no question",
        "metadata: no limitations",
        "parameter 'depth': no source",
        "parameter 'depth': default 50.0 is not valid (Depth must be between 0 and 10 mm",
        "parameter 'mode': no label",
        "parameter 'mode': default 'c' is not valid",
        "requirement 'liver': unknown kind 'telepathy'",
        "declares no verification cases",
        "<lambda>) is not a module-level function",
        "missing() failed on the case 'demo neonate-hlhs'",
    ):
        assert expected in out, expected
    assert cli.main(["check-twin", "nothing", "--json"]) == 2


def test_check_twin_finds_nondeterminism_and_undefined_outcomes():
    clinical = {"age_y": 50, "sex": "male", "total_chol_mg_dl": 200, "hdl_mg_dl": 50,
                "ldl_mg_dl": 130, "sbp_mmhg": 120}  # fmt: skip
    case = SimpleNamespace(clinical=clinical)
    cases = lambda: [("small", case)]  # noqa: E731
    report = check_twin(replace(CARDIO, simulate=_random_simulate), cases)
    assert any("not deterministic" in p and "outcomes 'pce_10y_risk_pct'" in p
               for p in report.problems), report.problems  # fmt: skip
    report = check_twin(replace(CARDIO, simulate=_nan_simulate), cases)
    assert "outcome 'dlcn_points' is nan on 'small'" in report.problems
    assert any("'ldl_on_treatment_mg_dl' is None on 'small' with no note" in p
               for p in report.problems)  # fmt: skip
    none_fits = check_twin(CARDIO, lambda: [("empty", SimpleNamespace(clinical={}))])
    assert none_fits.ok
    assert any("determinism not checked: no small case fits" in n for n in none_fits.notes)


def test_readme_sections_are_matched_loosely():
    for twin in discover().twins.values():
        readme = find_readme(twin)
        assert readme is not None and readme.parent.name == twin.id
        assert missing_sections(readme.read_text()) == [], twin.id
    text = "# X\n\n**Question.** Why?\n\n## The model\n\n## Parameters\n\n## Limitations\n"
    assert missing_sections(text) == ["validity", "verification"]


# -- twin new ----------------------------------------------------------------------------------


def test_twin_new_writes_a_template_that_passes_check_twin_and_verify(
    tmp_path, monkeypatch, capsys
):
    name = "template_pk_check"
    assert cli.main(["twin", "new", name, "--out", str(tmp_path)]) == 0
    assert f"MEDITWIN_EXTRA_TWINS={name}:TWIN" in capsys.readouterr().out
    package = tmp_path / name
    assert {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()} == {
        "__init__.py", "model.py", "verification.py", "README.md", "tests/__init__.py",
        "tests/test_verification.py",
    }  # fmt: skip
    assert "{{" not in "".join(p.read_text() for p in package.rglob("*.*"))
    assert cli.main(["twin", "new", name, "--out", str(tmp_path)]) == 2  # exists
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["twin", "new", "Bad-Name", "--out", str(tmp_path)]) == 2
    assert cli.main(["twin", "new", "json", "--out", str(tmp_path)]) == 2
    assert cli.main(["twin", "new", "other", "--out", str(tmp_path / "nowhere")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing half-written

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MEDITWIN_EXTRA_TWINS", f"{name}:TWIN")
    try:
        capsys.readouterr()
        assert cli.main(["check-twin", name]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{name} 0.1: OK"), out
        assert "ran simulate twice" in out
        assert cli.main(["verify", name, "--json"]) == 0
        [twin] = json.loads(capsys.readouterr().out)["twins"]
        assert twin["id"] == name and len(twin["cases"]) == 2
        assert all(case["passed"] for case in twin["cases"])
        module = sys.modules[name]
        assert module.TWIN.outcomes[1].target is not None
    finally:
        for module_name in [m for m in sys.modules if m.split(".")[0] == name]:
            del sys.modules[module_name]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xvfb", name],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout
