"""What may leave this computer for a Dask cluster: where a scheduler is, and whether a
run's inputs identify its patient.

A run sent to a cluster ships the twin's prepared inputs and its parameters (numbers,
arrays, codes) to the cluster's workers. To a scheduler on this computer (none given, a
`LocalCluster`, loopback, inproc://) anything may go. To any other, inputs that name the
patient are refused unless the user allowed it (`--allow-identifiable`):

- a text holding one of the patient's identifiers: name (and its parts), patient ID, case
  id, DICOM names and IDs (`core.pseudonym.identifiers`), birth date (in its usual
  spellings); the case's own ones (`case_identifiers`) and those of every patient this
  process has seen (`core.logs.protect`: cases opened, DICOM read);
- any non-empty value under a key starting with `shown_`: text prepared for the reader
  (a diary's notes), free text that may name anyone.

Only where such values are is reported (key paths), never the values themselves.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from meditwin_desktop.core import logs
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.errors import IdentifiableDataError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pseudonym import Redactor, identifiers
from meditwin_desktop.core.runner import SHOWN_PREFIX

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_SEPARATORS = re.compile(r"[\\/]")  # a path's parts are checked one by one
_MAX_SHOWN = 6  # key paths named in a refusal


def is_local_address(address: str | None) -> bool:
    """Whether a scheduler at `address` runs on this computer: None or "" (a LocalCluster
    started here), "local", inproc://, a loopback IP (127.x.x.x, ::1) or localhost. Any
    other host, this computer's own network name included, counts as remote."""
    if address is None or not str(address).strip():
        return True
    text = str(address).strip().lower()
    if text == "local" or text.startswith("inproc://"):
        return True
    host = text.split("://", 1)[-1]
    if host.startswith("["):  # [::1]:8786
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:  # host:port
        host = host.split(":", 1)[0]
    host = host.split("/", 1)[0]
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def birth_date_spellings(text: str) -> list[str]:
    """A birth date ("1961-03-02" or DICOM "19610302") as it may be written in a text:
    ISO, DICOM, day/month/year with slashes, dots or dashes, and month/day/year."""
    found = _ISO_DATE.fullmatch(str(text or "").strip())
    if found is None:
        return [str(text).strip()] if str(text or "").strip() else []
    year, month, day = found.groups()
    return [f"{year}-{month}-{day}", f"{year}{month}{day}", f"{day}/{month}/{year}",
            f"{day}.{month}.{year}", f"{day}-{month}-{year}", f"{month}/{day}/{year}"]  # fmt: skip


def case_identifiers(case: Case) -> list[str]:
    """The texts that identify `case`'s patient: those of `core.pseudonym.identifiers`
    (name and its parts, IDs, case id, DICOM names) and the birth date in every spelling
    (the clinical form's, the study's, the image header's)."""
    found = list(identifiers(case))
    births = [str(case.clinical.get("birth_date") or "")]
    births += [str(study.reference.get("birth_date", "")) for study in case.studies]
    if case.image is not None:
        births.append(str(getattr(case.image, "meta", {}).get("patient_birth_date", "")))
    for birth in filter(None, births):
        found += birth_date_spellings(birth)
    return [text for text in dict.fromkeys(found) if text]


def protect_case(case: Case) -> None:
    """Register `case`'s identifiers process-wide (`core.logs.protect`): they never reach
    the log, and inputs holding them are never sent to a remote cluster unasked. Call it
    for every case whose runs may go to a cluster (opening a case registers name and ID,
    not the birth date typed in the clinical form)."""
    logs.protect(case_identifiers(case))


def identifiable_values(value: Any, identifiers_: Iterable[str] = ()) -> list[str]:
    """Where in `value` (a twin's inputs or parameters: mappings, sequences, arrays,
    dataclasses) the patient could be identified: key paths such as "shown_notes" or
    "medications[1].note" (no value itself). See the module's rules."""
    explicit = Redactor(identifiers_, "")
    found: list[str] = []

    def identifying(text: str) -> bool:
        if explicit.mentions(text):
            return True
        # the identifiers of every patient this process has seen; a path part by part (a
        # path is not identifying as such, a folder named after the patient is)
        return any(
            logs.scrub(piece).count("[patient]") > piece.count("[patient]")
            for piece in _SEPARATORS.split(text)
            if piece
        )

    def walk(item: Any, where: str, depth: int) -> None:
        if depth > 32:
            return
        if isinstance(item, str):
            if identifying(item):
                found.append(where or "(value)")
        elif isinstance(item, bytes):
            walk(item.decode("utf-8", "replace"), where, depth + 1)
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                path = f"{where}.{key}" if where else str(key)
                shown = str(key).startswith(SHOWN_PREFIX) and _non_empty(sub)
                if shown or (isinstance(key, str) and identifying(key)):
                    found.append(path)
                else:
                    walk(sub, path, depth + 1)
        elif isinstance(item, (list, tuple, set, frozenset)):
            for n, sub in enumerate(item):
                walk(sub, f"{where}[{n}]", depth + 1)
        elif isinstance(item, np.ndarray):
            if item.dtype.kind in "USO":
                for n, sub in enumerate(item.ravel().tolist()):
                    walk(sub, f"{where}[{n}]", depth + 1)
                    if len(found) > _MAX_SHOWN:
                        return
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            for entry in dataclasses.fields(item):
                walk(getattr(item, entry.name), f"{where}.{entry.name}", depth + 1)

    walk(value, "", 0)
    return list(dict.fromkeys(found))


def _non_empty(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.size > 0
    if isinstance(value, (str, bytes, Mapping, list, tuple, set, frozenset)):
        return len(value) > 0
    return value is not None


def check_shippable(
    inputs: Mapping[str, Any],
    params: Mapping[str, Any],
    address: str,
    identifiers_: Iterable[str] = (),
) -> None:
    """IdentifiableDataError when the inputs or parameters of a run identify its patient
    (see `identifiable_values`); the message names where, never what."""
    places = identifiable_values(inputs, identifiers_)
    places += [f"parameter {p}" for p in identifiable_values(params, identifiers_)]
    if not places:
        return
    where = ", ".join(places[:_MAX_SHOWN]) + (", …" if len(places) > _MAX_SHOWN else "")
    raise IdentifiableDataError(
        tr(
            "This run's data identify the patient ({where}) and would leave this computer "
            "for the cluster at {address}. Run it on this computer (no scheduler), or, if "
            "that cluster may receive identifiable data, allow it (--allow-identifiable)."
        ).format(where=where, address=address)
    )
