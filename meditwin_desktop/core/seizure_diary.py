"""A seizure diary as days: what a family logged, turned into counts per calendar day.

    diary = daily_counts(case.events, unrecorded_days="unknown", tz="Europe/Paris")
    diary.convulsive          # float per day, NaN where the diary says nothing

Conventions of the events (`core.case.Event`, or a twin's `EventView`):
- `details["count"]`: a cluster logged as one line (an int >= 1; absent = 1);
- `details["rescue"]`: the rescue medication given (absent = none);
- kind `SEIZURE_FREE` ("no seizure"): a day the family reported with no seizure;
- kind `NOT_RECORDED` ("not recorded"): a period the diary does not cover, from `time` for
  `duration_s` seconds, or to `details["until"]` (an ISO date, its last day included).

The day of an event is its calendar date as written (the wall clock of where it was
written). With `tz` (an IANA name such as "Europe/Paris"), a time written with a UTC offset
("2024-06-30T22:30:00Z") is first moved to that zone (-> 1 July 00:30). A day is a calendar
day whatever its length (23 or 25 hours on the nights the clocks change); 02:30+02:00 and
02:30+01:00 on the night of the fall-back are two different moments.

`seizure_kind` reads the types families write (English and French, ILAE 2017 names and the
older ones) into the canonical kinds below; `is_convulsive` tells the kinds counted by the
pivotal Dravet trials' primary endpoint, convulsive seizures: tonic, clonic, tonic-clonic,
hemiclonic, atonic/tonic-atonic, focal to bilateral tonic-clonic (Devinsky O et al. N Engl J
Med 2017;376:2011-20, methods; Lagae L et al. Lancet 2019;394:2243-54, methods), and
convulsive status epilepticus.

Pure Python and numpy; no Qt, no import of the case (which imports `core.twin`, which
re-exports this module for the twins).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, date_text, tr, tr_n

SEIZURE_FREE = "no seizure"
NOT_RECORDED = "not recorded"
STATUS = "status epilepticus"
PROLONGED_S = 300.0  # 5 min: ILAE t1 of convulsive status (Trinka E et al. Epilepsia 2015)
MODES = ("seizure-free", "unknown")  # what a day without any entry means

KINDS = (
    "generalised tonic-clonic",
    "focal to bilateral tonic-clonic",
    "clonic",
    "hemiclonic",
    "tonic",
    "atonic",
    "focal",
    "myoclonic",
    "absence",
    STATUS,
)
CONVULSIVE = frozenset(KINDS) - {"focal", "myoclonic", "absence"}  # the trials' endpoint
# kinds a case may hold that are not seizures (left out of the counts without a note)
NOT_SEIZURES = frozenset(
    {"fever", "fievre", "hospital stay", "hospitalisation", "hospitalization", "vaccination",
     "vaccin", "infection", "illness", "maladie", "procedure", "visit", "consultation"}
)  # fmt: skip

_SYNONYMS = {
    "generalised tonic-clonic": [
        "generalised tonic clonic", "generalized tonic clonic", "gtc", "gtcs", "tonic clonic",
        "tonic clonic generalised", "tonic clonic generalized", "grand mal", "convulsive",
        "convulsion", "convulsive generalised", "convulsive generalized", "generalised convulsive",
        "generalized convulsive", "tonico clonique", "tonico clonique generalisee",
        "generalisee tonico clonique", "convulsive generalisee", "generalisee convulsive",
        "crise convulsive", "tcg", "ctcg", "bilateral tonic clonic", "tonico clonique bilaterale",
    ],
    "focal to bilateral tonic-clonic": [
        "focal to bilateral tonic clonic", "focal to bilateral", "fbtc", "fbtcs",
        "secondarily generalised", "secondarily generalized", "secondary generalised",
        "secondary generalized", "secondarily generalised tonic clonic",
        "secondarily generalized tonic clonic", "partial secondarily generalised",
        "partial secondarily generalized", "focale avec generalisation secondaire",
        "focale secondairement generalisee", "partielle secondairement generalisee",
        "focale evoluant vers une crise tonico clonique bilaterale",
        "focale vers bilaterale tonico clonique", "generalisation secondaire",
    ],
    "clonic": ["clonic", "clonique", "generalised clonic", "generalized clonic"],
    "hemiclonic": ["hemiclonic", "hemi clonic", "hemiclonique", "hemi clonique",
                   "unilateral clonic", "clonique unilaterale", "hemiconvulsive",
                   "hemiconvulsion", "hemi convulsive"],
    "tonic": ["tonic", "tonique", "generalised tonic", "generalized tonic"],
    "atonic": ["atonic", "atonique", "tonic atonic", "tonique atonique", "drop attack",
               "akinetic", "akinetique"],
    "focal": ["focal", "focale", "partial", "partielle", "focal aware", "focal impaired awareness",
              "focal with impaired awareness", "complex partial", "simple partial", "cps", "sps",
              "focale consciente", "focale avec alteration de la conscience",
              "partielle complexe", "partielle simple", "focal non motor", "focal motor"],
    "myoclonic": ["myoclonic", "myoclonique", "myoclonie", "myoclonus", "myoclonic jerk",
                  "jerk", "jerks", "secousse", "secousse myoclonique", "myoclonic absence"],
    "absence": ["absence", "absence atypique", "atypical absence", "typical absence",
                "absence typique", "petit mal"],
    STATUS: ["status", "status epilepticus", "convulsive status", "convulsive status epilepticus",
             "etat de mal", "etat de mal epileptique", "etat de mal convulsif", "eme",
             "non convulsive status", "non convulsive status epilepticus",
             "etat de mal non convulsif", "obtundation status"],
    SEIZURE_FREE: ["none", "no seizure", "no", "0", "nil", "seizure free", "non", "aucune",
                   "aucun", "pas de crise", "sans crise", "rien", "nothing", "zero",
                   "no seizures today", "aucune crise"],
    NOT_RECORDED: ["not recorded", "non renseigne", "non renseignee", "diary not kept",
                   "not kept", "journal non tenu", "non tenu", "not reported", "no data",
                   "pas de donnees", "donnees manquantes", "missing", "manquant",
                   "non rempli", "not filled", "non note"],
}  # fmt: skip
_NOISE = {"seizure", "seizures", "crise", "crises", "episode", "episodes", "type", "de", "d",
          "des", "du", "a", "an", "the", "la", "le", "les", "une", "un"}  # fmt: skip
_NON_CONVULSIVE = re.compile(r"\bnon ?convulsi|\bnonconvulsi|\bobtundation\b|\bncse\b")


def _normal(text: str) -> str:
    """Lower case, no accents, words only: 'Crise tonico-clonique' -> 'crise tonico clonique'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _key(text: str, singular: bool) -> str:
    words = [w for w in _normal(text).split() if w not in _NOISE] or _normal(text).split()
    if singular:  # 'absences', 'myocloniques', 'états' -> one spelling
        words = [w[:-1] if len(w) > 3 and w.endswith(("s", "x")) else w for w in words]
    return " ".join(words)


