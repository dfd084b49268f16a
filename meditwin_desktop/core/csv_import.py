"""CSV import of measurements and seizure diaries, with a column mapping.

    read_measurements("labs.csv")                      # columns guessed from the headers
    read_diary("journal.csv", {"kind": "Crise"})        # one guess overridden

Headers are matched in English and French ("date", "valeur", "unité", "type", "durée"...),
accents and case ignored. Files from French spreadsheets work as they come: ';' between
columns, decimal commas ("6,2"), Windows-1252 text. Dates are ISO (2024-03-12, with
"T" or a space before a time), or day first: 12/03/2024, 12.03.2024, 12-03-2024, with
an optional time (14:30, 14:30:05, 14h30). A diary's time of day may be a column of its
own. Durations are "90", "90 s", "2 min", "1:30", "1 min 30"; a bare number is in seconds
unless its header says minutes ("durée (min)"). Units must be in `core.units`.
Every problem raises InputError naming the line (1 is the header) and the column.

A seizure diary may have a count column ("number of seizures", "nombre de crises", "nb"):
a cluster logged as one line. A count of 0, or a type such as "none"/"aucune", is a day the
family reported without seizure (`core.seizure_diary.SEIZURE_FREE`); a type "not recorded"/
"non renseigné"/"diary not kept" a period the diary does not cover (`NOT_RECORDED`), with its
length in the duration column ("7 days", "2 semaines") or its last day in an "until"/"fin"
column (stored as its length, duration_s). Types are read by `seizure_kind`
("tonico-clonique" -> "generalised tonic-clonic", the text as written kept in
details["as_written"]); times keep their UTC offset ("2024-03-31T02:30:00+02:00", "Z" ->
"+00:00").

Lesion diameters (the tumour-response follow-up) import without a name column: a value
column headed "diameter", "longest diameter", "diamètre", "grand axe" holds lesion longest
diameters (`core.lesions.LONGEST`), "short axis", "petit axe" lymph-node short axes
(`SHORT_AXIS`): `date,lesion,diameter` or `date;lésion;diamètre (mm)` read as they come, the
lesion column being the target. Diameters are in mm unless the header ("(cm)") or the cell
("3,1 cm") says otherwise, and are converted to mm (mixed units in one file are fine); a
diameter over 400 mm is refused as a likely typo. When the columns are guessed (no mapping
given), a file with both a longest-diameter and a short-axis column gives both per row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from meditwin_desktop.core.case import Event, Measurement
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, tr
from meditwin_desktop.core.scales import score_problem
from meditwin_desktop.core.seizure_diary import NOT_RECORDED, SEIZURE_FREE, seizure_kind
from meditwin_desktop.core.units import convert, known_units, normalise

MEASUREMENT_FIELDS = {  # field -> (label, shown translated: tr(label), required)
    "date": (N_("Date"), True),
    "name": (N_("Name"), True),
    "value": (N_("Value"), True),
    "unit": (N_("Unit"), False),
    "target": (N_("Target (lesion, eye...)"), False),
    "source": (N_("Source"), False),
}
DIARY_FIELDS = {
    "date": (N_("Date (or date-time)"), True),
    "time": (N_("Time of day"), False),
    "kind": (N_("Type"), True),
    "count": (N_("Number of seizures"), False),
    "duration": (N_("Duration"), False),
    "rescue": (N_("Rescue medication"), False),
    "note": (N_("Note"), False),
    "until": (N_("Until (end of a period)"), False),
}
_SYNONYMS = {  # normalised header words -> field; exact matches first, then whole words
    "measurements": {
        "date": ["date", "day", "jour", "date de mesure", "date du prelevement", "prelevement",
                 "sampling date", "visit date", "date de visite", "visite", "datetime"],
        "name": ["name", "test", "analyte", "measurement", "parameter", "parametre", "examen",
                 "analyse", "nom", "libelle", "item", "variable", "quantity", "marker"],
        "value": ["value", "valeur", "result", "resultat", "val", "score"],
        "unit": ["unit", "units", "unite", "unites", "uom"],
        "target": ["target", "lesion", "site", "location", "cible", "localisation", "eye",
                   "oeil", "side", "cote"],
        "source": ["source", "origin", "origine", "lab", "laboratory", "laboratoire",
                   "method", "methode"],
    },
    "diary": {
        "date": ["date", "datetime", "date time", "date heure", "date et heure", "timestamp",
                 "day", "jour", "when", "start", "debut", "onset", "date de la crise"],
        "time": ["time", "heure", "hour", "time of day", "clock", "horaire"],
        "kind": ["type", "kind", "seizure type", "type de crise", "crise", "seizure", "event",
                 "evenement", "category", "categorie", "nature"],
        "count": ["count", "number", "nombre", "nb", "number of seizures", "nombre de crises",
                  "nombre de crise", "quantity", "quantite", "seizure count", "nb crises",
                  "nb de crises", "how many", "combien"],
        "duration": ["duration", "duree", "length", "longueur"],
        "rescue": ["rescue", "rescue medication", "rescue med", "rescue drug", "secours",
                   "traitement de secours", "medicament de secours", "emergency medication"],
        "note": ["note", "notes", "comment", "comments", "commentaire", "commentaires",
                 "remarque", "remarques", "remarks", "observation", "observations", "details"],
        "until": ["until", "end", "end date", "fin", "date de fin", "jusqu au", "jusqu a",
                  "last day", "dernier jour"],
    },
}  # fmt: skip


# lesion diameters: normalised header -> measurement name (core.lesions.LONGEST, SHORT_AXIS;
# spelled out here so that this module does not import the image-measuring one)
_LONGEST, _SHORT_AXIS = "longest diameter", "short axis"
_DIAMETER_HEADERS = {
    _LONGEST: ["longest diameter", "diameter", "diametre", "long axis", "grand axe",
               "plus grand diametre", "ld", "longest axial diameter", "target diameter",
               "diameter mm", "diametre mm", "grand diametre"],
    _SHORT_AXIS: ["short axis", "petit axe", "short axis diameter", "sad",
                  "short axis mm", "petit diametre"],
}  # fmt: skip
MAX_DIAMETER_MM = 400.0  # larger than any lesion (a whole abdomen is ~350 mm wide)


def diameter_column(header: str) -> tuple[str, str] | None:
    """(measurement name, unit) of a lesion-diameter column from its header ('Diamètre (cm)'
    -> ('longest diameter', 'cm')); None for any other column. The unit defaults to mm."""
    words = _words(header)
    for name, headers in _DIAMETER_HEADERS.items():
        if words in headers:
            bracket = re.search(r"[\(\[]\s*([^\)\]]+?)\s*[\)\]]", header)
            unit = "mm"
            if bracket:
                try:
                    unit = check_unit(bracket.group(1)) or "mm"
                except ValueError:
                    unit = "mm"
            return name, unit
    return None


@dataclass(frozen=True)
class Table:
    """The cells of a CSV file: its headers and its rows with their line numbers."""

    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (line number in the file, cells)
    delimiter: str
    name: str  # the file's name (the default source of measurements)


# -- reading the file -------------------------------------------------------------------------
def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def load_table(path: str | Path) -> Table:
    """The file's cells (UTF-8 or Windows-1252; ',', ';', tab or '|' between columns)."""
    path = Path(path)
    try:
        text = _decode(path.read_bytes())
    except OSError as error:
        raise InputError(
            tr("{name} cannot be read: {error}.").format(
                name=path.name, error=error.strerror or error
            )
        ) from error
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise InputError(tr("{name} is empty.").format(name=path.name))
    delimiter = max(";\t,|", key=first.count) if any(c in first for c in ";\t,|") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: tuple[str, ...] | None = None
    rows = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if headers is None:
                headers = tuple(c.strip() for c in cells)
                continue
            rows.append((reader.line_num, tuple(c.strip() for c in cells)))
    except csv.Error as error:
        raise InputError(
            tr("{name}, line {line}: {error}.").format(
                name=path.name, line=reader.line_num, error=error
            )
        ) from error
    if headers is None or not any(headers):
        raise InputError(tr("{name} has no header line.").format(name=path.name))
    return Table(headers, tuple(rows), delimiter, path.name)


