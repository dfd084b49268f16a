"""Logging to a rotating file in the user data directory (and stderr for warnings), with no
patient data in it.

Every record passes `PrivacyFilter` before it is written: the names, IDs and birth dates
of patients this process has seen (`protect`, called when DICOM is scanned or loaded and
when a case opens) become "[patient]", file paths outside the application's own code
become "[path]", and DICOM UIDs "[uid]"; tracebacks are scrubbed the same way. Messages
refer to cases by their id.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from meditwin_desktop.core.paths import log_file

_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
_MIN_LENGTH = 2  # two-letter surnames exist (Ng, Li); single letters are not identifying
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"<>:|,;()]+){2,}[\\/]?")
_UID = re.compile(r"(?<![\w.])\d+(?:\.\d+){4,}(?![\w.])")
_CODE = tuple(
    str(Path(p).resolve())
    for p in {sys.prefix, sys.base_prefix, Path(__file__).resolve().parents[2]}
)

_lock = threading.Lock()
_words: set[str] = set()  # protected single words, lower case (a set: fast with many)
_phrases: set[str] = set()  # protected texts with spaces ("Demo newborn with HLHS")
_phrase_pattern: re.Pattern[str] | None = None
_phrases_changed = False
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: "Doe_John" is two words


def protect(*identifiers: str | Iterable[str]) -> None:
    """Never write these texts (a patient's name and its parts, IDs, birth date) to the log."""
    global _phrases_changed
    found = set()
    for item in identifiers:
        for text in [item] if isinstance(item, str) else item:
            text = str(text or "").strip()
            found.add(text)
            found.update(_name_parts(text))
    found = {t.strip() for t in found if len(t.strip()) >= _MIN_LENGTH}
    with _lock:
        for text in found:
            words = _TOKEN.findall(text)
            if len(words) == 1 and words[0] == text:
                _words.add(text.lower())
            elif text.lower() not in _phrases:
                _phrases.add(text.lower())
                _phrases_changed = True


def _name_parts(text: str) -> list[str]:
    """The parts of a person's name: DICOM components ("DOE^JOHN"), "Doe, John", or up to
    three words of letters ("Jane Marie Doe"); a case title such as "Demo newborn with
    HLHS (synthetic)" is protected whole, not word by word."""
    if "^" in text or "," in text:
        return [p for p in re.split(r"[\^,=]+", text) for p in [p, *p.split()] if p.strip()]
    words = text.split()
    return words if len(words) <= 3 and all(w.isalpha() for w in words) else []


def _phrase_regex() -> re.Pattern[str] | None:
    """One pattern of the protected phrases (and IDs with separators), rebuilt only after
    `protect` added one."""
    global _phrase_pattern, _phrases_changed
    with _lock:
        if _phrases_changed:
            texts = sorted(_phrases, key=len, reverse=True)
            _phrase_pattern = re.compile(
                r"(?<![^\W_])(?:" + "|".join(map(re.escape, texts)) + r")(?![^\W_])",
                re.IGNORECASE,
            )
            _phrases_changed = False
        return _phrase_pattern


def _word(match: re.Match[str]) -> str:
    return "[patient]" if match.group(0).lower() in _words else match.group(0)


def scrub(text: str) -> str:
    """`text` without protected identifiers, data paths or UIDs (the application's own
    code paths, in tracebacks, stay as they are)."""
    parts, last = [], 0
    for match in _PATH.finditer(text):
        parts += [_names(text[last : match.start()]), _path_or_code(match)]
        last = match.end()
    parts.append(_names(text[last:]))
    return _UID.sub("[uid]", "".join(parts))


def _names(text: str) -> str:
    phrases = _phrase_regex()
    if phrases is not None:
        text = phrases.sub("[patient]", text)
    return _TOKEN.sub(_word, text) if _words else text


def _path_or_code(match: re.Match[str]) -> str:
    path = match.group(0)
    inside = any(path == code or path.startswith(code + os.sep) for code in _CODE)
    return path if inside else "[path]"


class PrivacyFilter(logging.Filter):
    """Scrubs a record's message and traceback (see `scrub`) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
            record.exc_info = None  # formatted (and scrubbed) already
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def setup_logging(level: int = logging.INFO, path: Path | None = None) -> Path:
    """Send records to the log file (1 MB x 5, rotating, 0600); return its path. Idempotent."""
    path = path or log_file()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "baseFilename", None) == str(path):
            return path
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    for old in path.parent.glob(f"{path.name}*"):  # written by an earlier release: 0644
        os.chmod(old, 0o600)
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    file_handler.addFilter(PrivacyFilter())
    root.addHandler(file_handler)
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        console.addFilter(PrivacyFilter())
        root.addHandler(console)
    return path
