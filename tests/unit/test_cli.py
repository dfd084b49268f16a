"""The `meditwin` command line: version, help, usage errors, demo and dicom commands."""

import json
import subprocess
import sys

import pytest

from meditwin_desktop import __version__
from meditwin_desktop.cli import main


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "meditwin_desktop", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version_via_python_m():
    result = _run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("gui", "demo", "dicom", "twins", "run", "report"):
        assert command in out


@pytest.mark.parametrize("argv", [["frobnicate"], ["dicom"], ["dicom", "scan"], ["--bogus"], []])
def test_bad_usage_exits_2_with_a_message(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    captured = capsys.readouterr()
    assert "usage" in (captured.err + captured.out).lower()


def test_missing_path_is_a_usage_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["dicom", "scan", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_run_needs_a_case_or_the_demo(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "liver_ablation"])
    assert exit_info.value.code == 2
    assert "--case" in capsys.readouterr().err


def test_demo_command_writes_the_library(tmp_path):
    result = _run("demo", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo.json").exists()
    assert len(list((tmp_path / "MEDITWIN-DEMO-001" / "CT").glob("*.dcm"))) >= 200


def test_dicom_scan_and_load_json(demo_patient, capsys):
    assert main(["dicom", "scan", str(demo_patient.dicom_dir), "--json"]) == 0
    tree = json.loads(capsys.readouterr().out)
    [series] = tree["patients"][0]["studies"][0]["series"]
    assert series["uid"] == demo_patient.series_uid and series["modality"] == "CT"

    assert (
        main(
            [
                "dicom",
                "load",
                str(demo_patient.dicom_dir),
                "--json",
                "--series",
                demo_patient.series_uid,
            ]
        )
        == 0
    )
    [volume] = json.loads(capsys.readouterr().out)["volumes"]
    assert volume["shape"] == [240, 256, 256]
    assert volume["spacing"] == [1.5625, 1.5625, 2.0]
    assert volume["direction"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert volume["value_range"][0] >= -1024


def test_unknown_series_uid_is_a_usage_error(demo_patient, capsys):
    assert main(["dicom", "load", str(demo_patient.dicom_dir), "--series", "1.2.3"]) == 2
    assert "No series with UID 1.2.3" in capsys.readouterr().err


def test_twins_json_is_valid(capsys):
    assert main(["twins", "--json"]) == 0
    assert "twins" in json.loads(capsys.readouterr().out)
