"""The command line against bad input and a hostile environment (issue 14, points 3, 4, 8).

Strict scenarios files, --timeout, `run --case` changing the stored case only with --save,
and no traceback for users: a damaged library, unwritable paths, Ctrl-C, a closed pipe, a
full disk. Every test that touches the library points MEDITWIN_HOME at its own tmp_path.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meditwin_desktop import cli
from meditwin_desktop.cli import main
from meditwin_desktop.cli_twins import scenarios_to_run
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.scenario_file import parse_scenarios, read_scenarios
from meditwin_desktop.core.twin import Outcome, Parameter, Result, Scenario, Twin

ROOT = Path(__file__).resolve().parents[2]
FH = ["--demo", "fh-patient"]  # clinical data only: no DICOM, quick to run


def _nothing(case) -> dict:
    return {}


def _never(params, inputs, progress, cancelled) -> Result:
    raise AssertionError("not run in these tests")


def _slow(params, inputs, progress, cancelled) -> Result:
    """Sleeps `seconds` (cancellable): a run to interrupt."""
    end = time.monotonic() + params["seconds"]
    while time.monotonic() < end and not cancelled():
        time.sleep(0.05)
    return Result({"done": 1.0})


# One parameter of each kind, for the file reader.
PROBE = Twin(
    id="probe", title="Probe twin", specialty="testing", version="1", question="",
    references=(),
    parameters=(
        Parameter("rate", "Rate", "1/h", 0.5, 0.01, 10.0),
        Parameter("smoker", "Current smoker", "", False),
        Parameter("therapy", "Therapy", "", "none", choices=("none", "statin")),
        Parameter("tip", "Probe tip", "mm", (0.0, 0.0, 0.0), -500.0, 500.0, size=3),
    ),
    outcomes=(), requirements=(), personalize=_nothing, prepare=_nothing, simulate=_never,
)  # fmt: skip
# A twin that fits any case and runs for a while (MEDITWIN_EXTRA_TWINS, Ctrl-C test).
SLOW = Twin(
    id="slow", title="Slow test twin", specialty="testing", version="1", question="",
    references=(), parameters=(Parameter("seconds", "Duration", "s", 30.0, 0.0, 60.0),),
    outcomes=(Outcome("done", "Done", ""),), requirements=(), personalize=_nothing,
    prepare=_nothing, simulate=_slow,
)  # fmt: skip


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A private MEDITWIN_HOME (library, log) for each test."""
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _file(tmp_path: Path, document, name: str = "scenarios.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _env(home: Path, extra: str = "") -> dict:
    return dict(os.environ, MEDITWIN_HOME=str(home), MEDITWIN_EXTRA_TWINS=extra,
                PYTHONPATH=str(ROOT))  # fmt: skip


def _meditwin(home: Path, *args: str, timeout: float = 60, **kwargs):
    command = [sys.executable, "-m", "meditwin_desktop", *args]
    return subprocess.run(command, env=_env(home), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **kwargs)  # fmt: skip


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_info:  # argparse
        return exit_info.code


# -- strict scenarios files ------------------------------------------------------------------
def test_a_valid_file_gives_typed_overrides(tmp_path):
    path = _file(tmp_path, {"version": 1, "scenarios": [
        {"name": "Treated", "set": {"rate": 2, "smoker": False, "therapy": "statin",
                                    "tip": [1, 2.5, -3]}},
        {"name": "Baseline"},
    ]})  # fmt: skip
    treated, baseline = read_scenarios(path, PROBE)
    assert treated == Scenario(
        "Treated", {"rate": 2.0, "smoker": False, "therapy": "statin", "tip": (1.0, 2.5, -3.0)}
    )
    assert baseline == Scenario("Baseline", {})


def _one(values: dict, **entry) -> dict:
    return {"scenarios": [{"name": "Plan A", "set": values, **entry}]}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"scenarios": [{"name": "Plan A", "sett": {}}]},
            "unknown key 'sett' — did you mean 'set'?",
        ),
        ({"scenario": []}, "unknown key 'scenario' — did you mean 'scenarios'?"),
        (_one({}, comment="x"), "scenario 'Plan A': unknown key 'comment'"),
        (
            _one({"rat": 1}),
            "scenario 'Plan A': 'rat' is not a parameter of Probe twin — did you mean 'rate'?",
        ),
        (_one({"rate": True}), "scenario 'Plan A': 'rate': give a number (1/h), not true"),
        (_one({"rate": "1.5"}), "'rate': give a number (1/h), not the text '1.5'"),
        (_one({"rate": 50}), "'rate': Rate must be between 0.01 and 10 1/h"),
        (
            _one({"smoker": 5}),
            "scenario 'Plan A': 'smoker': give true or false (without quotes), not 5",
        ),
        (
            _one({"smoker": []}),
            "'smoker': give true or false (without quotes), not a list of 0 items",
        ),
        (
            _one({"smoker": "yes"}),
            "'smoker': give true or false (without quotes), not the text 'yes'",
        ),
        (_one({"smoker": "true"}), "'smoker': give true or false"),
        (_one({"smoker": 1}), "'smoker': give true or false"),
        (_one({"therapy": 3}), "scenario 'Plan A': 'therapy': give one of 'none', 'statin', not 3"),
        (_one({"therapy": "Statin"}), "'therapy': give one of 'none', 'statin'"),
        (
            _one({"tip": [1, 2]}),
            "scenario 'Plan A': 'tip': give a list of 3 numbers (mm), not a list of 2 items",
        ),
        (_one({"tip": [1, 2, True]}), "'tip': give a number (mm), not true"),
        (_one({"tip": "1 2 3"}), "'tip': give a list of 3 numbers (mm)"),
        (_one({"tip": [1, 2, 900]}), "'tip': Probe tip must be between -500 and 500 mm"),
        (_one([]), "scenario 'Plan A': 'set' is a list of 0 items"),
        ({"scenarios": [{"set": {}}]}, "scenario 1: 'name' is missing"),
        ({"scenarios": [{"name": " "}]}, "scenario 1: 'name' is empty"),
        ({"scenarios": [{"name": 7}]}, "scenario 1: 'name' is 7, not text"),
        ({"scenarios": [{"name": "a\nb"}]}, "'name' contains a line break"),
        ({"scenarios": [{"nmae": "x"}]}, "scenario 1: unknown key 'nmae' — did you mean 'name'?"),
        ({"scenarios": [{"name": "a"}, {"name": "a"}]}, "scenario 2: the name 'a' is used twice"),
        ({"scenarios": [["a"]]}, "scenario 1 is a list of 1 item, not an object"),
        ({"scenarios": []}, "'scenarios' is a list of 0 items"),
        ({"scenarios": {"name": "a"}}, "'scenarios' is an object"),
        ({"version": 2, "scenarios": [{"name": "a"}]}, "'version' is 2"),
        ({}, "there is no 'scenarios' list"),
        ([{"name": "a"}], "the top level is a list of 1 item, not an object"),
    ],
)
def test_refusals_name_the_file_the_scenario_and_the_key(tmp_path, document, expected):
    path = _file(tmp_path, document)
    with pytest.raises(InputError) as refused:
        read_scenarios(path, PROBE)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and expected in message, message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"scenarios": [{"name": "a", "set": {"rate": NaN}}]}',
         "scenario 'a': 'rate': give a finite number (1/h), not NaN"),
        ('{"scenarios": [{"name": "a", "set": {"rate": -Infinity}}]}', "not -Infinity"),
        ('{"scenarios": [{"name": "a", "set": {"rate": 1e400}}]}', "give a finite number (1/h)"),
        ('{"scenarios": [{"name": "a", "name": "b"}]}', "the key 'name' appears twice"),
        ('{"scenarios": [', "is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        ('{"scenarios": [{"name": "a", "set": {"rate": ' + "9" * 5000 + "}}]}", "not a usable"),
        ("\ufeff" + json.dumps({"scenarios": [{"name": "BOM"}]}), None),  # Notepad's BOM: fine
    ],
)  # fmt: skip
def test_malformed_json_is_refused(tmp_path, text, expected):
    path = tmp_path / "scenarios.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    if expected is None:
        assert read_scenarios(path, PROBE) == [Scenario("BOM", {})]
        return
    with pytest.raises(InputError) as refused:
        read_scenarios(path, PROBE)
    assert expected in str(refused.value) and str(path) in str(refused.value)


