"""A run names what its applicator's path crosses and says that its zone size is not
calibrated to the device, on a small synthetic liver (a few seconds)."""

from __future__ import annotations

import numpy as np

from .. import TWIN
from ..tissue import LIVER, TUMOUR

NAMES = {1: "body", 2: "liver", 3: "tumour 1", 4: "rib cage"}


def _inputs(rib: bool) -> dict:
    labels = np.full((40, 40, 40), 2, np.uint8)  # 2 mm voxels: an 80 mm block of liver
    k, j, i = np.indices(labels.shape)
    labels[(i - 20) ** 2 + (j - 20) ** 2 + (k - 20) ** 2 <= 9] = 3  # tumour r = 6 mm
    if rib:
        labels[:, :, 4:6] = 4  # a plate at L -33 to -29 mm (voxels i = 4, 5)
    codes = np.select([labels == 2, labels == 3], [LIVER, TUMOUR], 3).astype(np.uint8)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = -40.0
    return {"codes": codes, "affine": affine, "tumours": ["tumour 1"], "tumour_code": TUMOUR,
            "labels": labels, "label_names": NAMES}  # fmt: skip


def _run(rib: bool, **overrides):
    params = TWIN.parameters_for(
        {"target_lps_mm": (0.0, 0.0, 0.0), "entry_lps_mm": (-38.0, 0.0, 0.0)},
        {"grid_mm": 3.0, "region_mm": 45.0, "time_s": 60.0, "cool_down_s": 0.0, **overrides},
    )
    return TWIN.simulate(params, _inputs(rib), lambda *a: None, lambda: False)


def test_the_path_through_a_rib_is_named_with_its_distance_from_the_entry():
    warnings = _run(rib=True).warnings
    crossing = [w for w in warnings if "crosses the rib cage" in w]
    assert len(crossing) == 1
    assert "5 mm from the entry (bone, over 4 mm)" in crossing[0]  # entry at L -38
    assert not [w for w in _run(rib=False).warnings if "crosses" in w]


def test_zone_sizes_say_they_are_not_calibrated_to_the_device():
    result = _run(rib=False, modality="rf")
    note = result.notes["ablation_short_axis_mm"]
    assert note.startswith("uncalibrated: zone size not fitted to this device's chart")
    assert "radiofrequency" in note
    assert any(w.startswith("Zone size uncalibrated") for w in result.warnings)
    param = TWIN.parameter("modality")
    assert param.label == "Device (zone chart)"
    assert param.choice_label("microwave") == "generic 2.45 GHz microwave antenna"