_LOOKUP: dict[str, str] = {}
for _kind, _names in _SYNONYMS.items():
    for _name in (_kind, *_names):
        _LOOKUP.setdefault(_key(_name, False), _kind)
        _LOOKUP.setdefault("~" + _key(_name, True), _kind)


def seizure_kind(text: str) -> str:
    """The canonical kind of a diary's type ('GTC', 'tonico-clonique', 'crise convulsive' ->
    'generalised tonic-clonic'; 'myoclonies' -> 'myoclonic'; 'état de mal' -> 'status
    epilepticus'; 'aucune', '0' -> 'no seizure'); an unknown text comes back as typed,
    stripped."""
    typed = str(text or "").strip()
    found = _LOOKUP.get(_key(typed, False)) or _LOOKUP.get("~" + _key(typed, True))
    return found or typed


def is_convulsive(kind: str) -> bool:
    """Whether a seizure of this kind (canonical or as written) counts as convulsive (the
    trials' primary endpoint); a non-convulsive status epilepticus does not."""
    if _NON_CONVULSIVE.search(_normal(kind)):
        return False
    return seizure_kind(kind) in CONVULSIVE


def event_count(event: Any) -> int:
    """How many seizures one diary line holds (`details["count"]`, 1 when absent);
    InputError when it is not a whole number >= 1."""
    value = (getattr(event, "details", None) or {}).get("count", 1)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 1 or number != int(number):
        raise InputError(
            tr(
                "The diary line of {time} has '{value}' seizures: write a whole number of 1 or "
                "more (or mark the day 'no seizure')."
            ).format(time=getattr(event, "time", "?"), value=value)
        )
    return int(number)