def test_only_a_regular_file_of_at_most_1_mb_is_read(tmp_path):
    big = _file(tmp_path, json.dumps({"scenarios": [{"name": "x" * 1_100_000}]}))
    with pytest.raises(InputError, match="larger than 1 MB"):
        read_scenarios(big, PROBE)
    with pytest.raises(InputError, match="is a folder"):
        read_scenarios(tmp_path, PROBE)
    with pytest.raises(InputError, match="cannot be read: No such file"):
        read_scenarios(tmp_path / "missing.json", PROBE)


def test_parse_scenarios_names_its_source():
    with pytest.raises(InputError, match=r"^clipboard: scenario 'a': 'smoker': give true"):
        parse_scenarios({"scenarios": [{"name": "a", "set": {"smoker": 0}}]}, PROBE, "clipboard")


def test_the_command_line_exits_2_naming_file_scenario_and_key(tmp_path, capsys):
    path = _file(tmp_path, {"scenarios": [{"name": "Quit", "sett": {"smoker": False}}]})
    assert main(["run", "cardiometabolic", *FH, "--scenarios", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: scenario 'Quit': unknown key 'sett' — did you mean 'set'?" in err
    path = _file(tmp_path, {"scenarios": [{"name": "Quit", "set": {"smoker": 5}}]})
    assert main(["run", "cardiometabolic", *FH, "--scenarios", str(path)]) == 2
    assert "scenario 'Quit': 'smoker': give true or false" in capsys.readouterr().err


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_devices_and_pipes_are_refused_promptly(tmp_path, home, special):
    if special == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this system")
        special = str(tmp_path / "fifo")
        os.mkfifo(special)  # nobody writes: opening it plainly would block for ever
    elif not Path(special).exists():
        pytest.skip("no /dev/zero on this system")
    result = _meditwin(home, "run", "cardiometabolic", *FH, "--scenarios", special, timeout=60)
    assert result.returncode == 2
    assert f"{special} is not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "ten"])
def test_timeout_must_be_a_positive_finite_number(value, capsys):
    assert _exit_code(["run", "cardiometabolic", *FH, f"--timeout={value}"]) == 2
    assert "argument --timeout" in capsys.readouterr().err


# -- labelling and saving --------------------------------------------------------------------
def test_runs_are_named_by_what_they_set():
    from_file = [Scenario("A", {"therapy": "statin"}), Scenario("B", {})]
    assert [s.name for s in scenarios_to_run(PROBE, None, {})] == ["Baseline"]
    [one] = scenarios_to_run(PROBE, None, {"rate": "2", "smoker": "no"})
    assert one == Scenario("rate=2, smoker=no", {"rate": "2", "smoker": "no"})
    named = scenarios_to_run(PROBE, from_file, {"rate": "2"})
    assert named == [
        Scenario("A (rate=2)", {"therapy": "statin", "rate": "2"}),
        Scenario("B (rate=2)", {"rate": "2"}),
    ]
    assert [s.name for s in scenarios_to_run(PROBE, from_file, {}, "Plan")] == [
        "Plan: A",
        "Plan: B",
    ]
    assert [s.name for s in scenarios_to_run(PROBE, None, {"rate": "2"}, "Plan")] == ["Plan"]


def test_a_set_run_is_never_labelled_baseline(tmp_path, capsys):
    assert main(["run", "cardiometabolic", *FH, "--set", "smoker=false", "--json"]) == 0
    [run] = json.loads(capsys.readouterr().out)["scenarios"]
    assert run["name"] == "smoker=false" and run["status"] == "ok"
    path = _file(tmp_path, {"scenarios": [{"name": "Statin", "set": {"therapy": "statin_high"}}]})
    argv = ["run", "cardiometabolic", *FH, "--scenarios", str(path), "--set", "sbp_mmhg=120"]
    assert main(argv) == 0
    assert "Statin (sbp_mmhg=120): ok" in capsys.readouterr().out


def _store_fh_case() -> None:
    from meditwin_desktop.core.store import CaseLibrary
    from meditwin_desktop.demo.case import demo_case

    case = demo_case("fh-patient")
    case.id = "fh-test"
    case.scenarios["cardiometabolic"] = [
        Scenario("Baseline"),
        Scenario("Keep me", {"therapy": "statin_high"}),
    ]
    CaseLibrary().save(case)


def _stored() -> tuple:
    """What the library holds for the test case: revision, time, scenarios, runs."""
    from meditwin_desktop.core.store import CaseLibrary

    library = CaseLibrary()
    [summary] = library.cases()
    case = library.load("fh-test")
    return (
        summary.revision,
        summary.modified,
        {t: [(s.name, s.overrides) for s in ss] for t, ss in case.scenarios.items()},
        {t: [(r.scenario, r.parameters, r.outcomes) for r in rs] for t, rs in case.runs.items()},
    )


def test_run_case_without_save_leaves_the_stored_case_alone(tmp_path, capsys):
    _store_fh_case()
    before = _stored()
    no_smoking = {"name": "No smoking", "set": {"smoker": False}}
    path = _file(tmp_path, {"scenarios": [{"name": "Baseline"}, no_smoking]})
    assert main(["run", "cardiometabolic", "--case", "fh-test", "--scenarios", str(path)]) == 0
    assert main(["run", "cardiometabolic", "--case", "fh-test", "--set", "smoker=false"]) == 0
    out = capsys.readouterr().out
    assert "Baseline: ok" in out and "No smoking: ok" in out and "smoker=false: ok" in out
    assert _stored() == before


def test_save_adds_exactly_the_named_scenarios(tmp_path, capsys):
    _store_fh_case()
    revision = _stored()[0]
    path = _file(tmp_path, {"scenarios": [{"name": "A", "set": {"therapy": "statin_moderate"}},
                                          {"name": "B", "set": {"smoker": False}}]})  # fmt: skip
    case = ["run", "cardiometabolic", "--case", "fh-test"]
    assert main([*case, "--scenarios", str(path), "--save", "Plan"]) == 0
    assert "Plan: A: ok" in capsys.readouterr().out
    assert main([*case, "--set", "sbp_mmhg=120", "--save", "Lower BP"]) == 0
    new_revision, _, scenarios, runs = _stored()
    assert new_revision == revision + 2
    assert scenarios["cardiometabolic"] == [
        ("Baseline", {}),
        ("Keep me", {"therapy": "statin_high"}),
        ("Plan: A", {"therapy": "statin_moderate"}),
        ("Plan: B", {"smoker": False}),
        ("Lower BP", {"sbp_mmhg": 120.0}),  # stored typed, ready to re-run
    ]
    assert [name for name, *_ in runs["cardiometabolic"]] == ["Plan: A", "Plan: B", "Lower BP"]
    assert runs["cardiometabolic"][1][1]["smoker"] is False
    # saving the same names again replaces them in place and touches nothing else
    path = _file(tmp_path, {"scenarios": [{"name": "A", "set": {"therapy": "statin_high"}},
                                          {"name": "B", "set": {"smoker": True}}]})  # fmt: skip
    assert main([*case, "--scenarios", str(path), "--save", "Plan"]) == 0
    _, _, scenarios, runs = _stored()
    assert [name for name, _ in scenarios["cardiometabolic"]] == [
        "Baseline", "Keep me", "Plan: A", "Plan: B", "Lower BP"]  # fmt: skip
    assert scenarios["cardiometabolic"][2] == ("Plan: A", {"therapy": "statin_high"})
    assert [name for name, *_ in runs["cardiometabolic"]] == ["Plan: A", "Plan: B", "Lower BP"]
    assert runs["cardiometabolic"][1][1]["smoker"] is True


def test_save_is_refused_with_the_demo(capsys):
    assert main(["run", "cardiometabolic", *FH, "--save", "Plan"]) == 2
    assert "--save" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), os.strerror(errno.ENOSPC)),
        (sqlite3.OperationalError("database or disk is full"), "database or disk is full"),
    ],
)
def test_results_are_printed_when_saving_fails(monkeypatch, capsys, failure, reason):
    from meditwin_desktop.core.store import CaseLibrary

    _store_fh_case()
    before = _stored()

    def full_disk(self, case):
        raise failure

    monkeypatch.setattr(CaseLibrary, "save", full_disk)
    code = main(["run", "cardiometabolic", "--case", "fh-test", "--save", "Plan"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Plan: ok" in captured.out and "pce_10y_risk_pct" in captured.out
    assert captured.err == f"meditwin: the results above were not saved: {reason}\n"
    assert _stored() == before


# -- no tracebacks for users -----------------------------------------------------------------
def test_a_damaged_library_is_one_line_and_exit_1(home, tmp_path, capsys):
    (home / "data" / "cases").mkdir(parents=True)
    (home / "data" / "cases" / "library.sqlite").write_bytes(b"not a database at all" * 100)
    assert main(["run", "cardiometabolic", "--case", "x"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["report", "x", "--out", str(tmp_path / "r.pdf")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_report_out_is_checked_before_anything_is_loaded(home, tmp_path, capsys):
    for out, message in [
        (tmp_path / "missing" / "r.pdf", "does not exist"),
        (tmp_path, "must end in .pdf"),
    ]:
        assert main(["report", "x", "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
    assert not (home / "data" / "cases").exists()  # the library was not even opened


def test_unwritable_output_folder_is_one_line_and_exit_1(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["demo", "--out", str(blocker / "demo")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("meditwin: ") and "Not a directory" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unexpected_error_is_one_line_and_the_traceback_is_in_the_log(home, monkeypatch,
                                                                          capsys):  # fmt: skip
    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli._COMMANDS, "twins", bug)
    assert main(["twins"]) == 1
    log_file = home / "data" / "logs" / "meditwin.log"
    assert capsys.readouterr().err == (
        f"meditwin: unexpected error (RuntimeError); details are in the log: {log_file}\n"
    )
    text = log_file.read_text()
    assert "Traceback" in text and "RuntimeError: a bug" in text


def test_an_unwritable_log_does_not_stop_the_command(tmp_path, monkeypatch, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv("MEDITWIN_HOME", str(not_a_folder))  # data folder cannot be created
    assert main(["twins", "--json"]) == 0
    captured = capsys.readouterr()
    assert "twins" in json.loads(captured.out)
    assert "no log file" in captured.err


def test_keyboard_interrupt_in_process_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli._COMMANDS, "twins", interrupted)
    assert main(["twins"]) == 130
    assert capsys.readouterr().err == "meditwin: interrupted.\n"


def _group_members(group: int) -> list[int]:
    """Live (not zombie) processes of a process group (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_during_a_run_exits_130_and_stops_the_workers(home):
    process = subprocess.Popen(
        [sys.executable, "-m", "meditwin_desktop", "run", "slow", *FH],
        env=_env(home, extra="tests.reliability.test_cli_inputs:SLOW"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(_group_members(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # until the worker process exists
        assert process.poll() is None, process.communicate()
        time.sleep(1.5)  # the worker has imported the twin and is running it
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert err == "meditwin: interrupted.\n"  # no traceback, from this process or a worker
    deadline = time.monotonic() + 10
    while _group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _group_members(process.pid) == []  # the workers are gone


def test_a_closed_pipe_exits_quietly(home):
    process = subprocess.Popen(
        [sys.executable, "-m", "meditwin_desktop", "run", "cardiometabolic", *FH, "--json"],
        env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    process.stdout.close()  # the reader went away before any output
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert err == b""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell pipeline")
def test_json_into_head_has_no_error_output(home):
    command = f"'{sys.executable}' -m meditwin_desktop run cardiometabolic --demo fh-patient"
    result = subprocess.run(["sh", "-c", f"{command} --json | head -c 5"], env=_env(home),
                            capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert result.stdout == '{\n  "' and result.stderr == ""


def test_a_closed_pipe_does_not_stop_a_save(home):
    _store_fh_case()
    command = ["run", "cardiometabolic", "--case", "fh-test", "--save", "Plan"]
    process = subprocess.Popen(
        [sys.executable, "-m", "meditwin_desktop", *command],
        env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 141 and err == b""
    assert [name for name, *_ in _stored()[3]["cardiometabolic"]] == ["Plan"]
