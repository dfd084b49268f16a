"""An in-memory stand-in for the case library's array store (`put` arrays, `get` them back
by reference): result documents round-trip through it without a library on disk."""

from __future__ import annotations

import numpy as np


class MemoryStore:
    """Arrays kept in a dict, keyed by the order they were put."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, np.ndarray]] = {}

    def put(self, arrays: dict) -> str:
        key = str(len(self.items))
        self.items[key] = {k: np.array(v) for k, v in arrays.items()}
        return key

    def get(self, reference: str) -> dict[str, np.ndarray]:
        return self.items[reference]