def _words(header: str) -> str:
    """A header without accents, case, units in brackets or punctuation: 'Durée (min)' ->
    'duree'."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[\(\[].*?[\)\]]", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def guess_mapping(headers: tuple[str, ...] | list[str], kind: str) -> dict[str, str | None]:
    """Which column holds each field ('measurements' or 'diary'); None where none matched."""
    synonyms = _SYNONYMS[kind]
    keys = [_words(h) for h in headers]
    mapping: dict[str, str | None] = dict.fromkeys(synonyms)
    taken: set[int] = set()
    for whole_words in (False, True):
        for field, names in synonyms.items():
            if mapping[field] is not None:
                continue
            for name in names:
                hit = next(
                    (
                        i
                        for i, k in enumerate(keys)
                        if i not in taken
                        and (f" {name} " in f" {k} " if whole_words else k == name)
                    ),
                    None,
                )
                if hit is not None:
                    mapping[field] = headers[hit]
                    taken.add(hit)
                    break
    if kind == "measurements" and mapping["value"] is None:  # date, lesion, diameter
        diameters = [h for i, h in enumerate(headers) if i not in taken and diameter_column(h)]
        if diameters:
            mapping["value"] = diameters[0]
    if kind == "diary" and mapping["date"] is None and mapping["time"] is not None:
        mapping["date"], mapping["time"] = mapping["time"], None  # one 'time' column: date-time
    return mapping


# -- cells ------------------------------------------------------------------------------------
def parse_number(text: str) -> float:
    """'6,2', '1 234,5', '1,234.5', '1.5e3' -> float; ValueError otherwise."""
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text)
    if "," in cleaned and "." in cleaned:  # the last one is the decimal separator
        thousands = "," if cleaned.rfind(".") > cleaned.rfind(",") else "."
        cleaned = cleaned.replace(thousands, "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cleaned):
        raise ValueError(text)
    return float(cleaned)


_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YEAR_FIRST = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})")
_TIME = re.compile(r"(\d{1,2})\s*[:hH]\s*(\d{2})?(?::(\d{2})(?:\.\d+)?)?")
# shown translated: tr(DATE_FORMATS)
DATE_FORMATS = N_(
    "2024-03-12, 12/03/2024, 12.03.2024 (day first), optionally with 14:30 or 14h30"
)


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", decimal_separator())


def parse_time_of_day(text: str) -> tuple[int, int, int]:
    """'14:30', '14:30:05', '14h30', '9h' -> (hour, minute, second); ValueError otherwise."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    hour, minute, second = (int(g or 0) for g in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(text)
    return hour, minute, second


