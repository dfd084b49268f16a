"""Cohort runs: one twin over many cases, resumable, each run kept as soon as it ends.

A cohort is a list of `CohortCase`: the rows of a cohort file (`read_cohort_file`, a CSV
with a `case` column and optional `scenario` and `observed:<outcome>` columns) or every
case of the library (`library_cohort`). `run_cohort` loads the cases in turn, a window
ahead of the workers (memory stays bounded however long the cohort), prepares their
scenarios (`core.scenarios.prepare_scenarios`) and submits those not already done
(`submit_prepared`); each run that ends is appended to `runs.jsonl` in the output folder,
one JSON object per line, flushed and fsynced. Run again on the same folder, it skips
every (case, scenario) whose last line is "ok" with the same key (twin, version,
parameters, uncertainty plan, hash of the inputs: `core.runner.cache_key`, as the runner
keys its cache), so a changed case or twin version runs again, and a failed run is
retried. A line cut short (the process killed while writing it) is ignored.

A case the twin does not fit (`Twin.missing`) is skipped with the reason. Privacy: cases
are named by their library id, a case file by `file-` and 12 hex digits of its path's
hash; the case's name and patient ID are replaced by that id as soon as it is loaded, so
they reach neither the outputs nor the messages (and the log never holds them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from meditwin_desktop.core.case import Case, Run, now
from meditwin_desktop.core.cluster_privacy import protect_case
from meditwin_desktop.core.csv_import import load_table, parse_number
from meditwin_desktop.core.errors import IdentifiableDataError, InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.logs import protect
from meditwin_desktop.core.result_export import json_value, outcome_entries
from meditwin_desktop.core.runner import RunHandle, Runner, failure_summary
from meditwin_desktop.core.runner import run_key as run_key_of
from meditwin_desktop.core.scenarios import (
    Prepared,
    baseline_of,
    check_points,
    parameters,
    plan_for,
    prepare_scenarios,
    submit_prepared,
)
from meditwin_desktop.core.twin import Scenario, Twin, TwinInputError
from meditwin_desktop.core.uncertainty import UncertaintyPlan

log = logging.getLogger(__name__)

RUNS_FILE = "runs.jsonl"
IMAGE_KINDS = ("label", "image", "photo")  # requirements that need the case's image loaded
# a `case` cell ending so names a file (a missing one is not looked up as a case's name)
FILE_SUFFIXES = (".json", ".dcm", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class CohortCase:
    """One case of a cohort: its id in the outputs, where it is read from, and the outcomes
    recorded for the patient (scenario -> outcome name -> value, in the outcome's unit)."""

    id: str
    source: str  # a library case id, or the absolute path of a case file
    from_file: bool = False
    line: int | None = None  # its first line in the cohort file
    observed: dict[str, dict[str, float]] = field(default_factory=dict)


def file_case_id(path: Path) -> str:
    """The id a case file goes by in the outputs (its name may be a patient's)."""
    return "file-" + hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]


def library_cohort(library) -> list[CohortCase]:
    """Every case of the library (`CaseLibrary`), by id."""
    return [CohortCase(s.id, s.id) for s in sorted(library.cases(), key=lambda s: s.id)]


