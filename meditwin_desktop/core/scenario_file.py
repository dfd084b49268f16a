"""Scenarios files: named parameter overrides for one twin, as JSON, read strictly.

Format (version 1), values in each parameter's declared unit:

    {"version": 1,
     "scenarios": [{"name": "Fast washout", "set": {"rate": 2.0}},
                   {"name": "Baseline"}]}

"version" is optional (1 is the only one); "set" is optional (no override). Every
refusal is an `InputError` naming the file, the scenario and the key:
- the file: a regular file of at most 1 MB (not a folder, device or pipe), UTF-8 text (a
  byte-order mark is allowed), valid JSON; NaN/Infinity literals, numbers too large to be
  finite, a key repeated within one object and nesting too deep are refused;
- the top level: an object with exactly "scenarios" (a non-empty list) and maybe "version";
- each scenario: an object with exactly "name" (non-empty one-line text of at most 200
  characters, unique in the file) and maybe "set" (an object {parameter: value}); a key
  that is neither is refused, naming the closest known key ('sett' — did you mean 'set'?);
- each value in "set", by the kind of the twin's parameter: number: a JSON number, finite
  (not true/false); flag: the JSON booleans true or false only (not 1/0, not text such as
  "yes" or "true": a typo or a quoted value must not silently flip a flag); choice: one of
  the parameter's choices, as text (its code, or its clinical label as the GUI shows it;
  the code is stored); vector: a list of `size` finite numbers. Then the
  parameter's own range check (`Parameter.validate`).

No Qt here: the command line (`meditwin run --scenarios`) and the GUI share this reader.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr, tr_n
from meditwin_desktop.core.twin import Parameter, Scenario, Twin, TwinInputError

MAX_BYTES = 1_000_000
MAX_NAME = 200
VERSION = 1
TOP_KEYS = ("scenarios", "version")
ENTRY_KEYS = ("name", "set")
EXAMPLE = '{"scenarios": [{"name": "...", "set": {"parameter": value}}]}'


class _RefusedError(ValueError):
    """A JSON construct or value the format does not allow."""


class _NonFinite:
    """A NaN or Infinity literal, kept until the value's check names scenario and key."""

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return self.literal


def read_scenarios(path: Path | str, twin: Twin) -> list[Scenario]:
    """The scenarios of a file for `twin`; InputError naming what is wrong (see the module)."""
    path = Path(path)
    text = _read_text(path)
    try:
        document = json.loads(text, parse_constant=_constant, object_pairs_hook=_object)
    except _RefusedError as error:
        raise InputError(f"{path}: {error}") from None
    except json.JSONDecodeError as error:
        raise InputError(
            tr("{path} is not valid JSON: {error} (line {line}, column {column}); expected "
               "{example}.").format(path=path, error=error.msg, line=error.lineno,
                                    column=error.colno, example=EXAMPLE)
        ) from None  # fmt: skip
    except ValueError as error:  # e.g. an integer with thousands of digits
        raise InputError(
            tr("{path} is not a usable JSON file ({error}).").format(path=path, error=error)
        ) from None
    except RecursionError:
        raise InputError(
            tr("{path}: the JSON is nested too deeply for a scenarios file.").format(path=path)
        ) from None
    except MemoryError:
        raise InputError(
            tr("{path} is too large to read as a scenarios file.").format(path=path)
        ) from None
    return parse_scenarios(document, twin, str(path))


def parse_scenarios(document: Any, twin: Twin, source: str) -> list[Scenario]:
    """Scenarios from a parsed JSON document; `source` (a file name) starts every message."""
    if not isinstance(document, dict):
        raise InputError(
            tr("{source}: the top level is {value}, not an object; expected {example}.").format(
                source=source, value=_describe(document), example=EXAMPLE
            )
        )
    _refuse_unknown(document, TOP_KEYS, tr("{source}: at the top level").format(source=source))
    if "version" in document and not (
        type(document["version"]) is int and document["version"] == VERSION
    ):
        raise InputError(
            tr("{source}: 'version' is {value}; this version of MEDITWIN reads version "
               "{version}.").format(source=source, value=_describe(document["version"]),
                                    version=VERSION)
        )  # fmt: skip
    if "scenarios" not in document:
        raise InputError(
            tr("{source}: there is no 'scenarios' list; expected {example}.").format(
                source=source, example=EXAMPLE
            )
        )
    entries = document["scenarios"]
    if not isinstance(entries, list) or not entries:
        raise InputError(
            tr("{source}: 'scenarios' is {value}; give a list of at least one scenario "
               '{{"name": ..., "set": {{...}}}}.').format(source=source, value=_describe(entries))
        )  # fmt: skip
    scenarios: list[Scenario] = []
    names: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        scenario = _scenario(entry, number, twin, source)
        if scenario.name in names:
            raise InputError(
                tr("{source}: scenario {number}: the name '{name}' is used twice; scenario "
                   "names must be unique.").format(source=source, number=number,
                                                   name=scenario.name)
            )  # fmt: skip
        names.add(scenario.name)
        scenarios.append(scenario)
    return scenarios


def name_problem(name: Any) -> str | None:
    """Why `name` cannot name a scenario (None when it can): non-empty one-line text."""
    if not isinstance(name, str):
        return tr("is {value}, not text").format(value=_describe(name))
    if not name.strip():
        return tr("is empty")
    if len(name) > MAX_NAME:
        return tr("is longer than {count} characters").format(count=MAX_NAME)
    if any(not character.isprintable() for character in name):
        return tr("contains a line break or another control character")
    return None


