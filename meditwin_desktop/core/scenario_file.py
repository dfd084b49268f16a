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
            f"{path} is not valid JSON: {error.msg} (line {error.lineno}, column "
            f"{error.colno}); expected {EXAMPLE}."
        ) from None
    except ValueError as error:  # e.g. an integer with thousands of digits
        raise InputError(f"{path} is not a usable JSON file ({error}).") from None
    except RecursionError:
        raise InputError(f"{path}: the JSON is nested too deeply for a scenarios file.") from None
    except MemoryError:
        raise InputError(f"{path} is too large to read as a scenarios file.") from None
    return parse_scenarios(document, twin, str(path))


def parse_scenarios(document: Any, twin: Twin, source: str) -> list[Scenario]:
    """Scenarios from a parsed JSON document; `source` (a file name) starts every message."""
    if not isinstance(document, dict):
        raise InputError(
            f"{source}: the top level is {_describe(document)}, not an object; expected {EXAMPLE}."
        )
    _refuse_unknown(document, TOP_KEYS, f"{source}: at the top level")
    if "version" in document and not (
        type(document["version"]) is int and document["version"] == VERSION
    ):
        raise InputError(
            f"{source}: 'version' is {_describe(document['version'])}; this version of "
            f"MEDITWIN reads version {VERSION}."
        )
    if "scenarios" not in document:
        raise InputError(f"{source}: there is no 'scenarios' list; expected {EXAMPLE}.")
    entries = document["scenarios"]
    if not isinstance(entries, list) or not entries:
        raise InputError(
            f"{source}: 'scenarios' is {_describe(entries)}; give a list of at least one "
            'scenario {"name": ..., "set": {...}}.'
        )
    scenarios: list[Scenario] = []
    names: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        scenario = _scenario(entry, number, twin, source)
        if scenario.name in names:
            raise InputError(
                f"{source}: scenario {number}: the name '{scenario.name}' is used twice; "
                "scenario names must be unique."
            )
        names.add(scenario.name)
        scenarios.append(scenario)
    return scenarios


def name_problem(name: Any) -> str | None:
    """Why `name` cannot name a scenario (None when it can): non-empty one-line text."""
    if not isinstance(name, str):
        return f"is {_describe(name)}, not text"
    if not name.strip():
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    if any(not character.isprintable() for character in name):
        return "contains a line break or another control character"
    return None


def _scenario(entry: Any, number: int, twin: Twin, source: str) -> Scenario:
    if not isinstance(entry, dict):
        raise InputError(
            f"{source}: scenario {number} is {_describe(entry)}, not an object "
            '{"name": ..., "set": {...}}.'
        )
    name = entry.get("name")
    problem = "is missing" if "name" not in entry else name_problem(name)
    where = f"{source}: scenario {number}" if problem else f"{source}: scenario '{name}'"
    _refuse_unknown(entry, ENTRY_KEYS, where)
    if problem:
        raise InputError(f"{where}: 'name' {problem}; give each scenario a name.")
    overrides = entry.get("set", {})
    if not isinstance(overrides, dict):
        raise InputError(
            f"{where}: 'set' is {_describe(overrides)}; give an object {{parameter: value}}."
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
    hint = f"did you mean '{close[0]}'?" if close else f"its parameters are {', '.join(known)}."
    raise InputError(f"{where}: '{_shown(key)}' is not a parameter of {twin.title} — {hint}")


def _typed(parameter: Parameter, value: Any) -> Any:
    """`value` if its JSON type fits the parameter's kind; _RefusedError saying what to give."""
    kind = parameter.kind
    unit = f" ({parameter.unit})" if parameter.unit else ""
    if kind == "flag":
        if type(value) is not bool:
            raise _RefusedError(f"give true or false (without quotes), not {_describe(value)}.")
        return value
    if kind == "choice":
        if isinstance(value, str) and value in parameter.choice_labels:
            return parameter.choices[parameter.choice_labels.index(value)]  # as shown
        if not isinstance(value, str) or value not in parameter.choices:
            choices = ", ".join(f"'{c}'" for c in parameter.choices)
            raise _RefusedError(f"give one of {choices}, not {_describe(value)}.")
        return value
    if kind in ("vector", "point"):
        if not isinstance(value, list) or len(value) != parameter.size:
            raise _RefusedError(
                f"give a list of {parameter.size} numbers{unit}, not {_describe(value)}."
            )
        return [_number(item, unit) for item in value]
    return _number(value, unit)


def _number(value: Any, unit: str) -> float:
    if isinstance(value, _NonFinite):
        raise _RefusedError(f"give a finite number{unit}, not {value.literal}.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _RefusedError(f"give a number{unit}, not {_describe(value)}.")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _RefusedError(f"give a finite number{unit}, not {_describe(value)}.")
    return number


def _refuse_unknown(mapping: dict, known: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else "the keys are " + ", ".join(f"'{k}'" for k in known)
            )
            raise InputError(f"{where}: unknown key '{_shown(key)}' — {hint}")


def _read_text(path: Path) -> str:
    """The file's text; only a regular file of at most MAX_BYTES (a FIFO never blocks)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path} is a folder, not a scenarios file.")
        if not stat.S_ISREG(mode):
            raise InputError(f"{path} is not a regular file (a device, pipe or socket).")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror}.") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{path} is larger than {MAX_BYTES // 1_000_000} MB: not a scenarios file."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text: not a scenarios file.") from None


def _constant(literal: str) -> _NonFinite:
    return _NonFinite(literal)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RefusedError(f"the key '{_shown(key)}' appears twice in one object.")
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
        return "a huge number"
    if isinstance(value, _NonFinite):
        return value.literal
    if isinstance(value, str):
        return f"the text '{_shown(value)}'"
    if isinstance(value, list):
        return f"a list of {len(value)} item" + ("" if len(value) == 1 else "s")
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shown(text: str, limit: int = 40) -> str:
    """Text from the file as a message quotes it: short, one line, no control characters."""
    text = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "…"