def read_cohort_file(
    path: Path | str, twin: Twin, scenarios: Sequence[Scenario], library=None
) -> list[CohortCase]:
    """The cases of a cohort file (CSV: ',', ';', tab or '|' between columns, as
    `core.csv_import.load_table` finds), in order; InputError naming the line and column.

    `case`: a library case id or name, or a file or folder that `meditwin case import`
    reads (a path relative to the cohort file's folder). `scenario` (optional): which
    scenario the row's observations belong to (default: the first). `observed:<outcome>`
    (optional, one per outcome): the value recorded for the patient, in the outcome's unit
    (a decimal comma is read). Other columns are ignored (and never copied out)."""
    path = Path(path)
    table = load_table(path)
    file = table.name
    lower = [h.strip().lower() for h in table.headers]
    if "case" not in lower:
        raise InputError(tr("{file} has no column 'case' (its columns: {columns}).").format(
            file=file, columns=", ".join(table.headers)))  # fmt: skip
    case_col = lower.index("case")
    scenario_col = lower.index("scenario") if "scenario" in lower else None
    declared = {o.name: o for o in twin.outcomes}
    observed_cols: dict[int, str] = {}
    for n, header in enumerate(table.headers):
        if not lower[n].startswith("observed:"):
            continue
        name = header.split(":", 1)[1].strip()
        if name not in declared or not declared[name].numeric:
            known = ", ".join(o.name for o in twin.outcomes if o.numeric)
            raise InputError(tr("{file}: column '{column}': {twin} has no number outcome "
                                "'{name}' (it has: {names}).").format(
                file=file, column=header, twin=tr(twin.title), name=name, names=known))  # fmt: skip
        observed_cols[n] = name
    names = [s.name for s in scenarios]
    cases: dict[str, CohortCase] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, cells in table.rows:

        def cell(n: int | None, cells=cells) -> str:
            return cells[n].strip() if n is not None and n < len(cells) else ""

        text = cell(case_col)
        if not text:
            raise InputError(tr("{file}, line {line}: the column 'case' is empty.").format(
                file=file, line=line))  # fmt: skip
        entry = _resolve(text, path.parent, library, file, line)
        scenario = cell(scenario_col) or names[0]
        if scenario not in names:
            raise InputError(tr("{file}, line {line}: there is no scenario '{scenario}' (the "
                                "scenarios are: {names}).").format(
                file=file, line=line, scenario=scenario, names=", ".join(names)))  # fmt: skip
        if (entry.id, scenario) in first_line:
            raise InputError(tr("{file}, line {line}: this case and scenario are already on "
                                "line {first}.").format(
                file=file, line=line, first=first_line[(entry.id, scenario)]))  # fmt: skip
        first_line[(entry.id, scenario)] = line
        values = {}
        for column, name in observed_cols.items():
            raw = cell(column)
            if not raw:
                continue
            try:
                value = parse_number(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise InputError(tr("{file}, line {line}, column '{column}': '{value}' is not "
                                    "a number.").format(
                    file=file, line=line, column=table.headers[column], value=raw))  # fmt: skip
            values[name] = value
        case = cases.setdefault(entry.id, entry)
        if values:
            case.observed.setdefault(scenario, {}).update(values)
    if not cases:
        raise InputError(tr("{file} lists no case.").format(file=file))
    return list(cases.values())


def _resolve(text: str, folder: Path, library, file: str, line: int) -> CohortCase:
    """The case a `case` cell names: an existing file or folder, else a library case."""
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = folder / candidate
    if candidate.exists():
        resolved = candidate.resolve()
        return CohortCase(file_case_id(resolved), str(resolved), True, line)
    path_like = "/" in text or os.sep in text or Path(text).suffix.lower() in FILE_SUFFIXES
    if library is None or path_like:
        raise InputError(tr("{file}, line {line}: {path} does not exist.").format(
            file=file, line=line, path=text))  # fmt: skip
    try:
        case_id = library.find(text)
    except InputError as error:
        raise InputError(tr("{file}, line {line}: {error}").format(
            file=file, line=line, error=error)) from None  # fmt: skip
    return CohortCase(case_id, case_id, False, line)


def needs_images(twin: Twin) -> bool:
    """Whether the twin reads the case's image (then it is loaded with the case)."""
    return any(r.kind in IMAGE_KINDS for r in twin.requirements)


def load_cohort_case(entry: CohortCase, library, twin: Twin) -> Case:
    """The case, named by its cohort id (name and patient ID never leave this function),
    with its image when the twin needs one; InputError without the patient's name."""
    from meditwin_desktop.core.case_images import load_case_image
    from meditwin_desktop.core.case_import import case_from

    try:
        case = case_from(Path(entry.source)) if entry.from_file else library.load(entry.source)
        protect(case.name, case.patient_id)
        case.name, case.patient_id = entry.id, ""
        if needs_images(twin) and case.image_reference:
            load_case_image(case)
    except InputError as error:
        raise InputError(_pseudonymous(str(error), entry)) from None
    return case


def _pseudonymous(text: str, entry: CohortCase) -> str:
    """`text` with a case file's path and name replaced by the case's id."""
    if entry.from_file:
        text = text.replace(entry.source, entry.id).replace(Path(entry.source).name, entry.id)
    return text


def run_key(prepared: Prepared, params: Mapping[str, Any], plan: UncertaintyPlan | None) -> str:
    """The key the runner gives this run (`Runner.submit`, with the plan `submit_prepared`
    completes with the case's own uncertainties)."""
    return run_key_of(prepared.twin, params, prepared.digest, plan_for(prepared, plan))


class RunLog:
    """`runs.jsonl`: every ended run, one JSON object a line, appended, flushed and fsynced;
    `latest` holds each (case, scenario)'s last line (a line cut short is ignored)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.latest: dict[tuple[str, str], dict[str, Any]] = {}
        self._file = None
        self._newline = False  # the file ends without one: a line was cut short
        if self.path.exists():
            with open(self.path, "rb") as handle:
                for raw in handle:
                    self._newline = not raw.endswith(b"\n")
                    try:
                        record = json.loads(raw)
                    except ValueError:  # cut short, or not ours
                        continue
                    if isinstance(record, dict) and "case" in record and "scenario" in record:
                        self.latest[(str(record["case"]), str(record["scenario"]))] = record

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably (it is on disk when this returns)."""
        if self._file is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "ab")
            if self._newline:
                self._file.write(b"\n")
        text = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        self._file.write(text.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.latest[(record["case"], record["scenario"])] = record

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class CohortProgress:
    """Where a cohort run stands (read by the progress callback)."""

    cases: int  # in the cohort
    runs: int  # (case, scenario) pairs
    cases_done: int = 0
    runs_done: int = 0  # ended: ran now, done before (reused) or skipped
    ran: int = 0  # runs that ended in this session
    reused: int = 0
    failed: int = 0  # runs that failed in this session (a case that could not load: each)
    skipped: int = 0  # cases the twin does not fit
    started: float = field(default_factory=time.monotonic)

    def eta_s(self) -> float | None:
        """Seconds left at this session's pace (None before the first run ended)."""
        left = self.runs - self.runs_done
        if left <= 0:
            return 0.0
        if self.ran == 0:
            return None
        return (time.monotonic() - self.started) / self.ran * left


@dataclass
class CohortResult:
    """Each (case id, scenario)'s record (as in runs.jsonl), and the final progress."""

    records: dict[tuple[str, str], dict[str, Any]]
    progress: CohortProgress

    @property
    def failed(self) -> int:
        """Runs whose record is not ok (skipped cases excluded)."""
        return sum(r["status"] not in ("ok", "skipped") for r in self.records.values())


def run_cohort(
    twin: Twin,
    cases: Sequence[CohortCase],
    scenarios: Sequence[Scenario],
    runner: Runner,
    folder: Path,
    *,
    library=None,
    plan: UncertaintyPlan | None = None,
    progress: Callable[[CohortProgress], None] | None = None,
    ahead: int | None = None,
) -> CohortResult:
    """Run every scenario on every case (those already done in `folder` are not run again);
    `ahead`: runs in flight at most (default twice the runner's workers; with uncertainty,
    each sample counts and two scenarios' samples are always allowed)."""
    return _Cohort(twin, list(scenarios), runner, Path(folder), library, plan, progress,
                   ahead or 2 * max(1, runner.max_parallel)).run(cases)  # fmt: skip


class _Cohort:
    def __init__(self, twin, scenarios, runner, folder, library, plan, progress, ahead) -> None:
        self.twin, self.scenarios, self.runner = twin, scenarios, runner
        self.library, self.plan, self.progress, self.ahead = library, plan, progress, ahead
        self.log = RunLog(folder / RUNS_FILE)
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.finished: queue.SimpleQueue = queue.SimpleQueue()
        self.in_flight: dict[str, int] = {}  # runs submitted and not ended, per case
        self.state = CohortProgress(0, 0)

    def run(self, cases: Sequence[CohortCase]) -> CohortResult:
        self.state = CohortProgress(len(cases), len(cases) * len(self.scenarios))
        pending = iter(cases)
        # a run with uncertainty is its samples' runs: two such in flight keep the workers
        # busy (the next case's samples queued while the last ones of a case run)
        weight = self.plan.samples + 1 if self.plan is not None else 1
        limit = max(self.ahead, 2 * weight)
        flying = 0  # runs submitted and not ended (weighted)
        try:
            while True:
                while flying < limit and (entry := next(pending, None)) is not None:
                    flying += weight * self._start(entry)
                    self._tell()
                if flying == 0:
                    break
                try:
                    case_id, record = self.finished.get(timeout=1.0)
                except queue.Empty:
                    self._tell()  # the ETA moves on
                    continue
                flying -= weight
                self._ended(case_id, record)
                self._tell()
        finally:
            self.log.close()
        return CohortResult(self.records, self.state)

    def _tell(self) -> None:
        if self.progress is not None:
            self.progress(self.state)

    def _start(self, entry: CohortCase) -> int:
        """Load and prepare a case, keep what is done, submit the rest; runs submitted."""
        try:
            case = load_cohort_case(entry, self.library, self.twin)
            protect_case(case)  # its name, ID and birth date: never logged, never sent unasked
            missing = self.twin.missing(case)
            if missing:
                self._skip(entry, "; ".join(missing))
                return 0
            prepared, refused = self._prepare(case)
        except Exception as error:  # this case only: the cohort goes on
            if not isinstance(error, InputError):
                log.warning("a cohort case could not be prepared", exc_info=True,
                            extra={"log_only": True})  # fmt: skip
            why = _pseudonymous(failure_summary(error), entry)
            for scenario in self.scenarios:
                self._keep(entry, self._failed_record(entry, scenario.name, why))
            self.state.cases_done += 1
            return 0
        for name, why in refused.items():
            self._keep(entry, self._failed_record(entry, name, why))
        to_run = []
        for scenario, params in prepared.scenarios if prepared is not None else []:
            key = run_key(prepared, params, self.plan)
            done = self.log.latest.get((entry.id, scenario.name))
            if done is not None and done.get("status") == "ok" and done.get("key") == key:
                self.records[(entry.id, scenario.name)] = done
                self.state.reused += 1
                self.state.runs_done += 1
            else:
                to_run.append((scenario, params))
        if not to_run:
            self.state.cases_done += 1
            return 0
        def done(handle: RunHandle, run: Run, entry=entry) -> None:  # the runner's thread
            self.finished.put((entry.id, self._record(entry, run, handle.key)))

        try:
            submit_prepared(replace(prepared, scenarios=to_run), self.runner, on_done=done,
                            uncertainty=self.plan)  # fmt: skip
        except IdentifiableDataError as error:  # a remote cluster: nothing of it was sent
            why = _pseudonymous(str(error), entry)
            for scenario, _ in to_run:
                self._keep(entry, self._failed_record(entry, scenario.name, why))
            self.state.cases_done += 1
            return 0
        self.in_flight[entry.id] = len(to_run)
        return len(to_run)

    def _prepare(self, case: Case) -> tuple[Prepared | None, dict[str, str]]:
        """The scenarios that validate on this case, prepared; why the others do not."""
        baseline = baseline_of(self.twin, case)
        valid, refused = [], {}
        for scenario in self.scenarios:
            try:
                check_points(self.twin, case, scenario.name,
                             parameters(self.twin, baseline, scenario))  # fmt: skip
            except TwinInputError as error:
                refused[scenario.name] = str(error)
            else:
                valid.append(scenario)
        prepared = prepare_scenarios(self.twin, case, valid, baseline) if valid else None
        return prepared, refused

    def _ended(self, case_id: str, record: dict[str, Any]) -> None:
        if record["status"] != "cancelled":  # cancelled: the cohort is being stopped
            self.log.append(record)
        self.records[(case_id, record["scenario"])] = record
        self.state.ran += 1
        self.state.runs_done += 1
        self.state.failed += record["status"] != "ok"
        self.in_flight[case_id] -= 1
        if not self.in_flight[case_id]:
            del self.in_flight[case_id]
            self.state.cases_done += 1

    def _keep(self, entry: CohortCase, record: dict[str, Any]) -> None:
        """Record a run that did not go to the runner (failed before, or skipped)."""
        key = (entry.id, record["scenario"])
        before = self.log.latest.get(key)
        same = before is not None and all(before.get(k) == record.get(k) for k in
                                          ("status", "error", "twin_version"))  # fmt: skip
        if not (same and record["status"] == "skipped"):  # a skip is not repeated
            self.log.append(record)
        self.records[key] = record
        self.state.runs_done += 1
        self.state.failed += record["status"] == "failed"

    def _skip(self, entry: CohortCase, reason: str) -> None:
        for scenario in self.scenarios:
            record = self._base(entry, scenario.name, "skipped", reason)
            self._keep(entry, record)
        self.state.skipped += 1
        self.state.cases_done += 1

    def _base(self, entry: CohortCase, scenario: str, status: str, error: str | None
              ) -> dict[str, Any]:  # fmt: skip
        return {"case": entry.id, "scenario": scenario, "status": status, "error": error,
                "key": None, "twin": self.twin.id, "twin_version": self.twin.version,
                "time": now()}  # fmt: skip

    def _failed_record(self, entry: CohortCase, scenario: str, why: str) -> dict[str, Any]:
        return self._base(entry, scenario, "failed", why)

    def _record(self, entry: CohortCase, run: Run, key: str) -> dict[str, Any]:
        record = self._base(entry, run.scenario, run.status, run.error)
        result = run.result
        record.update({
            "key": key, "input_hash": run.input_hash, "time": run.time,
            "seconds": round(float(run.seconds), 3),
            "parameters": json_value(run.parameters),
            "outcomes": json_value(outcome_entries(run, self.twin)),
            "warnings": [str(w) for w in result.warnings] if result is not None else [],
        })  # fmt: skip
        if result is not None and result.uncertainty:
            record["uncertainty"] = result.uncertainty
        return record