def parse_date(text: str) -> str:
    """A date or date-time in one of DATE_FORMATS, as ISO text ('2024-03-12' or
    '2024-03-12T14:30:00'); ValueError with the reason otherwise."""
    text = text.strip()
    match = _DAY_FIRST.match(text) or _YEAR_FIRST.match(text)
    if not match:
        raise ValueError(
            tr("'{text}' is not a date ({formats})").format(text=text, formats=tr(DATE_FORMATS))
        )
    a, b, c = (int(g) for g in match.groups())
    year, month, day = (c, b, a) if match.re is _DAY_FIRST else (a, b, c)
    try:
        when = date(year, month, day)
    except ValueError:
        problem = (
            tr("'{text}' is not a date (dates are read day first: DD/MM/YYYY)")
            if match.re is _DAY_FIRST
            else tr("'{text}' is not a date")
        )
        raise ValueError(problem.format(text=text)) from None
    rest = text[match.end() :].strip().lstrip("T").strip()
    rest = re.sub(r"(Z|[+-]\d{2}:?\d{2})$", "", rest).strip()  # a time zone: local time kept
    if not rest:
        return when.isoformat()
    try:
        hour, minute, second = parse_time_of_day(rest)
    except ValueError:
        raise ValueError(
            tr("'{text}' has no readable time after the date ('{rest}')").format(
                text=text, rest=rest
            )
        ) from None
    return datetime(year, month, day, hour, minute, second).isoformat()