def _zone(tz: str | None) -> ZoneInfo | None:
    if not tz:
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            tr(
                "'{zone}' is not a time zone: use a name such as Europe/Paris or "
                "America/New_York."
            ).format(zone=tz)
        ) from None


def local_time(text: str, tz: str | None = None) -> datetime | None:
    """The wall-clock time of an ISO date or date-time (naive): as written, or moved to `tz`
    when it carries a UTC offset ('Z', '+02:00'); None when it cannot be read."""
    return _local(text, _zone(tz))


def _local(text: str, zone: ZoneInfo | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text).strip())
    except ValueError:
        return None
    if when.tzinfo is not None and zone is not None:
        when = when.astimezone(zone)
    return when.replace(tzinfo=None)


def event_day(text: str, tz: str | None = None) -> date | None:
    """The calendar day of an event's time (see `local_time`)."""
    when = local_time(text, tz)
    return when.date() if when is not None else None


def has_clock(text: str) -> bool:
    """Whether an ISO date-time text has a time of day (not a day alone)."""
    return bool(re.search(r"\d[T ]\d{1,2}:\d{2}", str(text)))


def _moment(text: str) -> Any:
    """The minute an event happened, for finding repeats: a UTC instant when an offset is
    written, else the wall clock."""
    when = datetime.fromisoformat(str(text).strip())
    if when.tzinfo is not None:
        return ("utc", when.astimezone(UTC).replace(tzinfo=None, second=0, microsecond=0))
    return ("wall", when.replace(second=0, microsecond=0))


@dataclass(frozen=True)
class DiaryDays:
    """A diary period as days: seizure counts per calendar day (NaN: not reported)."""

    start: date  # first day of the diary period
    convulsive: np.ndarray  # float per day: convulsive seizures, NaN = not reported
    all_seizures: np.ndarray  # float per day: every seizure kind (markers excluded)
    prolonged: int  # seizures > 300 s (any kind) or status epilepticus, within the period
    status_events: tuple[str, ...]  # times (as written) of status epilepticus events
    rescue_events: int  # events with a rescue medication
    duplicates: int  # events left out as repeats (same minute, same kind, same count)
    notes: tuple[str, ...]  # what a clinician should know (gaps, repeats, events outside)

    @property
    def days(self) -> int:
        """Days in the period."""
        return int(self.convulsive.size)

    @property
    def reported_days(self) -> int:
        """Days the diary reports (not NaN)."""
        return int(np.count_nonzero(~np.isnan(self.convulsive)))

    @property
    def end(self) -> date:
        """Last day of the period."""
        return self.start + timedelta(days=max(self.days - 1, 0))

    def dates(self) -> list[date]:
        """The days of the period, in order."""
        return [self.start + timedelta(days=i) for i in range(self.days)]


def not_recorded_days(event: Any, first: datetime | None = None) -> tuple[date, date]:
    """First and last day (inclusive) of a NOT_RECORDED period (`first`: its start as a
    wall-clock time, read from the event when not given); InputError when it cannot be read."""
    if first is None:
        first = local_time(getattr(event, "time", ""))
        if first is None:
            raise InputError(
                tr("The 'not recorded' period of '{time}' has no readable date.").format(
                    time=event.time
                )
            )
    until = (getattr(event, "details", None) or {}).get("until")
    if until:
        try:
            last = date.fromisoformat(str(until).strip()[:10])
        except ValueError:
            raise InputError(
                tr(
                    "The 'not recorded' period from {start} ends on '{until}', which is not a "
                    "date: write it as YYYY-MM-DD."
                ).format(start=date_text(first.date()), until=until)
            ) from None
    elif getattr(event, "duration_s", None):
        seconds = float(event.duration_s)
        last = (first + timedelta(seconds=seconds) - timedelta(microseconds=1)).date()
    else:
        last = first.date()
    if last < first.date():
        raise InputError(
            tr("The 'not recorded' period from {start} ends before it starts ({end}).").format(
                start=date_text(first.date()), end=date_text(last)
            )
        )
    return first.date(), last


