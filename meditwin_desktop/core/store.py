"""The local case library: SQLite (standard library) for documents, .npz beside for arrays.

A save writes the arrays of a new revision first (each file atomically: temporary file,
then rename), then commits one SQLite transaction that points the case at that revision;
only then are older revisions' files removed. A crash or SIGKILL at any moment leaves
either the previous or the new revision, complete. The image itself is not copied: the
case keeps a reference (folder and series UID) to the DICOM it was built on.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.atomic import write_atomic
from meditwin_desktop.core.case import Case, Run, now
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.paths import data_dir
from meditwin_desktop.core.twin import Field, Result, Scenario, TimeSeries

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    revision INTEGER NOT NULL,
    document TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class CaseSummary:
    """A line of the case list."""

    id: str
    name: str
    patient_id: str
    modified: str
    revision: int


class CaseLibrary:
    """Cases on this workstation (one SQLite file; arrays in a folder per case)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir() / "cases"
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "library.sqlite"
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    # -- listing ---------------------------------------------------------------------
    def cases(self) -> list[CaseSummary]:
        """Every case, most recently changed first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, name, patient_id, modified, revision FROM cases ORDER BY modified DESC"
            ).fetchall()
        return [CaseSummary(*row) for row in rows]

    def find(self, text: str) -> str:
        """The id of the case whose id or name is `text`; InputError if none or several."""
        matches = [c for c in self.cases() if text in (c.id, c.name)]
        if len(matches) != 1:
            known = ", ".join(f"{c.name} ({c.id})" for c in self.cases()) or "none"
            what = "No case" if not matches else "Several cases"
            raise InputError(f"{what} called '{text}' in the library (cases: {known}).")
        return matches[0].id

    # -- saving --------------------------------------------------------------------------
    def save(self, case: Case) -> int:
        """Store the case as a new revision; return the revision number."""
        with self._connect() as db:
            row = db.execute("SELECT revision FROM cases WHERE id = ?", (case.id,)).fetchone()
        revision = (row[0] if row else 0) + 1
        folder = self.root / case.id / f"r{revision}"
        if folder.exists():  # left over by a save that died before its commit
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        document = self._document(case, folder)
        with self._connect() as db:  # one transaction: the new revision becomes visible
            db.execute(
                "INSERT INTO cases (id, name, patient_id, created, modified, revision, document)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name=excluded.name,"
                " patient_id=excluded.patient_id, modified=excluded.modified,"
                " revision=excluded.revision, document=excluded.document",
                (case.id, case.name, case.patient_id, case.created, now(), revision,
                 json.dumps(document)),
            )  # fmt: skip
        for old in (self.root / case.id).glob("r*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)
        return revision

    def _document(self, case: Case, folder: Path) -> dict[str, Any]:
        document: dict[str, Any] = {
            "image_reference": case.image_reference,
            "clinical": case.clinical,
            "scenarios": {t: [asdict(s) for s in ss] for t, ss in case.scenarios.items()},
            "runs": {},
            "labels": None,
        }
        if case.labels is not None:
            _save_npz(folder / "labels.npz", array=case.labels.volume.array,
                      affine=case.labels.volume.affine)  # fmt: skip
            document["labels"] = {
                "file": "labels.npz",
                "table": [
                    [lab.value, lab.name, list(lab.color)] for lab in case.labels.labels.values()
                ],
            }
        for twin_id, runs in case.runs.items():
            entries = []
            for n, run in enumerate(runs):
                entry = {k: v for k, v in asdict(run).items() if k != "result"}
                if run.result is not None:
                    name = f"run-{twin_id}-{n}.npz"
                    entry["result"] = _save_result(folder / name, run.result)
                    entry["result"]["file"] = name
                entries.append(entry)
            document["runs"][twin_id] = entries
        return document

    # -- loading --------------------------------------------------------------------------
    def load(self, case_id: str) -> Case:
        """The case's latest complete revision (the image itself is loaded by the caller)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id, name, patient_id, created, revision, document FROM cases WHERE id = ?",
                (case_id,),
            ).fetchone()
        if row is None:
            raise InputError(f"There is no case '{case_id}' in the library.")
        case_id, name, patient_id, created, revision, text = row
        document = json.loads(text)
        folder = self.root / case_id / f"r{revision}"
        case = Case(name=name, patient_id=patient_id, id=case_id, created=created)
        case.image_reference = document["image_reference"]
        case.clinical = document["clinical"]
        case.scenarios = {t: [Scenario(**s) for s in ss] for t, ss in document["scenarios"].items()}
        if document["labels"]:
            with np.load(folder / document["labels"]["file"]) as data:
                volume = Volume(data["array"], data["affine"])
            table = {v: Label(v, n, tuple(c)) for v, n, c in document["labels"]["table"]}
            case.labels = LabelMap(volume, table)
        for twin_id, entries in document["runs"].items():
            runs = []
            for entry in entries:
                stored = entry.pop("result", None)
                run = Run(**entry)
                if stored is not None:
                    run.result = _load_result(folder / stored["file"], stored)
                runs.append(run)
            case.runs[twin_id] = runs
        return case

    def delete(self, case_id: str) -> None:
        """Remove a case and its files."""
        with self._connect() as db:
            db.execute("DELETE FROM cases WHERE id = ?", (case_id,))
        shutil.rmtree(self.root / case_id, ignore_errors=True)


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    write_atomic(path, lambda tmp: np.savez_compressed(tmp, **arrays), suffix=".npz")


def _save_result(path: Path, result: Result) -> dict[str, Any]:
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"outcomes": result.outcomes, "warnings": result.warnings,
                            "series": {}, "fields": {}}  # fmt: skip
    for name, series in result.series.items():
        arrays[f"series.{name}.time"] = series.time
        arrays[f"series.{name}.values"] = series.values
        meta["series"][name] = {"label": series.label, "unit": series.unit,
                                "time_unit": series.time_unit, "x_label": series.x_label,
                                "guides": [list(g) for g in series.guides]}  # fmt: skip
    for name, item in result.fields.items():
        meta["fields"][name] = {"label": item.label, "unit": item.unit}
        for part in ("values", "affine", "points", "faces"):
            if getattr(item, part) is not None:
                arrays[f"field.{name}.{part}"] = getattr(item, part)
    _save_npz(path, **arrays)
    return meta


def _load_result(path: Path, meta: dict[str, Any]) -> Result:
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    series = {
        name: TimeSeries(m["label"], m["unit"], arrays[f"series.{name}.time"],
                         arrays[f"series.{name}.values"], m["time_unit"],
                         m.get("x_label", "time"),
                         tuple((str(t), float(v)) for t, v in m.get("guides", ())))
        for name, m in meta["series"].items()
    }  # fmt: skip
    fields = {
        name: Field(m["label"], m["unit"], arrays[f"field.{name}.values"],
                    arrays.get(f"field.{name}.affine"), arrays.get(f"field.{name}.points"),
                    arrays.get(f"field.{name}.faces"))
        for name, m in meta["fields"].items()
    }  # fmt: skip
    return Result(dict(meta["outcomes"]), series, fields, list(meta["warnings"]))
