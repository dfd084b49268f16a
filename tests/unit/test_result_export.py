"""`core.result_export`: one result of each kind written and read back."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import pyvista as pv
from PIL import Image

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.nifti import read_volume
from meditwin_desktop.core.result_export import export_run, export_runs, safe_name
from meditwin_desktop.core.twin import view_of
from tests.support.kinds_twin import TWIN


def _run(name: str = "Baseline", shift: float = 0.0) -> Run:
    inputs = TWIN.prepare(view_of(Case("test")))
    inputs["centre"] = np.array([10.0, -20.0, 30.0])
    result = TWIN.simulate({"shift": shift}, inputs, lambda *a: None, lambda: False)
    return Run(
        "kinds",
        "1.0",
        name,
        {"shift": shift, "point": (1.0, 2.0, 3.0)},
        "abc",
        "ok",
        None,
        dict(result.outcomes),
        0.1,
        "0",
        "tester",
        "2024-01-01",
        result,
    )


def _csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_every_kind_is_written_and_reads_back(tmp_path):
    run = _run("Shunt 3.5 mm: a/b", shift=-10.0)
    files = export_run(run, TWIN, tmp_path)
    folder = tmp_path / "Shunt 3.5 mm_ a_b"
    assert folder.is_dir() and all(f.parent == folder and f.exists() for f in files)
    assert {f.name for f in files} == {
        "outcomes.json",
        "pressure.csv",
        "pressure.observed.csv",
        "dose.nii.gz",
        "activation.vtp",
        "potential.vtp",
        "vessels.png",
        "flow.png",
        "segments.csv",
    }
    document = json.loads((folder / "outcomes.json").read_text())
    assert document["scenario"] == "Shunt 3.5 mm: a/b" and document["status"] == "ok"
    assert document["parameters"]["shift"] == {"value": -10.0, "unit": ""}
    assert document["parameters"]["point"]["value"] == [1.0, 2.0, 3.0]
    sao2 = document["outcomes"]["sao2"]
    assert sao2["value"] == 70.0 and sao2["unit"] == "%" and sao2["target"]["low"] == 75
    assert sao2["off_target"] == "below the target 75-85 %"
    assert document["warnings"] == ["a test twin"]

    series = run.result.series["pressure"]
    rows = _csv(folder / "pressure.csv")
    assert rows[0] == ["time [d]", "Pressure [mmHg]"] and len(rows) == 1 + len(series.time)
    assert np.allclose(np.array(rows[1:], float), np.column_stack([series.time, series.values]))
    observed = _csv(folder / "pressure.observed.csv")
    assert [float(r[1]) for r in observed[1:]] == [92.0, 85.0, 96.0]

    field = run.result.fields["dose"]
    volume = read_volume(folder / "dose.nii.gz")
    assert np.allclose(volume.affine, field.affine)  # LPS affine back through NIfTI's RAS
    assert np.allclose(volume.array, field.values)
    assert nib.load(folder / "dose.nii.gz").header.get_xyzt_units()[0] == "mm"

    surface = run.result.fields["activation"]
    mesh = pv.read(folder / "activation.vtp")
    assert np.allclose(mesh.points, surface.points)
    assert np.allclose(mesh.point_data["activation"], surface.values)
    assert np.array_equal(mesh.regular_faces, surface.faces)
    assert document["fields"]["activation"]["coordinates"] == "LPS mm"
    movie = run.result.fields["potential"]  # one array per frame, named by its time
    frames = pv.read(folder / "potential.vtp").point_data
    assert np.allclose(frames["potential t=30 ms"], movie.values[3])
    assert len([name for name in frames if name.startswith("potential t=")]) == 5
    assert document["outcomes"]["hotspot"]["value"] == list(run.result.outcomes["hotspot"])

    mask = np.asarray(Image.open(folder / "vessels.png"))
    vessels = run.result.overlays["vessels"].values
    assert mask.dtype == np.uint8 and mask.shape == vessels.shape  # the image's rows, columns
    assert set(np.unique(mask)) == {0, 255} and np.array_equal(mask == 255, vessels == 1)

    flow = run.result.overlays["flow"].values
    pixels = np.asarray(Image.open(folder / "flow.png")).astype(float)
    scale = document["overlays"]["flow"]["scale"]
    assert scale["first"] == 1 and scale["no_value"] == 0  # NaN outside the disc
    assert np.array_equal(pixels == 0, np.isnan(flow))
    back = scale["low"] + (pixels - 1) * (scale["high"] - scale["low"]) / 254
    inside = ~np.isnan(flow)
    step = (scale["high"] - scale["low"]) / 254
    assert np.abs(back[inside] - flow[inside]).max() <= step / 2 + 1e-9

    table = _csv(folder / "segments.csv")
    assert table[0] == ["segment", "diameter [µm]", "flow [mL/min]"]
    assert table[1] == ["A1", "110.0", "3.2"] and table[3] == ["V1", "150.25", ""]


def test_scenario_folders_are_safe_and_distinct(tmp_path):
    runs = [_run("a/b"), _run("a:b"), _run("..")]
    failed = Run("kinds", "1.0", "CON", {}, "", "failed", "diverged", {}, 0, "", "", "")
    files = export_runs([*runs, failed], TWIN, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["_CON", "a_b", "a_b (2)", "scenario"]
    document = json.loads((tmp_path / "_CON" / "outcomes.json").read_text())
    assert document["status"] == "failed" and document["error"] == "diverged"
    assert tmp_path / "_CON" / "outcomes.json" in files
    assert safe_name("Name: x\n") == "Name_ x_" and safe_name("") == "result"


def test_the_folder_must_exist(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        export_runs([_run()], TWIN, tmp_path / "missing")


def _meditwin(*args: str):
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ, MEDITWIN_EXTRA_TWINS="tests.support.kinds_twin:TWIN", PYTHONPATH=str(root)
    )
    return subprocess.run(
        [sys.executable, "-m", "meditwin_desktop", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=root,
    )


def test_meditwin_run_export_writes_each_scenario(tmp_path, demo_patient):
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(
        json.dumps(
            {
                "scenarios": [
                    {"name": "Baseline", "set": {}},
                    {"name": "Low / 10", "set": {"shift": -10}},
                ]
            }
        )
    )
    out = tmp_path / "out"
    out.mkdir()
    result = _meditwin(
        "run", "kinds", "--demo", "--scenarios", str(scenarios), "--json", "--export", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["twin"] == "kinds"  # stdout stays pure JSON
    assert "written to" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["Baseline", "Low _ 10"]
    document = json.loads((out / "Low _ 10" / "outcomes.json").read_text())
    assert document["outcomes"]["sao2"]["value"] == 70.0
    assert (out / "Low _ 10" / "activation.vtp").stat().st_size > 0

    missing = _meditwin("run", "kinds", "--demo", "--export", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