_OFFSET = re.compile(r"\s*(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def parse_date_time(text: str) -> str:
    """Like `parse_date`, but a UTC offset written after a time is kept:
    '2024-03-31T02:30:00+02:00' stays so, '...Z' becomes '+00:00' (a seizure diary's times
    are compared across the nights the clocks change and across time zones)."""
    text = text.strip()
    match = _DAY_FIRST.match(text) or _YEAR_FIRST.match(text)
    offset = _OFFSET.search(text[match.end() :]) if match else None
    written = parse_date(text)
    if offset is None or "T" not in written:
        return written
    sign = offset.group(1).upper()
    if sign == "Z":
        return written + "+00:00"
    digits = sign.replace(":", "")
    return f"{written}{digits[:3]}:{digits[3:]}"


_SECONDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "seconde": 1, "secondes": 1,
            "min": 60, "mn": 60, "mins": 60, "minute": 60, "minutes": 60, "m": 60, "h": 3600,
            "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "heure": 3600,
            "heures": 3600, "d": 86400, "day": 86400, "days": 86400, "j": 86400,
            "jour": 86400, "jours": 86400, "w": 604800, "wk": 604800, "week": 604800,
            "weeks": 604800, "sem": 604800, "semaine": 604800, "semaines": 604800}  # fmt: skip
_NEXT_UNIT = {604800: 86400, 86400: 3600, 3600: 60, 60: 1, 1: 1}  # '1h30' is 1 h 30 min


def parse_duration(text: str, default_unit_s: float = 1.0) -> float:
    """A duration in seconds: '90', '90 s', '2 min', '2,5 min', '1:30', '0:01:30', '1h30',
    '1 min 30'; a bare number is in `default_unit_s`. ValueError otherwise."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", text):  # m:ss or h:mm:ss
        parts = [int(p) for p in text.split(":")]
        return float(sum(p * 60**i for i, p in enumerate(reversed(parts))))
    tokens = re.findall(r"(\d+(?:[.,]\d+)?)\s*([a-zé]*)", text)
    if not tokens or "".join(n + u for n, u in tokens) != re.sub(r"\s", "", text):
        raise ValueError(text)  # something else than numbers and units
    total, previous = 0.0, None
    for number, unit in tokens:
        if unit and unit not in _SECONDS:
            raise ValueError(text)
        scale = _SECONDS[unit] if unit else (_NEXT_UNIT[previous] if previous else default_unit_s)
        total += parse_number(number) * scale
        previous = scale
    return total


def _unit_hint(header: str) -> float:
    """Seconds per bare number of a duration column: 60 if its header says minutes."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    if re.search(r"\b(min|mins|minutes?|mn)\b", text):
        return 60.0
    if re.search(r"\b(h|hours?|heures?)\b", text):
        return 3600.0
    return 1.0


_NO_RESCUE = {"", "-", "no", "none", "non", "aucun", "aucune", "0"}


# -- rows -------------------------------------------------------------------------------------
class _Row:
    """One row's cells by field, raising InputError that names the line and the column."""

    def __init__(self, table: Table, mapping: dict[str, str | None], line: int, cells) -> None:
        self.table, self.mapping, self.line, self.cells = table, mapping, line, cells

    def text(self, field: str) -> str:
        column = self.mapping.get(field)
        if column is None:
            return ""
        index = self.table.headers.index(column)
        return self.cells[index].strip() if index < len(self.cells) else ""

    def fail(self, field: str, message: str) -> InputError:
        column = self.mapping.get(field) or field
        return InputError(
            tr("{name}, line {line}, column '{column}': {message}.").format(
                name=self.table.name, line=self.line, column=column, message=message
            )
        )

    def required(self, field: str) -> str:
        value = self.text(field)
        if not value:
            raise self.fail(field, tr("this cell is empty"))
        return value


