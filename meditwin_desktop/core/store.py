"""The local case library: SQLite (standard library) for documents, .npz files for arrays.

Layout under `root` (0700; files 0600):
- `library.sqlite`: one row per case (its head revision) and every kept revision's
  document (`core.store_schema`);
- `<case id>/blobs/<sha256>.npz`: arrays by content (labels, results); a revision that
  did not change the labels does not write them again;
- `<case id>/.lock`: readers and writers of the case hold it shared, the collector that
  deletes unreferenced files and old revisions holds it exclusive (`core.locks`);
- `backups/library-<date>.sqlite`: a copy of the database made once a day (last 7).

A save writes its arrays first (temporary file, fsync, rename, fsync of the folder),
then allocates the next revision number and commits the document in one `BEGIN
IMMEDIATE` transaction, so two processes saving the same case get distinct revisions and
neither can delete what the other committed. Old revisions beyond `keep` (except those
a board decided on: `core.board`) and files no kept revision references are removed only
when no other process is reading or writing the case. A crash or SIGKILL at any moment
leaves every committed revision intact; what it leaves behind is collected the next time
the library opens.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop import __version__
from meditwin_desktop.core.atomic import fsync_dir, write_atomic
from meditwin_desktop.core.case import Case, now
from meditwin_desktop.core.case_document import from_document, to_document
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.locks import LockBusy, file_lock
from meditwin_desktop.core.logs import protect
from meditwin_desktop.core.paths import data_dir
from meditwin_desktop.core.store_schema import (
    LibraryDamaged,
    LibraryError,
    LibraryTooNew,
    check_file,
    check_health,
    corruption,
    prepare,
)

__all__ = ["CaseLibrary", "CaseSummary", "LibraryDamaged", "LibraryError", "LibraryTooNew"]

log = logging.getLogger(__name__)
KEEP_REVISIONS = 50
KEEP_BACKUPS = 7
_LIBRARY = "library.sqlite"
_BACKUPS = "backups"
_LOCK = ".lock"
_BLOBS = "blobs"


def _no_case(case_id: str) -> str:
    return tr("There is no case '{case}' in the library.").format(case=case_id)


@dataclass(frozen=True)
class CaseSummary:
    """A line of the case list."""

    id: str
    name: str
    patient_id: str
    modified: str
    revision: int
    revisions: int = 1
    twins: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevisionInfo:
    """One kept revision of a case."""

    revision: int
    saved: str
    app_version: str
    note: str


@dataclass(frozen=True)
class Saved:
    """What a save did: its revision, and the head it replaced when that head was written
    by someone else since this case was loaded (both stay in the history)."""

    revision: int
    replaced_other: int | None = None


class _CaseFiles:
    """A case's folder: arrays by content under `blobs/`, references relative to it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, arrays: dict[str, np.ndarray]) -> str:
        digest = hashlib.sha256()
        for key in sorted(arrays):
            value = np.ascontiguousarray(arrays[key])
            digest.update(f"{key}|{value.dtype.str}|{value.shape}|".encode())
            digest.update(memoryview(value).cast("B"))
        reference = f"{_BLOBS}/{digest.hexdigest()[:40]}.npz"
        path = self.folder / reference
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(path, lambda tmp: np.savez_compressed(tmp, **arrays), suffix=".npz")
        return reference

    def get(self, reference: str) -> dict[str, np.ndarray]:
        path = (self.folder / reference).resolve()
        if self.folder.resolve() not in path.parents:
            raise ValueError("array reference outside the case folder")
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple, set)):
        return list(value.tolist() if isinstance(value, np.ndarray) else value)
    raise TypeError(f"{type(value).__name__} cannot be stored")


def _references(document: dict[str, Any]) -> set[str]:
    """The array files a revision's document points at (formats 2 and 3)."""
    found = set()
    for stored in [document.get("labels"), *(s.get("labels") for s in document.get("studies", []))]:
        if stored:
            found.add(stored["file"])
    for entries in (document.get("runs") or {}).values():
        for entry in entries:
            if (entry.get("result") or {}).get("file"):
                found.add(entry["result"]["file"])
    return found


