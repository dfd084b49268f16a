"""The reference twin run in parts (the runner's fan-out): each part washes out over its own
duration (1, 2 and 3 h, or the durations in `_durations`), the whole run's `final` is their
sum: 100 (e^-k + e^-2k + e^-3k) at k = rate. With `_fail_part` n, only part n
misbehaves as `behaviour` says (else every part does)."""

from __future__ import annotations

from dataclasses import replace

from meditwin_desktop.core.twin import Result
from tests.support import reference_twin

DURATIONS = (1.0, 2.0, 3.0)


def split(params) -> list[dict]:
    failing = params.get("_fail_part")
    return [
        {**params, "duration": d, "_part": n,
         "behaviour": params["behaviour"] if failing in (None, n) else "normal"}
        for n, d in enumerate(DURATIONS)
    ]  # fmt: skip


def combine(params, inputs, results: list[Result]) -> Result:
    final = sum(r.outcomes["final"] for r in results)
    auc = sum(r.outcomes["auc"] for r in results)
    return Result(outcomes={"final": final, "auc": auc}, warnings=[f"{len(results)} parts"])


TWIN = replace(reference_twin.TWIN, id="reference_split", split=split, combine=combine)