def _resolved(table: Table, mapping: dict[str, str | None] | None, kind: str) -> dict:
    fields = MEASUREMENT_FIELDS if kind == "measurements" else DIARY_FIELDS
    resolved = guess_mapping(table.headers, kind)
    for field, column in (mapping or {}).items():
        if field not in fields:
            raise InputError(
                tr("'{field}' is not a column to import (one of: {fields}).").format(
                    field=field, fields=", ".join(fields)
                )
            )
        if column is not None and column not in table.headers:
            raise InputError(
                tr("{name} has no column '{column}' (columns: {columns}).").format(
                    name=table.name, column=column, columns=", ".join(table.headers)
                )
            )
        resolved[field] = column
    missing = [fields[f][0] for f, (_, required) in fields.items() if required and not resolved[f]]
    if kind == "measurements" and resolved["value"] and diameter_column(resolved["value"]):
        missing = [m for m in missing if m != fields["name"][0]]  # the header names them
    if missing:
        raise InputError(
            tr("{name}: no column was found for {fields} (columns: {columns}); choose one.").format(
                name=table.name,
                fields=", ".join(tr(m) for m in missing),
                columns=", ".join(table.headers),
            )
        )
    return resolved


def check_unit(unit: str) -> str:
    """The unit as `core.units` writes it ('' stays ''); ValueError naming the known ones."""
    if not unit:
        return ""
    written = normalise(unit)
    if written not in known_units():
        raise ValueError(
            tr("unknown unit '{unit}' (known: {units})").format(
                unit=unit, units=", ".join(known_units())
            )
        )
    return written


def _diameter_mm(row: _Row, field: str, value: float, unit: str, bare: bool) -> float:
    """A lesion diameter in mm; InputError when it is negative or implausibly large."""
    try:
        mm = convert(value, unit or "mm", "mm")
    except InputError as error:
        raise row.fail(
            field,
            tr("a diameter cannot be in {unit} ({error})").format(unit=unit, error=error),
        ) from None
    if mm < 0:
        raise row.fail(
            field,
            tr("a diameter cannot be negative ({value} {unit})").format(value=_g(value), unit=unit),
        )
    if mm > MAX_DIAMETER_MM:
        hint = (
            tr(
                "it looks like micrometres or a typo; write the unit in the cell ('21 mm') or "
                "the column's header ('diameter (cm)')"
            )
            if bare
            else tr("no lesion is that large; check the value and its unit")
        )
        raise row.fail(
            field,
            tr("a lesion diameter of {value} mm is not plausible: {hint}").format(
                value=_g(mm), hint=hint
            ),
        )
    return mm


def _value_and_unit(row: _Row, field: str, text: str, unit: str) -> tuple[float, str, bool]:
    """The number of a value cell and its unit: the unit column's, else one written in the
    cell ('6,2 mmol/L'); whether the number came bare (no unit anywhere)."""
    bare = not unit
    if not unit:
        match = re.fullmatch(r"([-+]?[\d.,\s]*\d)\s*([^\d\s.,].*)", text)
        if match:
            text, unit = match.group(1), match.group(2).strip()
            bare = False
    try:
        value = parse_number(text)
    except ValueError:
        raise row.fail(field, tr("'{text}' is not a number").format(text=text)) from None
    try:
        unit = check_unit(unit)
    except ValueError as error:
        raise row.fail("unit" if row.mapping.get("unit") else field, str(error)) from None
    return value, unit, bare