def _scenario(entry: Any, number: int, twin: Twin, source: str) -> Scenario:
    if not isinstance(entry, dict):
        raise InputError(
            tr("{source}: scenario {number} is {value}, not an object "
               '{{"name": ..., "set": {{...}}}}.').format(source=source, number=number,
                                                          value=_describe(entry))
        )  # fmt: skip
    name = entry.get("name")
    problem = tr("is missing") if "name" not in entry else name_problem(name)
    if problem:
        where = tr("{source}: scenario {number}").format(source=source, number=number)
    else:
        where = tr("{source}: scenario '{name}'").format(source=source, name=name)
    _refuse_unknown(entry, ENTRY_KEYS, where)
    if problem:
        raise InputError(
            tr("{where}: 'name' {problem}; give each scenario a name.").format(
                where=where, problem=problem
            )
        )
    overrides = entry.get("set", {})
    if not isinstance(overrides, dict):
        raise InputError(
            tr("{where}: 'set' is {value}; give an object {{parameter: value}}.").format(
                where=where, value=_describe(overrides)
            )
        )
    values = {}
    for key, value in overrides.items():
        parameter = _parameter(twin, key, where)
        try:
            values[key] = parameter.validate(_typed(parameter, value))
        except (_RefusedError, TwinInputError) as error:
            raise InputError(f"{where}: '{key}': {error}") from None
    return Scenario(name, values)


def _parameter(twin: Twin, key: str, where: str) -> Parameter:
    known = [p.name for p in twin.parameters]
    if key in known:
        return twin.parameter(key)
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        hint = tr("did you mean '{name}'?").format(name=close[0])
    else:
        hint = tr("its parameters are {names}.").format(names=", ".join(known))
    raise InputError(
        tr("{where}: '{key}' is not a parameter of {twin} — {hint}").format(
            where=where, key=_shown(key), twin=tr(twin.title), hint=hint
        )
    )


def _typed(parameter: Parameter, value: Any) -> Any:
    """`value` if its JSON type fits the parameter's kind; _RefusedError saying what to give."""
    kind = parameter.kind
    unit = f" ({parameter.unit})" if parameter.unit else ""
    if kind == "flag":
        if type(value) is not bool:
            raise _RefusedError(
                tr("give true or false (without quotes), not {value}.").format(
                    value=_describe(value)
                )
            )
        return value
    if kind == "choice":
        if isinstance(value, str) and value in parameter.choice_labels:
            return parameter.choices[parameter.choice_labels.index(value)]  # as shown
        if not isinstance(value, str) or value not in parameter.choices:
            choices = ", ".join(f"'{c}'" for c in parameter.choices)
            raise _RefusedError(
                tr("give one of {choices}, not {value}.").format(
                    choices=choices, value=_describe(value)
                )
            )
        return value
    if kind in ("vector", "point"):
        if not isinstance(value, list) or len(value) != parameter.size:
            raise _RefusedError(
                tr("give a list of {count} numbers{unit}, not {value}.").format(
                    count=parameter.size, unit=unit, value=_describe(value)
                )
            )
        return [_number(item, unit) for item in value]
    return _number(value, unit)


def _number(value: Any, unit: str) -> float:
    if isinstance(value, _NonFinite):
        raise _RefusedError(
            tr("give a finite number{unit}, not {value}.").format(unit=unit, value=value.literal)
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _RefusedError(
            tr("give a number{unit}, not {value}.").format(unit=unit, value=_describe(value))
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _RefusedError(
            tr("give a finite number{unit}, not {value}.").format(
                unit=unit, value=_describe(value)
            )
        )
    return number


def _refuse_unknown(mapping: dict, known: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            if close:
                hint = tr("did you mean '{name}'?").format(name=close[0])
            else:
                hint = tr("the keys are {keys}").format(keys=", ".join(f"'{k}'" for k in known))
            raise InputError(
                tr("{where}: unknown key '{key}' — {hint}").format(
                    where=where, key=_shown(key), hint=hint
                )
            )


def _read_text(path: Path) -> str:
    """The file's text; only a regular file of at most MAX_BYTES (a FIFO never blocks)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(_unreadable(path, error)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(tr("{path} is a folder, not a scenarios file.").format(path=path))
        if not stat.S_ISREG(mode):
            raise InputError(
                tr("{path} is not a regular file (a device, pipe or socket).").format(path=path)
            )
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise InputError(_unreadable(path, error)) from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise InputError(
            tr("{path} is larger than {size} MB: not a scenarios file.").format(
                path=path, size=MAX_BYTES // 1_000_000
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            tr("{path} is not UTF-8 text: not a scenarios file.").format(path=path)
        ) from None


def _unreadable(path: Path, error: OSError) -> str:
    return tr("{path} cannot be read: {error}.").format(path=path, error=error.strerror)


def _constant(literal: str) -> _NonFinite:
    return _NonFinite(literal)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RefusedError(
                tr("the key '{key}' appears twice in one object.").format(key=_shown(key))
            )
        result[key] = value
    return result


def _describe(value: Any) -> str:
    """A JSON value as a message shows it (short; never recursive)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**15):
        return repr(value)
    if isinstance(value, int):
        return tr("a huge number")
    if isinstance(value, _NonFinite):
        return value.literal
    if isinstance(value, str):
        return tr("the text '{text}'").format(text=_shown(value))
    if isinstance(value, list):
        return tr_n("a list of {n} item", "a list of {n} items", len(value)).format(
            n=len(value)
        )
    if isinstance(value, dict):
        return tr("an object")
    return type(value).__name__


def _shown(text: str, limit: int = 40) -> str:
    """Text from the file as a message quotes it: short, one line, no control characters."""
    text = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "…"
