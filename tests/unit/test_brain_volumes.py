"""Hippocampal and intracranial volumes: from a synthetic label map (known voxel counts), from
FreeSurfer's aseg.stats (values equal to the file's) and aseg.mgz (written with nibabel, read
back), and clear errors for files that are not FreeSurfer outputs.

Test files: tests/data/freesurfer/ (its README says where their layout comes from).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from meditwin_desktop.core.brain_volumes import (
    HIPPOCAMPAL_VOLUME,
    HIPPOCAMPUS_RATIO,
    INTRACRANIAL_VOLUME,
    MGZ_ICV_NOTE,
    BrainVolumes,
    brain_measurements,
    from_labels,
    plausibility_notes,
    read_aseg,
    read_aseg_stats,
    read_aseg_volume,
    same_slot,
)
from meditwin_desktop.core.case import Case, Measurement, Study
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume

DATA = Path(__file__).parents[1] / "data" / "freesurfer"
SPACING = (0.9, 1.1, 1.3)  # i, j, k (mm): voxel 1.287 mm3


def _study(names: dict[int, str], blocks: dict[int, tuple[slice, ...]], date="2024-03-12"):
    array = np.zeros((40, 40, 40), np.uint8)
    for value, box in blocks.items():
        array[box] = value
    affine = np.diag([*SPACING, 1.0])
    labels = LabelMap(
        Volume(array, affine), {v: Label(v, n, (255, 0, 0)) for v, n in names.items()}
    )
    return Study(date=date, modality="MR", labels=labels)


LEFT_BOX = (slice(2, 14), slice(3, 18), slice(4, 20))  # 12 * 15 * 16 = 2880 voxels
RIGHT_BOX = (slice(20, 33), slice(3, 18), slice(4, 20))  # 13 * 15 * 16 = 3120 voxels
VOXEL_ML = 0.9 * 1.1 * 1.3 / 1000


def test_label_volumes_are_voxel_counts_times_voxel_volume():
    icv_box = (slice(0, 40), slice(0, 40), slice(20, 40))  # 40 * 40 * 20 = 32000, disjoint
    study = _study(
        {1: "Left-Hippocampus", 2: "hippocampus right", 3: "Intracranial volume"},
        {1: LEFT_BOX, 2: RIGHT_BOX, 3: icv_box},
    )
    volumes = from_labels(Case("t", studies=[study]))  # a case: its active study
    assert volumes.left_ml == pytest.approx(2880 * VOXEL_ML, rel=1e-12)
    assert volumes.right_ml == pytest.approx(3120 * VOXEL_ML, rel=1e-12)
    assert volumes.hippocampus_ml == pytest.approx(6000 * VOXEL_ML, rel=1e-12)
    assert volumes.icv_ml == pytest.approx(32000 * VOXEL_ML, rel=1e-12)
    assert volumes.ratio == pytest.approx(6000 / 32000, rel=1e-12)
    assert volumes.source == "labels of study 2024-03-12" and volumes.date == "2024-03-12"
    # 41 mL of ICV is no adult head: said in a note, not refused
    assert any("intracranial volume is 41.18 mL" in n for n in volumes.notes)
    rows = {(m.name, m.target): m for m in brain_measurements(volumes)}
    assert set(rows) == {
        (HIPPOCAMPAL_VOLUME, "left"),
        (HIPPOCAMPAL_VOLUME, "right"),
        (HIPPOCAMPAL_VOLUME, ""),
        (INTRACRANIAL_VOLUME, ""),
        (HIPPOCAMPUS_RATIO, ""),
    }
    assert rows[HIPPOCAMPAL_VOLUME, "left"].value == round(2880 * VOXEL_ML, 4)
    assert rows[HIPPOCAMPAL_VOLUME, "left"].unit == "mL"
    assert rows[HIPPOCAMPUS_RATIO, ""].unit == "fraction"
    assert rows[HIPPOCAMPUS_RATIO, ""].value == pytest.approx(0.1875, rel=1e-6)
    assert {m.date for m in rows.values()} == {"2024-03-12"}
    assert {m.source for m in rows.values()} == {"labels of study 2024-03-12"}


def test_one_label_for_both_sides_and_a_brain_mask():
    both = (slice(2, 33), slice(3, 18), slice(4, 20))  # 31 * 15 * 16 = 7440 voxels
    mask = (slice(0, 40), slice(20, 40), slice(0, 40))  # 40 * 20 * 40 = 32000
    volumes = from_labels(_study({4: "hippocampus", 9: "brain mask"}, {4: both, 9: mask}))
    assert volumes.left_ml is None and volumes.right_ml is None
    assert volumes.hippocampus_ml == pytest.approx(7440 * VOXEL_ML, rel=1e-12)
    assert volumes.icv_ml == pytest.approx(32000 * VOXEL_ML, rel=1e-12)
    assert any("underestimates the intracranial volume" in n for n in volumes.notes)
    assert [m.target for m in brain_measurements(volumes) if m.name == HIPPOCAMPAL_VOLUME] == [""]


def test_without_intracranial_label_no_ratio_and_one_side_no_total():
    volumes = from_labels(_study({1: "left hippocampus"}, {1: LEFT_BOX}))
    assert volumes.left_ml == pytest.approx(2880 * VOXEL_ML) and volumes.right_ml is None
    assert volumes.hippocampus_ml is None and volumes.icv_ml is None and volumes.ratio is None
    assert any("No intracranial label" in n for n in volumes.notes)
    assert any("draw the right hippocampus" in n for n in volumes.notes)
    names = {(m.name, m.target) for m in brain_measurements(volumes)}
    assert names == {(HIPPOCAMPAL_VOLUME, "left")}


def test_missing_or_empty_hippocampus_label_names_what_to_draw():
    with pytest.raises(InputError, match=r"labels: 'liver', 'Tumour 1'.*left hippocampus"):
        from_labels(_study({1: "liver", 2: "Tumour 1"}, {1: LEFT_BOX}))
    with pytest.raises(InputError, match="'right hippocampus' is empty"):
        from_labels(_study({1: "left hippocampus", 2: "right hippocampus"}, {1: LEFT_BOX}))
    with pytest.raises(InputError, match="no labels"):
        from_labels(Study(date="2024-01-01"))
    with pytest.raises(InputError, match="no imaging study"):
        from_labels(Case("empty"))
    with pytest.raises(InputError, match="Several labels name the left hippocampus"):
        from_labels(
            _study({1: "left hippocampus", 2: "Left-Hippocampus"}, {1: LEFT_BOX, 2: RIGHT_BOX})
        )


def test_aseg_stats_values_equal_the_files():
    volumes = read_aseg_stats(DATA / "aseg.stats", "2024-03-12")
    # tests/data/freesurfer/aseg.stats: Volume_mm3 of Left-/Right-Hippocampus, eTIV (mm^3)
    assert volumes.left_ml == 3561.2 / 1000 and volumes.right_ml == 3702.8 / 1000
    assert volumes.hippocampus_ml == 3561.2 / 1000 + 3702.8 / 1000
    assert volumes.icv_ml == 1523456.789012 / 1000
    assert volumes.notes == ()  # plausible adult values, nothing to say
    assert volumes.source == "FreeSurfer aseg.stats" and volumes.date == "2024-03-12"
    rows = {(m.name, m.target): m.value for m in brain_measurements(volumes)}
    assert rows[HIPPOCAMPUS_RATIO, ""] == pytest.approx(7264.0 / 1523456.789012, rel=1e-6)
    assert rows[INTRACRANIAL_VOLUME, ""] == 1523.4568


def test_aseg_stats_columns_by_name_not_position(tmp_path):
    # FastSurfer's layout, columns reordered and no eTIV line: names decide, the ratio is absent
    text = (
        "# Title Segmentation Statistics\n"
        "# generating_program segstats.py\n"
        "# ColHeaders StructName Index Volume_mm3 SegId NVoxels\n"
        "Left-Hippocampus 1 3333.3 17 3333\n"
        "Right-Hippocampus 2 3444.4 53 3444\n"
    )
    path = tmp_path / "aseg+DKT.stats"
    path.write_text(text)
    volumes = read_aseg(path)
    assert (volumes.left_ml, volumes.right_ml) == (3333.3 / 1000, 3444.4 / 1000)
    assert volumes.icv_ml is None and volumes.ratio is None
    assert any("no EstimatedTotalIntraCranialVol" in n for n in volumes.notes)
    # FastSurfer's eTIV line (FastSurferCNN/utils/brainvolstats.py, fmt_measure: 12 decimals)
    etiv = "# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial Volume, "
    path.write_text(etiv + "1398765.432109876543, mm^3\n" + text)
    volumes = read_aseg(path)
    assert volumes.icv_ml == 1398765.432109876543 / 1000 and volumes.notes == ()


def test_aseg_mgz_read_back(tmp_path):
    volumes = read_aseg(DATA / "aseg.mgz", "2023-05-02")
    zooms = nib.load(DATA / "aseg.mgz").header.get_zooms()
    voxel_ml = float(np.prod(np.asarray(zooms, float))) / 1000
    assert volumes.left_ml == pytest.approx(36 * 1.8e-3, rel=1e-6)
    assert volumes.left_ml == 36 * voxel_ml and volumes.right_ml == 45 * voxel_ml
    assert volumes.icv_ml is None and MGZ_ICV_NOTE in volumes.notes
    assert any("left hippocampus is 0.0648 mL" in n for n in volumes.notes)  # a toy volume
    assert volumes.source == "FreeSurfer aseg.mgz"
    # a realistic one, as NIfTI: 3600 and 3900 voxels of 1 mm3
    array = np.zeros((40, 40, 40), np.int16)
    array[2:17, 2:17, 2:18] = 17
    array[20:35, 2:28, 2:12] = 53
    nib.save(nib.Nifti1Image(array, np.eye(4)), tmp_path / "aseg.nii.gz")
    volumes = read_aseg_volume(tmp_path / "aseg.nii.gz")
    assert (volumes.left_ml, volumes.right_ml) == (3.6, 3.9)
    assert volumes.notes == (MGZ_ICV_NOTE,)


def test_bad_files_raise_input_error(tmp_path):
    aparc = tmp_path / "lh.aparc.stats"
    aparc.write_text(
        "# Measure Cortex, NumVert, Number of Vertices, 120000, unitless\n"
        "# ColHeaders StructName NumVert SurfArea GrayVol ThickAvg\n"
        "bankssts 1000 700 2000 2.5\n"
    )
    with pytest.raises(InputError, match=r"not an aseg\.stats"):
        read_aseg_stats(aparc)
    no_hippocampus = tmp_path / "wmparc.stats"
    no_hippocampus.write_text("# ColHeaders Index SegId StructName Volume_mm3\n1 4 CSF 900.0\n")
    with pytest.raises(InputError, match="no Left-Hippocampus and no Right-Hippocampus row"):
        read_aseg_stats(no_hippocampus)
    with pytest.raises(InputError, match="binary"):
        fake = tmp_path / "aseg.stats.gz"
        fake.write_bytes(b"\x1f\x8b\x08\x00\x00\x00")
        read_aseg_stats(fake)
    with pytest.raises(InputError, match="cannot be read as an MGZ or NIfTI"):
        broken = tmp_path / "aseg.mgz"
        broken.write_bytes(b"not a volume at all")
        read_aseg_volume(broken)
    t1 = np.random.default_rng(0).normal(100, 20, (8, 8, 8)).astype(np.float32)
    nib.save(nib.Nifti1Image(t1, np.eye(4)), tmp_path / "T1.nii.gz")
    with pytest.raises(InputError, match="holds intensities, not labels"):
        read_aseg_volume(tmp_path / "T1.nii.gz")
    nib.save(nib.Nifti1Image(np.full((4, 4, 4), 2, np.uint8), np.eye(4)), tmp_path / "wm.nii")
    with pytest.raises(InputError, match="no voxel of label 17"):
        read_aseg_volume(tmp_path / "wm.nii")
    with pytest.raises(InputError, match="neither a FreeSurfer stats file"):
        read_aseg(tmp_path / "aseg.csv")
    with pytest.raises(InputError, match="Cannot read"):
        read_aseg_stats(tmp_path / "missing.stats")


def test_units_mistake_is_a_note_not_a_refusal():
    volumes = BrainVolumes(3561.2, 3702.8, 7264.0, 1523456.8, "typed")  # mm3 typed as mL
    notes = plausibility_notes(volumes)
    assert len(notes) == 3 and all("mm³ taken for mL" in n for n in notes)


def test_same_slot_matches_name_target_and_day():
    a = Measurement("Hippocampal volume", 3.5, "mL", "2024-03-12", "left")
    assert same_slot(a, Measurement("hippocampal volume", 3.4, "mL", "2024-03-12T10:00", "Left"))
    assert not same_slot(a, Measurement("Hippocampal volume", 3.4, "mL", "2024-03-12", "right"))
    assert not same_slot(a, Measurement("Hippocampal volume", 3.4, "mL", "2025-03-12", "left"))


@pytest.mark.parametrize(
    ("left", "right"),
    [("hippocampus left", "Hippocampus_R"), ("LH hippocampus", "right-hippocampus")],
)
def test_side_names_as_people_write_them(left, right):
    volumes = from_labels(_study({1: left, 2: right}, {1: LEFT_BOX, 2: RIGHT_BOX}))
    assert volumes.left_ml == pytest.approx(2880 * VOXEL_ML)
    assert volumes.right_ml == pytest.approx(3120 * VOXEL_ML)


def test_a_hippocampal_fissure_is_not_the_hippocampus():
    with pytest.raises(InputError, match="No hippocampus label"):
        from_labels(_study({1: "hippocampal fissure"}, {1: LEFT_BOX}))