def measurements_from(
    table: Table, mapping: dict[str, str | None] | None = None
) -> list[Measurement]:
    """Measurements of a table (`mapping` overrides the guessed columns). Lesion diameters
    (a value column headed "diameter", "short axis"...) need no name column and are
    converted to mm."""
    guessed = mapping is None
    mapping = _resolved(table, mapping, "measurements")
    value_column = mapping["value"]
    columns = [("value", value_column, diameter_column(value_column or ""))]
    if guessed and mapping["name"] is None and columns[0][2] is not None:
        used = {column for column in mapping.values() if column}
        for index, header in enumerate(table.headers):  # longest diameter and short axis
            kind = diameter_column(header)
            if header not in used and kind is not None and kind[0] != columns[0][2][0]:
                field = f"_diameter{index}"
                mapping[field] = header
                columns.append((field, header, kind))
    found = []
    for line, cells in table.rows:
        row = _Row(table, mapping, line, cells)
        when = row.required("date")
        try:
            when = parse_date(when)
        except ValueError as error:
            raise row.fail("date", str(error)) from None
        source = row.text("source") or table.name
        named = row.text("name") if mapping["name"] else ""
        filled = [(f, c, k) for f, c, k in columns if row.text(f)]
        if not filled:
            raise row.fail("value", tr("this cell is empty"))
        if mapping["name"] and not named:
            raise row.fail("name", tr("this cell is empty"))
        for field, _column, kind in filled:
            value, unit, bare = _value_and_unit(row, field, row.text(field), row.text("unit"))
            if kind and not unit:
                unit = kind[1]  # the header's unit ("diameter (cm)"), mm by default
            name = named or (kind[0] if kind else "")
            if name.lower() in (_LONGEST, _SHORT_AXIS):
                value, unit = _diameter_mm(row, field, value, unit or "mm", bare), "mm"
            problem = score_problem(name, value, unit)
            if problem:
                raise row.fail(field, problem[:-1])
            found.append(Measurement(name, value, unit, when, row.text("target"), source))
    return found


def _count(row: _Row) -> int | None:
    """The number of seizures of a row (None: no count given)."""
    text = row.text("count")
    if not text:
        return None
    if text.lower() in _NO_RESCUE:
        return 0
    try:
        number = parse_number(text)
    except ValueError:
        number = -1.0
    if number < 0 or number != int(number):
        raise row.fail(
            "count", tr("'{text}' is not a number of seizures (0, 1, 2...)").format(text=text)
        )
    return int(number)


def _period(row: _Row, when: str, per_number: float) -> float | None:
    """Length in seconds of a 'not recorded' row: to the end of its last day ('until'
    column, inclusive), or its duration column ("7 days"); None: that day alone. (A length,
    not a date: a pseudonymised copy of the case turns times into days, not details.)"""
    until = row.text("until")
    if until:
        try:
            last = parse_date(until)[:10]
        except ValueError as error:
            raise row.fail("until", str(error)) from None
        if last < when[:10]:
            raise row.fail(
                "until",
                tr("the period ends ({end}) before it starts ({start})").format(
                    end=date_text(last), start=date_text(when[:10])
                ),
            )
        start = datetime.fromisoformat(when).replace(tzinfo=None)
        end = datetime.fromisoformat(last) + timedelta(days=1)
        return (end - start).total_seconds()
    text = row.text("duration")
    if not text:
        return None
    if re.fullmatch(r"[\d.,\s]+", text) and per_number < 86400:
        raise row.fail(
            "duration",
            tr(
                "'{text}' is the length of a period not recorded: write its unit (7 days, 7 j, "
                "2 weeks) or give its last day in an 'until' column"
            ).format(text=text),
        )
    try:
        return parse_duration(text, per_number)
    except ValueError:
        raise row.fail(
            "duration", tr("'{text}' is not a length (7 days, 2 weeks)").format(text=text)
        ) from None


