"""The patient case: imaging reference, image and labels, clinical data, scenarios, runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.twin import Scenario


def now() -> str:
    """UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Run:
    """One simulation of one scenario, with everything needed to reproduce it."""

    twin_id: str
    twin_version: str
    scenario: str
    parameters: dict[str, Any]
    input_hash: str
    status: str  # "ok", "failed" or "cancelled"
    error: str | None
    outcomes: dict[str, float]
    seconds: float
    app_version: str
    user: str
    time: str
    result: Any = None  # core.twin.Result when ok (series and fields)


@dataclass
class Case:
    """Everything the board discusses about one patient."""

    name: str
    patient_id: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    image: Volume | None = None
    labels: LabelMap | None = None
    image_reference: dict[str, Any] = field(default_factory=dict)  # series UID, folder
    clinical: dict[str, Any] = field(default_factory=dict)
    scenarios: dict[str, list[Scenario]] = field(default_factory=dict)  # per twin id
    runs: dict[str, list[Run]] = field(default_factory=dict)  # per twin id
    created: str = field(default_factory=now)