class CaseLibrary:
    """Cases on this workstation. Raises `LibraryError` (or its subclasses
    `LibraryDamaged`, `LibraryTooNew`) when the library cannot be opened; the GUI then
    runs without it and offers `restore_backup` or `start_new`."""

    def __init__(self, root: Path | None = None, *, keep: int = KEEP_REVISIONS) -> None:
        self.root = Path(root) if root is not None else data_dir() / "cases"
        self.path = self.root / _LIBRARY
        self.keep = keep
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
        except OSError as error:
            raise LibraryError(
                tr("The case library folder {path} cannot be used ({error}).").format(
                    path=self.root, error=error.strerror
                ),
                self.path,
            ) from None
        check_file(self.path)
        try:
            with self._connect() as db:
                check_health(db, self.path)
                prepare(db, self.path)
        except sqlite3.Error as error:
            if corruption(error):
                raise LibraryDamaged(tr("The case library {path} is damaged ({error}).").format(
                    path=self.path, error=error), self.path) from None  # fmt: skip
            raise LibraryError(
                tr("The case library {path} cannot be opened ({error}); it may be in use "
                   "or its disk unavailable.").format(path=self.path, error=error),
                self.path,
            ) from None
        self._secure()
        self._backup_daily()

    # -- plumbing -----------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; the write lock is taken at BEGIN (waits while busy)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _secure(self) -> None:
        for path in [self.path, *self.root.glob(f"{_LIBRARY}-*")]:
            with suppress(OSError):
                os.chmod(path, 0o600)

    def _folder(self, case_id: str) -> Path:
        if not case_id or "/" in case_id or "\\" in case_id or case_id.startswith("."):
            raise InputError(tr("'{case}' is not a case id.").format(case=case_id))
        return self.root / case_id

    @contextmanager
    def _case_lock(self, case_id: str, *, exclusive: bool = False, blocking: bool = True):
        folder = self._folder(case_id)
        if not folder.is_dir():
            folder.mkdir(mode=0o700, exist_ok=True)
            fsync_dir(self.root)  # the new folder's entry survives a power cut
        with file_lock(folder / _LOCK, exclusive=exclusive, blocking=blocking):
            yield folder

    # -- listing ---------------------------------------------------------------------
    def cases(self) -> list[CaseSummary]:
        """Every case, most recently changed first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.name, c.patient_id, c.modified, c.revision,"
                " (SELECT COUNT(*) FROM revisions r WHERE r.case_id = c.id), c.twins"
                " FROM cases c ORDER BY c.modified DESC"
            ).fetchall()
        return [CaseSummary(*row[:6], tuple(json.loads(row[6]))) for row in rows]

    def find(self, text: str) -> str:
        """The id of the case whose id or name is `text`; InputError if none or several
        (the message names no other patient)."""
        with self._connect() as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM cases WHERE id = ? OR name = ?", (text, text))]  # fmt: skip
        if text in ids:
            return text
        if not ids:
            raise InputError(
                tr("No case called '{case}' in the library (see `meditwin cases`).").format(
                    case=text
                )
            )
        if len(ids) > 1:
            raise InputError(
                tr("Several cases are called '{case}'; give one of their ids: {ids}.").format(
                    case=text, ids=", ".join(ids)
                )
            )
        return ids[0]

    def find_by_series(self, series_uid: str) -> str | None:
        """The most recently changed case built on this series, if any."""
        if not series_uid:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT id FROM cases WHERE series_uid = ? OR series LIKE ? ORDER BY"
                " modified DESC LIMIT 1",
                (series_uid, f'%"{series_uid}"%'),
            ).fetchone()
        return row[0] if row else None

    def exists(self, case_id: str) -> bool:
        """Whether the library holds this case."""
        with self._connect() as db:
            return db.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is not None

    def history(self, case_id: str) -> list[RevisionInfo]:
        """The kept revisions of a case, newest first; after each revision, the board
        decisions taken on it (newest first), as entries with that revision's number."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT revision, saved, app_version, note FROM revisions WHERE case_id = ?"
                " ORDER BY revision DESC",
                (case_id,),
            ).fetchall()
            notes = db.execute(
                "SELECT case_revision, signed_at, app_version, note FROM board_decisions"
                " WHERE case_id = ? ORDER BY signed_at DESC, rowid DESC",
                (case_id,),
            ).fetchall()
        if not rows:
            raise InputError(_no_case(case_id))
        entries = [(row, 0) for row in rows] + [(row, 1) for row in notes]
        entries.sort(key=lambda entry: (-entry[0][0], entry[1]))  # stable: notes keep order
        return [RevisionInfo(*row) for row, _ in entries]

    # -- saving --------------------------------------------------------------------------
    def save(self, case: Case, note: str = "") -> int:
        """Store the case as a new revision; return its number."""
        return self.save_detailed(case, note).revision

    def save_detailed(self, case: Case, note: str = "") -> Saved:
        """Store the case as a new revision; say whether it replaced another writer's."""
        with self._case_lock(case.id) as folder:
            document = to_document(case, _CaseFiles(folder))
            text = json.dumps(document, default=_json_default)
            fsync_dir(folder)
            reference = case.image_reference
            series = [s.reference["series_uid"] for s in case.studies
                      if s.reference.get("series_uid")]  # fmt: skip
            with self._transaction() as db:
                row = db.execute("SELECT revision FROM cases WHERE id = ?",
                                 (case.id,)).fetchone()  # fmt: skip
                top = db.execute("SELECT MAX(revision) FROM revisions WHERE case_id = ?",
                                 (case.id,)).fetchone()[0]  # fmt: skip
                head = row[0] if row else 0
                revision = max(head, top or 0) + 1
                stamp = now()
                db.execute(
                    "INSERT INTO revisions (case_id, revision, saved, app_version, note,"
                    " document) VALUES (?, ?, ?, ?, ?, ?)",
                    (case.id, revision, stamp, __version__, note, text),
                )
                db.execute(
                    "INSERT INTO cases (id, name, patient_id, study_uid, series_uid, series,"
                    " twins, created, modified, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET name=excluded.name,"
                    " patient_id=excluded.patient_id, study_uid=excluded.study_uid,"
                    " series_uid=excluded.series_uid, series=excluded.series,"
                    " twins=excluded.twins, modified=excluded.modified,"
                    " revision=excluded.revision",
                    (case.id, case.name, case.patient_id, reference.get("study_uid", ""),
                     reference.get("series_uid", ""), json.dumps(series),
                     json.dumps(sorted(t for t, runs in case.runs.items() if runs)),
                     case.created, stamp, revision),
                )  # fmt: skip
        other = head if (head and case.revision and head != case.revision) else None
        if other is not None:
            log.warning("case %s: revision %d replaced revision %d saved elsewhere",
                        case.id, revision, head)  # fmt: skip
        case.revision = revision
        self._prune(case.id)
        return Saved(revision, other)

    def restore(self, case_id: str, revision: int) -> int:
        """Make an earlier revision the case's head again (as a new revision); return it."""
        with self._case_lock(case_id), self._transaction() as db:
            row = db.execute(
                "SELECT document FROM revisions WHERE case_id = ? AND revision = ?",
                (case_id, revision),
            ).fetchone()
            if row is None:
                raise InputError(tr("Case '{case}' has no revision {revision} (see "
                                    "`meditwin cases --history`).").format(
                    case=case_id, revision=revision))  # fmt: skip
            new = db.execute("SELECT MAX(revision) FROM revisions WHERE case_id = ?",
                             (case_id,)).fetchone()[0] + 1  # fmt: skip
            stamp = now()
            db.execute(
                "INSERT INTO revisions (case_id, revision, saved, app_version, note,"
                " document) VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, new, stamp, __version__, f"restored revision {revision}", row[0]),
            )
            document = json.loads(row[0])
            db.execute(
                "UPDATE cases SET revision = ?, modified = ?, twins = ? WHERE id = ?",
                (new, stamp, json.dumps(sorted(t for t, r in document["runs"].items() if r)),
                 case_id),
            )  # fmt: skip
        self._prune(case_id)
        return new

    # -- loading --------------------------------------------------------------------------
    def load(self, case_id: str, revision: int | None = None) -> Case:
        """A revision of the case (default: its head); the image is loaded by the caller.

        Labels or results whose files are damaged come back missing, with the reason in
        `case.problems`; the rest of the case loads."""
        if not self.exists(case_id):
            raise InputError(_no_case(case_id))
        with self._case_lock(case_id) as folder, self._connect() as db:
            row = db.execute(
                "SELECT name, patient_id, created, revision FROM cases WHERE id = ?", (case_id,)
            ).fetchone()
            if row is None:  # deleted meanwhile
                raise InputError(_no_case(case_id))
            name, patient_id, created, head = row
            protect(name, patient_id)  # never in the log, whatever fails next
            wanted = head if revision is None else revision
            stored = db.execute(
                "SELECT document FROM revisions WHERE case_id = ? AND revision = ?",
                (case_id, wanted),
            ).fetchone()
            if stored is None:
                raise InputError(tr("Case '{case}' has no revision {revision}.").format(
                    case=case_id, revision=wanted))  # fmt: skip
            case = Case(name=name, patient_id=patient_id, id=case_id, created=created)
            case.revision = head  # saving it makes a new head, not a conflict
            from_document(json.loads(stored[0]), _CaseFiles(folder), case)
        return case

    def delete(self, case_id: str) -> None:
        """Remove a case, its history and its files (waits for its readers and writers)."""
        folder = self._folder(case_id)
        with self._case_lock(case_id, exclusive=True):
            with self._transaction() as db:
                db.execute("DELETE FROM revisions WHERE case_id = ?", (case_id,))
                db.execute("DELETE FROM cases WHERE id = ?", (case_id,))
            for entry in folder.iterdir():
                if entry.name != _LOCK:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.rmtree(folder, ignore_errors=True)

    # -- upkeep ------------------------------------------------------------------------------
    def _prune(self, case_id: str) -> None:
        """Drop revisions beyond `keep` (but those a board decided on) and unreferenced
        files, if nobody else is busy."""
        try:
            with self._case_lock(case_id, exclusive=True, blocking=False) as folder:
                with self._transaction() as db:
                    db.execute(
                        "DELETE FROM revisions WHERE case_id = ? AND revision NOT IN (SELECT"
                        " revision FROM revisions WHERE case_id = ? ORDER BY revision DESC"
                        " LIMIT ?) AND revision != (SELECT revision FROM cases WHERE id = ?)"
                        " AND revision NOT IN (SELECT case_revision FROM board_decisions"
                        " WHERE case_id = ?)",  # what a board decided on is kept
                        (case_id, case_id, self.keep, case_id, case_id),
                    )
                    rows = db.execute("SELECT document FROM revisions WHERE case_id = ?",
                                      (case_id,))  # fmt: skip
                    documents = [row[0] for row in rows]
                self._remove_unreferenced(folder, documents)
        except LockBusy:
            pass  # someone reads or writes this case: the next save or start collects
        except OSError as error:
            log.warning("case %s: cleaning up failed (%s)", case_id, error.strerror)

    def _remove_unreferenced(self, folder: Path, documents: list[str]) -> None:
        referenced = set()
        for text in documents:
            referenced |= _references(json.loads(text))
        if not documents:  # a first save that died before its commit
            for entry in folder.iterdir():
                if entry.name != _LOCK:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            return
        for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
            relative = path.relative_to(folder).as_posix()
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif relative != _LOCK and relative not in referenced:
                path.unlink()

    def collect_garbage(self) -> None:
        """Remove what killed saves left and what no kept revision references, for every
        case nobody else is using (the GUI does it in the background at start)."""
        with self._connect() as db:
            known = {r[0] for r in db.execute("SELECT id FROM cases")}
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith(".") or folder.name == _BACKUPS:
                continue
            if folder.name in known:
                self._prune(folder.name)
                continue
            try:  # a folder without a committed case
                with self._case_lock(folder.name, exclusive=True, blocking=False):
                    with self._connect() as db:
                        if db.execute("SELECT 1 FROM cases WHERE id = ?",
                                      (folder.name,)).fetchone():  # fmt: skip
                            continue  # committed meanwhile
                    self._remove_unreferenced(folder, [])
                (folder / _LOCK).unlink(missing_ok=True)
                folder.rmdir()
            except (LockBusy, OSError):
                continue

    # -- backups -----------------------------------------------------------------------------
    def backups(self) -> list[Path]:
        """The daily copies of the database, newest first."""
        return backups_of(self.root)

    def _backup_daily(self) -> None:
        folder = self.root / _BACKUPS
        target = folder / f"library-{datetime.now(UTC):%Y-%m-%d}.sqlite"
        if target.exists():
            return
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            with self._connect() as db:

                def copy(tmp: Path) -> None:
                    destination = sqlite3.connect(tmp)
                    try:
                        db.backup(destination)
                    finally:
                        destination.close()

                write_atomic(target, copy, suffix=".sqlite")
            for old in self.backups()[KEEP_BACKUPS:]:
                old.unlink(missing_ok=True)
        except (OSError, sqlite3.Error) as error:
            log.warning("daily backup of the case library failed: %s", error)

    @classmethod
    def restore_backup(cls, root: Path, backup: Path) -> CaseLibrary:
        """Set the damaged library file aside and put a backup in its place."""
        set_aside(root)
        shutil.copyfile(backup, Path(root) / _LIBRARY)
        return cls(root)

    @classmethod
    def start_new(cls, root: Path) -> CaseLibrary:
        """Set the damaged library file aside and start an empty library."""
        set_aside(root)
        return cls(root)