def daily_counts(
    events: Iterable[Any],
    start: date | None = None,
    end: date | None = None,
    unrecorded_days: str = "seizure-free",
    tz: str | None = None,
) -> DiaryDays:
    """Seizures per calendar day from `start` to `end` (inclusive; by default the first and
    last day an entry covers).

    `unrecorded_days`: "seizure-free" counts a day without any entry as 0 (most families
    log seizures only); "unknown" reports only days with an entry (a seizure or an explicit
    "no seizure"), the others NaN. NOT_RECORDED periods are NaN either way, even where a
    seizure was logged in them (the count of such a day is incomplete). Repeats (the same
    minute, kind and count; times with a clock only, since two lines dated with a day alone
    may be two seizures) are counted once. InputError for an empty diary, an unknown mode or
    time zone, an end before the start, or a count that is not a whole number.
    """
    if unrecorded_days not in MODES:
        raise InputError(
            tr("'{mode}' is not a way to read days without an entry: choose {modes}.").format(
                mode=unrecorded_days, modes=tr(" or ").join(MODES)
            )
        )
    zone = _zone(tz)
    notes: list[str] = []
    unreadable = 0
    entries = []  # (day, wall-clock time, event, canonical kind)
    gaps: list[tuple[date, date]] = []
    for event in events:
        when = _local(getattr(event, "time", ""), zone)
        if when is None:
            unreadable += 1
            continue
        kind = seizure_kind(getattr(event, "kind", ""))
        if kind == NOT_RECORDED:
            gaps.append(not_recorded_days(event, when))
            continue
        entries.append((when.date(), event, kind))
    if unreadable:
        notes.append(
            tr_n(
                "{n} entry with an unreadable date left out.",
                "{n} entries with an unreadable date left out.",
                unreadable,
            ).format(n=unreadable)
        )
    covered = [d for d, _, _ in entries] + [d for gap in gaps for d in gap]
    if not covered and (start is None or end is None):
        raise InputError(
            tr(
                "The seizure diary is empty: import the family's diary or enter the seizures "
                "(and the days with none)."
            )
        )
    start = start or min(covered)
    end = end or max(covered)
    if end < start:
        raise InputError(
            tr("The diary's end ({end}) is before its start ({start}).").format(
                end=date_text(end), start=date_text(start)
            )
        )
    days = (end - start).days + 1
    convulsive = np.zeros(days)
    every = np.zeros(days)
    entered = np.zeros(days, dtype=bool)
    free_marked = np.zeros(days, dtype=bool)
    missing = np.zeros(days, dtype=bool)
    for first, last in gaps:
        lo, hi = max((first - start).days, 0), min((last - start).days, days - 1)
        if lo <= hi:
            missing[lo : hi + 1] = True
    seen: set = set()
    duplicates = outside = 0
    prolonged = rescue = in_gaps = clusters_long = 0
    status: list[str] = []
    unknown: Counter[str] = Counter()
    for day, event, kind in entries:
        index = (day - start).days
        if not 0 <= index < days:
            outside += 1
            continue
        if kind == SEIZURE_FREE:
            entered[index] = free_marked[index] = True
            continue
        if _normal(kind) in NOT_SEIZURES:
            continue
        count = event_count(event)
        text = str(getattr(event, "time", ""))
        if has_clock(text):
            key = (_moment(text), kind, count)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
        if kind not in KINDS:
            unknown[kind] += count
        entered[index] = True
        every[index] += count
        written = (getattr(event, "details", None) or {}).get("as_written", "")
        if all(is_convulsive(str(k)) for k in (kind, getattr(event, "kind", ""), written) if k):
            convulsive[index] += count
        duration = getattr(event, "duration_s", None)
        if kind == STATUS or (duration is not None and float(duration) > PROLONGED_S):
            prolonged += 1
            clusters_long += count > 1 and kind != STATUS
        if kind == STATUS:
            status.append(text)
        if str((getattr(event, "details", None) or {}).get("rescue", "") or "").strip():
            rescue += 1
        in_gaps += bool(missing[index])
    reported = ~missing if unrecorded_days == "seizure-free" else entered & ~missing
    convulsive[~reported] = np.nan
    every[~reported] = np.nan
    if missing.any():
        periods = tr_n("{n} period", "{n} periods", len(gaps)).format(n=len(gaps))
        notes.append(
            tr_n(
                "{n} day not recorded ({periods}): treated as missing, not as days without "
                "seizures.",
                "{n} days not recorded ({periods}): treated as missing, not as days without "
                "seizures.",
                int(missing.sum()),
            ).format(n=int(missing.sum()), periods=periods)
        )
    if unrecorded_days == "unknown":
        silent = int((~entered & ~missing).sum())
        if silent:
            notes.append(
                tr_n(
                    "{n} day without any entry treated as not reported (the diary logs "
                    "seizure-free days explicitly).",
                    "{n} days without any entry treated as not reported (the diary logs "
                    "seizure-free days explicitly).",
                    silent,
                ).format(n=silent)
            )
    if in_gaps:
        notes.append(
            tr_n(
                "{n} seizure line logged within not-recorded periods: those days count as not "
                "reported (their totals are incomplete).",
                "{n} seizure lines logged within not-recorded periods: those days count as not "
                "reported (their totals are incomplete).",
                in_gaps,
            ).format(n=in_gaps)
        )
    both = int((free_marked & (every > 0)).sum())
    if both:
        notes.append(
            tr_n(
                "{n} day marked 'no seizure' but with seizures logged: the seizures are "
                "counted.",
                "{n} days marked 'no seizure' but with seizures logged: the seizures are "
                "counted.",
                both,
            ).format(n=both)
        )
    if duplicates:
        notes.append(
            tr_n(
                "{n} repeated entry (same minute, type and count) counted once.",
                "{n} repeated entries (same minute, type and count) counted once.",
                duplicates,
            ).format(n=duplicates)
        )
    if outside:
        notes.append(
            tr_n(
                "{n} entry outside the period {start} to {end} not counted.",
                "{n} entries outside the period {start} to {end} not counted.",
                outside,
            ).format(n=outside, start=date_text(start), end=date_text(end))
        )
    if clusters_long:
        notes.append(
            tr_n(
                "{n} cluster line longer than 5 min counted as one prolonged seizure each (the "
                "duration may be the cluster's).",
                "{n} cluster lines longer than 5 min counted as one prolonged seizure each (the "
                "duration may be the cluster's).",
                clusters_long,
            ).format(n=clusters_long)
        )
    for kind, n in sorted(unknown.items()):
        seizures = tr_n("{n} seizure", "{n} seizures", n).format(n=n)
        notes.append(
            tr(
                "'{kind}' ({seizures}) is not a known seizure type: counted among all "
                "seizures, not as convulsive."
            ).format(kind=kind, seizures=seizures)
        )
    return DiaryDays(
        start=start,
        convulsive=convulsive,
        all_seizures=every,
        prolonged=prolonged,
        status_events=tuple(status),
        rescue_events=rescue,
        duplicates=duplicates,
        notes=tuple(notes),
    )


