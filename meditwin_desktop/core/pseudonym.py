"""A pseudonymised view of a case, for reports and exports that leave the clinic.

`pseudonymize(case, pseudonym)` returns a copy that carries no identity (the original is
never changed; image, label and result arrays are shared, not copied). The rules:

- `name` and `id` become the pseudonym; `patient_id` becomes "".
- `image_reference` keeps only `{"modality", "description"}`, both the modality code
  (e.g. "CT"): the folder and UIDs identify, and the series description is free text
  typed at the scanner (DICOM PS3.15 removes it too).
- `clinical` keeps the fields of `core.clinical.fields()` that are not free text (kind
  "text", e.g. the diagnosis, goes) when their value has the field's kind (a number, a
  yes/no, one of the choices), and unknown keys only when their value is a number or a
  yes/no.
- Image and label `meta` keep only modality, window, stack label, warnings and the
  "partial" flag; files, UIDs, names, dates, institution and the rest go.
- Free text that stays (scenario names, label names, run errors, model warnings, string
  parameter values) is redacted by `Redactor`: the patient's name, its parts, the IDs and
  the case id become the pseudonym, operators' logins "operator"; paths "[path]", UIDs
  "[uid]", dates "[date]".
- `problems` (what the library could not read back) are redacted likewise; `revision`
  is 0: the view is not a revision of the library and must never be saved.
- Each run's `user` becomes "operator". Times become intervals: "day N" is the number of
  whole UTC calendar days since day 0, the earliest of the case's `created` and its runs'
  `time` (so `created` is usually "day 0"); an unreadable time becomes "".
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from meditwin_desktop.core.case import Case, Run, Study
from meditwin_desktop.core.clinical import by_key
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.twin import Result, Scenario

OPERATOR = "operator"
PSEUDONYM_RULE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,46}[A-Za-z0-9_-])?")  # <= 48
SAFE_META = ("modality", "window", "label", "warnings", "partial")
_MIN_IDENTIFIER = 3  # shorter identifiers ("42") would redact ordinary numbers and words
_MIN_NAME = 2  # but two-letter surnames exist (Ng, Li, Wu)
_NAME_LIKE = re.compile(r"[^\W\d_]+(?:[ ,.'^=-]+[^\W\d_]+)*")  # letters and separators
_NAME_COMPONENTS = re.compile(r"[ ,^=]+")  # "Thorax-Abdomen" stays whole, then its parts
_NAME_PARTS = re.compile(r"[ ,.'^=-]+")
_PATH = re.compile(
    r"(?<![\w.])(?:~|\.{1,2})?/(?:[^\s/'\"]+/)+[^\s'\"]*"  # /home/x/y, ~/x/y, ./x/y
    r"|\b[A-Za-z]:[\\/][^\s'\"]*"  # C:\x or C:/x
    r"|\\\\[^\s'\"]+"  # \\server\share
)
_UID = re.compile(r"(?<![\w.])\d+(?:\.\d+){4,}(?![\w.])")
_DATES = (
    re.compile(  # ISO 8601 date, optionally with a time and a zone
        r"(?<!\d)(?:1[89]|2\d)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
        r"(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?(?!\d)"
    ),
    re.compile(r"(?<!\d)(?:1[89]|2\d)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),  # DA
    re.compile(r"(?<!\d)\d{1,2}[./]\d{1,2}[./](?:1[89]|2\d)\d\d(?!\d)"),  # 12.03.2024
)


class Redactor:
    """Replaces identifiers (whole words, any case) by `replacement`, operators' logins
    (`staff`) by "operator", and paths, UIDs and dates in free text."""

    def __init__(
        self, identifiers: Iterable[str], replacement: str, staff: Iterable[str] = ()
    ) -> None:
        self._names = _words(identifiers)
        self._staff = _words(staff)
        self.replacement = replacement

    @classmethod
    def for_case(cls, case: Case, replacement: str) -> Redactor:
        """A redactor of `case`'s name (and its parts), IDs, the DICOM names in its meta
        and the logins of those who ran its scenarios."""
        users = [run.user for runs in case.runs.values() for run in runs]
        return cls(identifiers(case), replacement, users)

    def mentions(self, text: str) -> bool:
        """Whether `text` contains one of the identifiers (not counting logins)."""
        return bool(self._names and self._names.search(text))

    def names(self, text: str) -> str:
        """`text` with only the identifiers replaced (no path, UID or date rule)."""
        return self._names.sub(self.replacement, text) if self._names else text

    def __call__(self, text: str) -> str:
        text = _PATH.sub("[path]", text)
        text = _UID.sub("[uid]", text)
        for pattern in _DATES:
            text = pattern.sub("[date]", text)
        if self._staff:
            text = self._staff.sub(OPERATOR, text)
        return self._names.sub(self.replacement, text) if self._names else text

    def value(self, value: Any) -> Any:
        """`value` with every string in it (through dicts, lists and tuples) redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value


