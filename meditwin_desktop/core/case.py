"""The patient case: imaging reference, image and labels, clinical data, scenarios, runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.twin import Scenario

UNREADABLE = "unreadable"  # a stored run whose result file is damaged


def now() -> str:
    """UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Run:
    """One simulation of one scenario, with everything needed to reproduce it.

    `input_hash` is the digest of the twin's prepared inputs (`core.runner.input_hash`)
    and `parameters` the validated values it ran with: together with the twin version
    they tell whether the run still matches the case (`core.freshness`).
    """

    twin_id: str
    twin_version: str
    scenario: str
    parameters: dict[str, Any]
    input_hash: str
    status: str  # "ok", "failed", "cancelled" (or "unreadable" when loaded damaged)
    error: str | None
    outcomes: dict[str, float | None]
    seconds: float
    app_version: str
    user: str
    time: str
    result: Any = None  # core.twin.Result when ok (series and fields)
    stored: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # `stored`: the library's entry of an unreadable run, written back as it was (a damaged
    # file may be a passing read error: saving must not drop the reference)


@dataclass
class Case:
    """Everything the board discusses about one patient.

    `revision` is the library revision this object was loaded from or last saved as (0:
    never saved); `problems` lists what could not be read back (a damaged array file);
    `unreadable` keeps the library's entries of those parts so that saving keeps them.
    """

    name: str
    patient_id: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    image: Volume | None = None
    labels: LabelMap | None = None
    image_reference: dict[str, Any] = field(default_factory=dict)  # study/series UID, folder
    clinical: dict[str, Any] = field(default_factory=dict)
    scenarios: dict[str, list[Scenario]] = field(default_factory=dict)  # per twin id
    runs: dict[str, list[Run]] = field(default_factory=dict)  # per twin id
    created: str = field(default_factory=now)
    revision: int = 0
    problems: list[str] = field(default_factory=list)
    unreadable: dict[str, Any] = field(default_factory=dict)