def _not_in_use(path: Path) -> None:
    try:
        check_file(path)
    except LibraryError:
        return  # empty or not SQLite: no program can be using it as a database
    if not path.exists():
        return
    db = sqlite3.connect(path, timeout=1, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise LibraryError(tr("The case library {path} is in use by another MEDITWIN "
                                  "program; close it first.").format(path=path),
                               path) from None  # fmt: skip
    except sqlite3.DatabaseError:
        pass  # garbage: no program can be using it as a database
    finally:
        db.close()


def backups_of(root: Path) -> list[Path]:
    """The daily copies of a library's database, newest first."""
    return sorted((Path(root) / _BACKUPS).glob("library-*.sqlite"), reverse=True)


def set_aside(root: Path) -> Path:
    """Rename a (damaged) library file and its journals to `library.damaged-<time>.sqlite`;
    return the new name. Nothing is deleted. Refused (LibraryError) while another program
    holds the file: renaming it under a writer would lose what it writes."""
    root = Path(root)
    _not_in_use(root / _LIBRARY)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{time.monotonic_ns() % 1000:03d}"
    kept = root / f"library.damaged-{stamp}.sqlite"
    source = root / _LIBRARY
    if source.exists():
        os.replace(source, kept)
    for suffix in ("-wal", "-shm"):
        journal = root / f"{_LIBRARY}{suffix}"
        if journal.exists():
            os.replace(journal, root / f"{kept.name}{suffix}")
    fsync_dir(root)
    return kept
