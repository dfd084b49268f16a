"""The case library under damage, upgrades and leftovers: it opens what it can, says what
it cannot, never deletes a damaged file, and keeps patient data private (0700/0600)."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from meditwin_desktop.core.case import UNREADABLE, Case, Run
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.locks import file_lock
from meditwin_desktop.core.store import (
    CaseLibrary,
    LibraryDamaged,
    LibraryTooNew,
    backups_of,
)
from meditwin_desktop.core.twin import Result, TimeSeries

LEGACY = Path(__file__).resolve().parents[1] / "data" / "library-v1"


def _case(n: int = 1, series_uid: str = "1.2.3") -> Case:
    labels = np.zeros((4, 5, 6), np.uint8)
    labels[1:3, 1:4, n % 5] = 1
    case = Case(name="Jane Roe", patient_id="PID-77", id="case00000001",
                labels=LabelMap(Volume(labels, np.eye(4)), {1: Label(1, "liver", (9, 9, 9))}),
                image_reference={"series_uid": series_uid, "study_uid": "9.9"},
                clinical={"n": n})  # fmt: skip
    for scenario in ("Baseline", "other"):
        series = TimeSeries("x", "", np.arange(5.0), np.full(5, n + len(scenario)))
        result = Result({"v": 1.0}, {"x": series})
        run = Run("t", "1", scenario, {}, "h", "ok", None, {"v": 1.0}, 0.0, "0", "u", "t", result)
        case.runs.setdefault("t", []).append(run)
    return case


def test_a_library_of_the_previous_release_opens_with_its_arrays(tmp_path):
    shutil.copytree(LEGACY, tmp_path / "lib")
    library = CaseLibrary(tmp_path / "lib")
    names = {c.name: c for c in library.cases()}
    assert set(names) == {"Legacy patient", "Legacy clinical"}
    case = library.load(names["Legacy patient"].id)
    assert case.labels.labels[1].name == "liver" and case.labels.volume.array.sum() == 27
    assert [r.scenario for r in case.runs["reference"]] == ["Baseline", "fast"]
    assert all(r.result is not None and r.result.series for r in case.runs["reference"])
    assert not case.problems
    assert library.history(case.id)[0].note == "migrated from library format 1"
    assert library.save(case) == 3  # the new layout; revision 2 keeps its old files
    library.collect_garbage()
    assert library.load(case.id).runs["reference"][1].result.series
    assert library.load(case.id, 2).runs["reference"][1].result.series


def test_a_library_of_a_newer_release_is_refused_untouched(tmp_path):
    CaseLibrary(tmp_path)
    with sqlite3.connect(tmp_path / "library.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(LibraryTooNew, match="newer MEDITWIN"):
        CaseLibrary(tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "zeroed-page"])
def test_a_damaged_library_is_reported_and_can_be_restored_or_set_aside(tmp_path, damage):
    CaseLibrary(tmp_path).save(_case())
    for old in backups_of(tmp_path):
        old.unlink()  # as if the next day came: its first opening makes the day's copy
    library = CaseLibrary(tmp_path)
    [backup] = backups_of(tmp_path)
    library.save(_case(2))  # after the backup: lost if the backup is restored
    path = tmp_path / "library.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    damaged = {
        "garbage": b"this is not a database" * 100,
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "zeroed-page": data[:4096] + bytes(4096) + data[8192:],
    }[damage]
    path.write_bytes(damaged)
    with pytest.raises(LibraryDamaged) as caught:
        CaseLibrary(tmp_path).cases()
    assert str(path) in str(caught.value)
    restored = CaseLibrary.restore_backup(tmp_path, backup)
    case = restored.load("case00000001")
    assert case.clinical["n"] == 1 and not case.problems  # the state of the backup
    [kept] = tmp_path.glob("library.damaged-*.sqlite")
    assert kept.read_bytes() == damaged  # the damaged file is kept, never deleted
    path.write_bytes(b"junk")
    fresh = CaseLibrary.start_new(tmp_path)
    assert fresh.cases() == [] and len(list(tmp_path.glob("library.damaged-*.sqlite"))) == 2


def test_one_damaged_array_makes_that_run_unreadable_not_the_case(tmp_path):
    library = CaseLibrary(tmp_path)
    case = _case()
    library.save(case)
    document = library.load(case.id)
    other = document.runs["t"][1]
    blob = next(p for p in (tmp_path / case.id / "blobs").iterdir()
                if p.stat().st_size < 2000 and _holds_series(p, 5 + 1))  # fmt: skip
    intact = blob.read_bytes()
    blob.write_bytes(b"\x00" * 64)
    back = library.load(case.id)
    baseline, broken = back.runs["t"]
    assert baseline.status == "ok" and baseline.result.series["x"].values[0] == 9
    assert broken.status == UNREADABLE and broken.result is None and other.scenario == "other"
    assert back.labels is not None and len(back.problems) == 1
    assert "other" in back.problems[0]
    library.save(back)  # saving keeps the damaged run's reference, as it was stored
    assert [r.status for r in library.load(case.id).runs["t"]] == ["ok", UNREADABLE]
    blob.write_bytes(intact)  # the read error passes (a disk reconnected, a copy restored)
    assert [r.status for r in library.load(case.id).runs["t"]] == ["ok", "ok"]


def _holds_series(path: Path, value: float) -> bool:
    with np.load(path) as data:
        return "series.x.values" in data.files and data["series.x.values"][0] == value


def test_files_and_folders_are_private(tmp_path):
    (tmp_path / "lib").mkdir(mode=0o755)
    library = CaseLibrary(tmp_path / "lib")
    library.save(_case())
    root = tmp_path / "lib"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for path in root.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(root)} is {oct(mode)}"


def test_leftovers_of_killed_saves_are_collected_at_start(tmp_path):
    library = CaseLibrary(tmp_path)
    case = _case()
    library.save(case)
    blobs = tmp_path / case.id / "blobs"
    kept = sorted(blobs.iterdir())
    (blobs / ".abc.npz.tmp123.npz").write_bytes(b"half")  # a save killed while writing
    (blobs / f"{'f' * 40}.npz").write_bytes(b"orphan")  # written, never committed
    orphan_case = tmp_path / "neverc0mmit1" / "blobs"  # a first save killed before commit
    orphan_case.mkdir(parents=True)
    (orphan_case / "x.npz").write_bytes(b"x")
    CaseLibrary(tmp_path).collect_garbage()
    assert sorted(blobs.iterdir()) == kept
    assert not (tmp_path / "neverc0mmit1").exists()
    assert library.load(case.id).labels is not None


def test_old_revisions_are_pruned_but_not_under_a_reader(tmp_path):
    library = CaseLibrary(tmp_path, keep=3)
    for n in range(1, 6):
        library.save(_case(n))
    assert [r.revision for r in library.history("case00000001")] == [5, 4, 3]
    with file_lock(tmp_path / "case00000001" / ".lock"):  # another process reads it
        library.save(_case(6))
        assert len(library.history("case00000001")) == 4  # nothing deleted meanwhile
        assert library.load("case00000001", 3).clinical["n"] == 3
    library.save(_case(7))
    assert [r.revision for r in library.history("case00000001")] == [7, 6, 5]
    blobs = tmp_path / "case00000001" / "blobs"
    assert len(list(blobs.iterdir())) == 3 * 3  # labels + two results per kept revision


def test_an_earlier_revision_can_be_restored(tmp_path):
    library = CaseLibrary(tmp_path)
    library.save(_case(1))
    library.save(_case(2))
    assert library.restore("case00000001", 1) == 3
    case = library.load("case00000001")
    assert case.clinical["n"] == 1 and case.revision == 3
    assert library.history("case00000001")[0].note == "restored revision 1"


def test_a_series_reopens_its_case(tmp_path):
    library = CaseLibrary(tmp_path)
    library.save(_case(series_uid="1.2.840.1"))
    assert library.find_by_series("1.2.840.1") == "case00000001"
    assert library.find_by_series("1.2.840.2") is None


def test_a_second_writer_is_detected(tmp_path):
    library = CaseLibrary(tmp_path)
    mine = _case(1)
    library.save(mine)
    theirs = library.load(mine.id)
    theirs.clinical["n"] = 99
    library.save(theirs)
    saved = library.save_detailed(mine)
    assert (saved.revision, saved.replaced_other) == (3, 2)
    assert library.load(mine.id, 2).clinical["n"] == 99  # theirs is in the history


def test_lookup_errors_name_no_other_patient(tmp_path):
    library = CaseLibrary(tmp_path)
    library.save(_case())
    with pytest.raises(Exception) as caught:
        library.find("Somebody Else")
    assert "Jane" not in str(caught.value) and "PID-77" not in str(caught.value)


def test_two_programs_opening_an_old_library_at_once_both_succeed(tmp_path):
    import subprocess
    import sys

    shutil.copytree(LEGACY, tmp_path / "lib")
    code = (
        "import sys; from meditwin_desktop.core.store import CaseLibrary; "
        "print(len(CaseLibrary(sys.argv[1]).cases()))"
    )
    root = Path(__file__).resolve().parents[2]
    programs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "lib")], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    for program in programs:
        out, err = program.communicate(timeout=60)
        assert program.returncode == 0 and out.strip() == "2", err
    assert list((tmp_path / "lib").glob("library.format1-*.sqlite"))  # kept before migrating


def test_only_real_corruption_is_called_damage():
    from meditwin_desktop.core.store_schema import corruption

    assert corruption(sqlite3.DatabaseError("file is not a database"))
    assert corruption(sqlite3.DatabaseError("database disk image is malformed"))
    assert not corruption(sqlite3.OperationalError("database is locked"))
    assert not corruption(sqlite3.OperationalError("unable to open database file"))
    assert not corruption(sqlite3.OperationalError("disk I/O error"))
