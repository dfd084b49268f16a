"""The case library's SQLite file: health checks, schema versions and migrations.

Version 1 (releases up to 0.x of December 2026): one table `cases` holding each case's
latest document; arrays in `<case>/r<N>/`. Version 2: `cases` (one row per case: its
head revision) and `revisions` (every kept revision's document); arrays referenced by
path relative to the case's folder (`blobs/<hash>.npz`, or `r<N>/<file>` for migrated
revisions). Version 3: `cases.series` lists the Series Instance UIDs of all the case's
studies (a follow-up study reopens its case too). Version 4: `meetings` (board meetings:
agenda and decisions, `core.board`) and `board_decisions` (every decision recorded, amended
ones included: the case's history shows them and their revision is never pruned). The
version is SQLite's `user_version`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import tr

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
_SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    study_uid TEXT NOT NULL DEFAULT '',
    series_uid TEXT NOT NULL DEFAULT '',
    series TEXT NOT NULL DEFAULT '[]',
    twins TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_by_series ON cases(series_uid);
CREATE TABLE IF NOT EXISTS revisions (
    case_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    saved TEXT NOT NULL,
    app_version TEXT NOT NULL,
    note TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (case_id, revision)
);
CREATE TABLE IF NOT EXISTS meetings (
    id TEXT PRIMARY KEY,
    date TEXT NOT NULL,
    state TEXT NOT NULL,
    updated TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS board_decisions (
    meeting_id TEXT NOT NULL,
    item INTEGER NOT NULL,
    case_id TEXT NOT NULL,
    case_revision INTEGER NOT NULL,
    signed_at TEXT NOT NULL,
    app_version TEXT NOT NULL,
    note TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS board_decisions_by_case ON board_decisions(case_id);
"""


class LibraryError(MeditwinError):
    """The case library cannot be used; `path` is its file."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class LibraryDamaged(LibraryError):  # noqa: N818 - reads as a state
    """The library file is damaged; it can be restored from a backup or set aside."""


class LibraryTooNew(LibraryError):  # noqa: N818 - reads as a state
    """The library was written by a newer release of MEDITWIN."""


def check_file(path: Path) -> None:
    """Refuse a library file that is empty or not SQLite (LibraryDamaged)."""
    if not path.exists():
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise LibraryError(
            tr("The case library {path} cannot be read ({error}).").format(
                path=path, error=error.strerror
            ),
            path,
        ) from None
    if not head:
        raise LibraryDamaged(
            tr("The case library {path} is an empty file (0 bytes).").format(path=path), path
        )
    if head != _SQLITE_MAGIC:
        raise LibraryDamaged(
            tr("The case library {path} is not an SQLite database.").format(path=path), path
        )


def _damaged(path: Path, error: object) -> str:
    return tr("The case library {path} is damaged ({error}).").format(path=path, error=error)


def check_health(db: sqlite3.Connection, path: Path) -> None:
    """SQLite's quick check; LibraryDamaged with its first complaint."""
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as error:
        if not corruption(error):
            raise
        raise LibraryDamaged(_damaged(path, error), path) from None
    if rows != [("ok",)]:
        raise LibraryDamaged(_damaged(path, rows[0][0]), path)


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Create the schema, or migrate an older one, in one transaction."""
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        if not corruption(error):
            raise
        raise LibraryDamaged(_damaged(path, error), path) from None
    if version > SCHEMA_VERSION:
        raise LibraryTooNew(
            tr("The case library {path} was written by a newer MEDITWIN (format {version}; "
               "this release reads up to {supported}). Update MEDITWIN to open it.").format(
                path=path, version=version, supported=SCHEMA_VERSION
            ),
            path,
        )
    if version == SCHEMA_VERSION:
        if not {"cases", "revisions", "meetings", "board_decisions"} <= tables:
            raise LibraryDamaged(
                tr("The case library {path} has lost its tables.").format(path=path), path
            )
        return
    if "cases" in tables:  # an older format: a copy first, as it is, then the migration
        old = version if version else 1  # format 1 had no user_version
        _keep_copy(db, path.with_name(f"library.format{old}-{_stamp()}.sqlite"))
    db.execute("BEGIN IMMEDIATE")
    try:  # read again under the lock: another process may have migrated meanwhile
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and "cases" in tables:
            _migrate_1_to_2(db)  # creates the current tables
        elif version == 2:
            _migrate_2_to_3(db)
        _create(db)  # the tables a version added (3 -> 4: meetings), or all of a new library
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _stamp() -> str:
    from datetime import UTC, datetime

    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}"


def _keep_copy(db: sqlite3.Connection, target: Path) -> None:
    """A copy of the library as it is (journal included), before a migration changes it."""
    copy = sqlite3.connect(target)
    try:
        db.backup(copy)
    finally:
        copy.close()


def corruption(error: sqlite3.Error) -> bool:
    """Whether an SQLite error means a damaged file (not a busy, locked or missing one)."""
    text = str(error).lower()
    return any(word in text for word in ("not a database", "malformed", "encrypted"))


def _create(db: sqlite3.Connection) -> None:
    """The tables, statement by statement (executescript would commit the transaction)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Version 2 -> 3: the series of every study, for reopening a case by any of them."""
    db.execute("ALTER TABLE cases ADD COLUMN series TEXT NOT NULL DEFAULT '[]'")
    for case_id, series_uid in db.execute("SELECT id, series_uid FROM cases").fetchall():
        db.execute("UPDATE cases SET series = ? WHERE id = ?",
                   (json.dumps([series_uid] if series_uid else []), case_id))  # fmt: skip


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Version 1 -> 2: each case's document becomes its first kept revision, with array
    files referenced relative to the case folder (they stay in `r<N>/`)."""
    from meditwin_desktop import __version__

    rows = db.execute(
        "SELECT id, name, patient_id, created, modified, revision, document FROM cases"
    ).fetchall()
    db.execute("ALTER TABLE cases RENAME TO cases_v1")
    _create(db)
    for case_id, name, patient_id, created, modified, revision, text in rows:
        document = json.loads(text)
        folder = f"r{revision}"
        if document.get("labels"):
            document["labels"]["file"] = f"{folder}/{document['labels']['file']}"
        for entries in document.get("runs", {}).values():
            for entry in entries:
                if entry.get("result") and entry["result"].get("file"):
                    entry["result"]["file"] = f"{folder}/{entry['result']['file']}"
        document["format"] = 2
        reference = document.get("image_reference") or {}
        db.execute(
            "INSERT INTO cases (id, name, patient_id, study_uid, series_uid, twins, created,"
            " modified, revision, series) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, name, patient_id, reference.get("study_uid", ""),
             reference.get("series_uid", ""), json.dumps(sorted(document.get("runs", {}))),
             created, modified, revision,
             json.dumps([reference["series_uid"]] if reference.get("series_uid") else [])),
        )  # fmt: skip
        db.execute(
            "INSERT INTO revisions (case_id, revision, saved, app_version, note, document)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (case_id, revision, modified, __version__, "migrated from library format 1",
             json.dumps(document)),
        )  # fmt: skip
    db.execute("DROP TABLE cases_v1")
    log.info("case library migrated from format 1 to 2 (%d cases)", len(rows))