# the case's clinical values that say how to read its diary (declared by the Dravet twin)
MODE_KEY = "diary_unrecorded_days"  # what a day without any entry means (MODES)
START_KEY = "diary_start"  # first day of the diary (ISO date; default: the first entry's)
END_KEY = "diary_end"  # last day (default: the last entry's)
ZONE_KEY = "diary_time_zone"  # IANA zone that times written in UTC are moved to


def _clinical_day(clinical: Mapping[str, Any], key: str, problem: str) -> date | None:
    """The date of `clinical[key]`; InputError with `problem` (a template with {text},
    translated here) when it is not one."""
    text = str(clinical.get(key) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(tr(problem).format(text=text)) from None


def case_diary(events: Iterable[Any], clinical: Mapping[str, Any]) -> DiaryDays:
    """`daily_counts` of a case's events read as its clinical values say (MODE_KEY,
    START_KEY, END_KEY, ZONE_KEY): the one reading the diary view and the twins share."""
    mode = str(clinical.get(MODE_KEY) or MODES[0])
    return daily_counts(
        events,
        _clinical_day(
            clinical,
            START_KEY,
            N_("The start of the diary '{text}' is not a date: write it as YYYY-MM-DD."),
        ),
        _clinical_day(
            clinical,
            END_KEY,
            N_("The end of the diary '{text}' is not a date: write it as YYYY-MM-DD."),
        ),
        mode if mode in MODES else MODES[0],
        str(clinical.get(ZONE_KEY) or "").strip() or None,
    )