def events_from(table: Table, mapping: dict[str, str | None] | None = None) -> list[Event]:
    """Diary events of a table (`mapping` overrides the guessed columns).

    The type is read by `core.seizure_diary.seizure_kind` (the text as written is kept in
    `details["as_written"]` when it differs); a count column gives clusters
    (`details["count"]`), and a count of 0 or a type such as "none"/"aucune" a "no seizure"
    day; a type "not recorded"/"non renseigné" a period the diary does not cover, its length
    in the duration column or its last day in an "until" column. Times keep their UTC offset.
    """
    mapping = _resolved(table, mapping, "diary")
    per_number = _unit_hint(mapping["duration"] or "")
    found = []
    for line, cells in table.rows:
        row = _Row(table, mapping, line, cells)
        try:
            when = parse_date_time(row.required("date"))
        except ValueError as error:
            raise row.fail("date", str(error)) from None
        clock = row.text("time")
        if clock:
            offset = _OFFSET.search(clock)
            bare = clock[: offset.start()] if offset else clock
            try:
                hour, minute, second = parse_time_of_day(bare)
            except ValueError:
                raise row.fail(
                    "time", tr("'{text}' is not a time of day (14:30)").format(text=clock)
                ) from None
            when = parse_date_time(
                f"{when[:10]}T{hour:02d}:{minute:02d}:{second:02d}"
                + (offset.group(1) if offset else "")
            )
        count = _count(row)
        typed = row.text("kind")
        if not typed and count == 0:
            typed = SEIZURE_FREE
        typed = typed or row.required("kind")
        kind = seizure_kind(typed)
        if count == 0 and kind not in (SEIZURE_FREE, NOT_RECORDED):
            kind = SEIZURE_FREE  # '0 tonic seizures': a day without seizure
        elif kind == SEIZURE_FREE and count:
            raise row.fail(
                "count",
                tr("{count} seizures on a line whose type says '{typed}'").format(
                    count=count, typed=typed
                ),
            )
        details: dict = {"as_written": typed} if typed != kind else {}
        duration = None
        if kind == NOT_RECORDED:
            duration = _period(row, when, per_number)
        else:
            duration_text = row.text("duration")
            if duration_text:
                try:
                    duration = parse_duration(duration_text, per_number)
                except ValueError:
                    raise row.fail(
                        "duration",
                        tr("'{text}' is not a duration (90 s, 2 min, 1:30)").format(
                            text=duration_text
                        ),
                    ) from None
            if count and count > 1:
                details["count"] = count
        rescue = row.text("rescue")
        if rescue.lower() not in _NO_RESCUE:
            details["rescue"] = rescue
        found.append(Event(when, kind, duration, details, row.text("note")))
    return found


def read_measurements(
    path: str | Path, mapping: dict[str, str | None] | None = None
) -> list[Measurement]:
    """Measurements of a CSV file (list of `core.case.Measurement`)."""
    return measurements_from(load_table(path), mapping)


def read_diary(path: str | Path, mapping: dict[str, str | None] | None = None) -> list[Event]:
    """Events of a seizure-diary CSV file (list of `core.case.Event`)."""
    return events_from(load_table(path), mapping)


def _record_key(record) -> object:
    """What makes two records the same: the record itself; for an event, its moment (a UTC
    instant when an offset is written, the wall clock otherwise), its canonical type and the
    rest of its line (two lines dated with a day alone and told apart by a note stay two)."""
    if not isinstance(record, Event):
        return repr(record)  # (the records are dataclasses: equal fields, equal text)
    try:
        when = datetime.fromisoformat(str(record.time))
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
        moment: object = when.replace(microsecond=0)
    except ValueError:
        moment = str(record.time)
    details = {k: v for k, v in record.details.items() if k != "as_written"}
    return (moment, seizure_kind(record.kind), record.duration_s, repr(sorted(details.items())),
            record.note)  # fmt: skip


def new_records(existing: list, found: list) -> tuple[list, int]:
    """The records of `found` not already in `existing` nor earlier in `found` (the same file
    imported twice, or a line repeated in it, must not double a seizure count), and how many
    were left out as repeats. Events are compared by moment and canonical type ('GTC' at
    02:30+02:00 is 'generalised tonic-clonic' at 00:30Z)."""
    seen = {_record_key(record) for record in existing}
    fresh = []
    for record in found:
        key = _record_key(record)
        if key not in seen:
            fresh.append(record)
            seen.add(key)
    return fresh, len(found) - len(fresh)