def _words(texts: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any of `texts` as a whole word, any case (longest first)."""
    words = {t.strip() for t in texts if t and _long_enough(t.strip())}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # letters and digits bound a word: "Doe_John" (a file name) holds two
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.I) if words else None


def _long_enough(text: str) -> bool:
    return len(text) >= (_MIN_NAME if text.isalpha() else _MIN_IDENTIFIER)


def identifiers(case: Case) -> list[str]:
    """The texts that identify the patient of `case`: its name (and, when it reads as a
    person's name, each part), patient ID, case id, and the DICOM names and IDs in its
    image meta."""
    found = [case.name, case.patient_id, case.id]
    names = [case.name]
    for volume in (case.image, case.labels.volume if case.labels else None):
        meta = volume.meta if volume is not None else {}
        found += [str(meta.get(k, "")) for k in ("patient_id", "other_patient_ids")]
        names.append(str(meta.get("patient_name", "")))
    for name in filter(None, names):
        found.append(name)
        if _NAME_LIKE.fullmatch(name.strip(" ^=,.")):  # DICOM "DOE^JOHN^^^" too
            found += _NAME_COMPONENTS.split(name) + _NAME_PARTS.split(name)
    return [text for text in found if text]


def check_pseudonym(text: str, case: Case | None = None) -> str:
    """The pseudonym, stripped; InputError if it is unusable or names the patient."""
    pseudonym = str(text or "").strip()
    if not PSEUDONYM_RULE.fullmatch(pseudonym):
        raise InputError(tr(
            "The pseudonym must be 1 to 48 letters, digits, spaces, dots, dashes or "
            "underscores, starting with a letter or digit and not ending with a dot or "
            "space (e.g. 'MDT-2024-017')."
        ))  # fmt: skip
    if case is not None and Redactor.for_case(case, "").mentions(pseudonym):
        raise InputError(
            tr("The pseudonym contains the patient's name or ID; choose another one.")
        )
    return pseudonym


def relative_days(times: Iterable[str]) -> list[str]:
    """'day N' for each ISO time: whole UTC days since the earliest; '' if unreadable."""
    days = [_utc_day(text) for text in times]
    known = [d for d in days if d is not None]
    if not known:
        return ["" for _ in days]
    first = min(known)
    return ["" if d is None else f"day {(d - first).days}" for d in days]


def _utc_day(text: str) -> date | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def safe_clinical(clinical: dict[str, Any]) -> dict[str, Any]:
    """Clinical values without free text: known non-text fields, unknown numbers and flags."""
    return {key: value for key, value in clinical.items() if _plain_value(key, value)}


def _plain_value(key: str, value: Any) -> bool:
    field = by_key().get(key)
    if field is None or field.kind == "number":
        return isinstance(value, (bool, int, float))
    if field.kind == "flag":
        return isinstance(value, bool)
    return field.kind == "choice" and value in field.choices


def safe_meta(meta: dict[str, Any], redact: Redactor) -> dict[str, Any]:
    """The non-identifying entries of a volume's meta (SAFE_META), text redacted."""
    return {key: redact.value(copy.deepcopy(meta[key])) for key in SAFE_META if key in meta}


def pseudonymize(case: Case, pseudonym: str) -> Case:
    """A copy of `case` without identity (see the module's rules); arrays are shared."""
    pseudonym = check_pseudonym(pseudonym, case)
    redact = Redactor.for_case(case, pseudonym)
    runs = [run for twin_runs in case.runs.values() for run in twin_runs]
    times = [case.created, *(run.time for run in runs), *(s.date for s in case.studies),
             *(m.date for m in case.measurements), *(e.time for e in case.events),
             *(t for m in case.medications for t in (m.start, m.stop)),
             *(r.start for r in case.recordings)]  # fmt: skip
    days = iter(relative_days(times))  # every date as "day N" from the same day 0
    created = next(days)
    day = {id(run): next(days) for run in runs}
    studies = [_study(study, redact, next(days)) for study in case.studies]
    copy_ = Case(
        name=pseudonym,
        patient_id="",
        id=pseudonym,
        studies=studies,
        clinical=safe_clinical(case.clinical),
        scenarios={
            twin: [_scenario(scenario, redact) for scenario in items]
            for twin, items in case.scenarios.items()
        },
        runs={
            twin: [_run(run, redact, day[id(run)]) for run in items]
            for twin, items in case.runs.items()
        },
        created=created,
        measurements=[dataclasses.replace(m, date=next(days), source=redact(m.source),
                                          target=redact(m.target)) for m in case.measurements],
        events=[dataclasses.replace(e, time=next(days), note=redact(e.note),
                                    details=redact.value(copy.deepcopy(e.details)))
                for e in case.events],
        medications=[dataclasses.replace(m, start=next(days), stop=next(days),
                                         note=redact(m.note)) for m in case.medications],
        recordings=[dataclasses.replace(r, start=next(days), file="", description="")
                    for r in case.recordings],
    )  # fmt: skip
    copy_.active = case.active
    copy_.problems = [redact(str(p)) for p in case.problems]
    # rulers and ROIs keep their geometry and values; a name the user typed is free text
    copy_.image_measurements = [
        dataclasses.replace(m, name=redact(m.name), time="") for m in case.image_measurements
    ]
    return copy_


def _study(study: Study, redact: Redactor, day: str) -> Study:
    """The study without where its files are and without free text (modality kept)."""
    image = study.image
    if isinstance(image, Volume):
        image = _volume(image, redact)
    elif image is not None and hasattr(image, "pixels"):  # a photograph: keep no identity
        image = type(image)(image.pixels, image.pixel_mm, safe_meta(image.meta, redact))
    labels = _labels(study.labels, redact) if study.labels is not None else None
    modality = study.modality or str(getattr(image, "meta", {}).get("modality", ""))
    reference = {"modality": modality, "description": modality} if modality else {}
    return Study(id=study.id, date=day, modality=modality, description=modality,
                 reference=reference, image=image, labels=labels)  # fmt: skip


def _volume(volume: Volume, redact: Redactor) -> Volume:
    return Volume(volume.array, volume.affine.copy(), safe_meta(volume.meta, redact))


def _labels(labels: LabelMap, redact: Redactor) -> LabelMap:
    named = {v: Label(lab.value, redact(lab.name), lab.color) for v, lab in labels.labels.items()}
    return LabelMap(_volume(labels.volume, redact), named)


def _scenario(scenario: Scenario, redact: Redactor) -> Scenario:
    overrides = redact.value(copy.deepcopy(scenario.overrides))
    return dataclasses.replace(scenario, name=redact(scenario.name), overrides=overrides)


def _run(run: Run, redact: Redactor, day: str) -> Run:
    result = _copy_sharing_arrays(run.result)
    if isinstance(result, Result):
        result.warnings = [redact(str(w)) for w in result.warnings]
        result.notes = {k: redact(str(v)) for k, v in result.notes.items()}
    return dataclasses.replace(
        run,
        scenario=redact(run.scenario),
        parameters=redact.value(copy.deepcopy(run.parameters)),
        error=redact(run.error) if run.error else run.error,
        outcomes=dict(run.outcomes),
        user=OPERATOR,
        time=day,
        result=result,
    )


def _copy_sharing_arrays(value: Any) -> Any:
    """A deep copy of `value` in which numpy arrays are the original objects."""
    memo: dict[int, Any] = {}
    _collect_arrays(value, memo)
    return copy.deepcopy(value, memo)


def _collect_arrays(value: Any, memo: dict[int, Any]) -> None:
    if isinstance(value, np.ndarray):
        memo[id(value)] = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in vars(value).values():
            _collect_arrays(item, memo)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_arrays(item, memo)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_arrays(item, memo)
