"""Group a series' frames into stacks and give each stack its geometry.

A stack is a set of parallel frames, one per position, regularly spaced along one line:
exactly what a `Volume` can hold. Frames are grouped by orientation, size, pixel spacing
and acquisition keys (echo, time point, stack id); repeated positions without such keys
are split by acquisition order (e.g. fMRI time points). Order is by position along the
slice normal; spacing comes from the positions. Gantry tilt and irregular spacing are
detected and planned for resampling; frames without geometry are kept in their own stacks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.i18n import number, tr, tr_n
from meditwin_desktop.core.imaging.dicom.frames import Frame

_SAME_ORIENTATION = 1e-3  # max difference of direction cosines within one stack
_SAME_POSITION_MM = 0.01
_REGULAR = 0.01  # relative deviation of a slice step from the median still called regular
_TILT_DEGREES = 0.01


@dataclass
class Resampling:
    """How to turn the decoded stack into a regular, orthogonal grid."""

    distances: np.ndarray  # position of each decoded slice along the normal (mm)
    step: float  # output slice spacing along the normal (mm)
    count: int  # number of output slices
    shear_pixels: np.ndarray  # in-plane shift per slice (columns, rows), from gantry tilt


@dataclass
class Stack:
    """Frames that form one volume, in slice order, with the volume's affine."""

    frames: list[Frame]
    affine: np.ndarray
    warnings: list[str] = field(default_factory=list)
    label: str = ""
    resampling: Resampling | None = None
    partial: bool = False


def _orientation_groups(frames: Sequence[Frame]) -> list[list[Frame]]:
    groups: list[tuple[np.ndarray, tuple, list[Frame]]] = []
    for frame in frames:
        cosines = np.concatenate([frame.row_dir, frame.col_dir])  # type: ignore[list-item]
        key = (
            frame.rows,
            frame.columns,
            round(frame.row_spacing, 4),
            round(frame.column_spacing, 4),
            frame.keys,
        )
        for reference, reference_key, members in groups:
            if key == reference_key and np.max(np.abs(cosines - reference)) < _SAME_ORIENTATION:
                members.append(frame)
                break
        else:
            groups.append((cosines, key, [frame]))
    return [members for _, _, members in groups]


def _split_repeats(frames: list[Frame]) -> list[list[Frame]]:
    """Frames at repeated positions -> one list per repetition (by acquisition order)."""
    normal = frames[0].normal
    frames = sorted(
        frames, key=lambda f: (round(float(normal @ f.position) / _SAME_POSITION_MM), f.order)
    )
    positions: dict[int, list[Frame]] = defaultdict(list)
    for frame in frames:
        positions[round(float(normal @ frame.position) / _SAME_POSITION_MM)].append(frame)
    counts = {len(v) for v in positions.values()}
    if len(counts) == 1:
        repeats = counts.pop()
        if repeats == 1:
            return [frames]
        return [[group[t] for group in positions.values()] for t in range(repeats)]
    raise DicomError(
        tr(
            "This series repeats slice positions unevenly ({low} to {high} images per "
            "position), so they do not form complete volumes; it cannot be assembled safely. "
            "Check whether the export is complete."
        ).format(low=min(counts), high=max(counts))
    )


def _geometry(frames: list[Frame], label: str) -> Stack:
    first = frames[0]
    normal = first.normal
    distances = np.array([float(normal @ f.position) for f in frames])
    i_col = first.row_dir * first.column_spacing
    j_row = first.col_dir * first.row_spacing
    stack = Stack(frames, np.eye(4), label=label)
    if len(frames) == 1:
        thickness = first.thickness or 1.0
        if not first.thickness:
            stack.warnings.append(tr("Single image without slice thickness: 1 mm assumed."))
        k_vector = normal * thickness
    else:
        steps = np.diff(distances)
        step = float(np.median(steps))
        along = (frames[-1].position - first.position) / (len(frames) - 1)
        expected = first.position + np.outer(distances - distances[0], along / (along @ normal))
        offsets = np.array([f.position for f in frames]) - expected
        if np.max(np.linalg.norm(offsets, axis=1)) > max(0.05 * step, 0.05):
            raise DicomError(
                tr(
                    "The slices of this series are not aligned on one line (their positions "
                    "wander sideways); it cannot be assembled into one volume."
                )
            )
        per_mm = along / (along @ normal)  # in-plane drift per mm along the normal
        tilt = float(np.degrees(np.arccos(min(1.0, 1.0 / np.linalg.norm(per_mm)))))
        irregular = bool(np.any(np.abs(steps - step) > max(_REGULAR * step, 0.01)))
        k_vector = normal * step
        if tilt > _TILT_DEGREES or irregular:
            shear = per_mm * step - normal * step  # in-plane shift per output slice
            shear_pixels = np.array(
                [
                    shear @ first.row_dir / first.column_spacing,
                    shear @ first.col_dir / first.row_spacing,
                ]
            )
            count = round((distances[-1] - distances[0]) / step) + 1
            stack.resampling = Resampling(distances - distances[0], step, count, shear_pixels)
        if tilt > _TILT_DEGREES:
            stack.warnings.append(
                tr(
                    "Gantry tilt of {tilt} degrees: the slices were resampled onto a grid "
                    "perpendicular to them (as dcm2niix and 3D Slicer do)."
                ).format(tilt=number(tilt, 2))
            )
        if irregular:
            gaps = int(np.sum(np.round(steps / step) - 1))
            text = tr(
                "Irregular slice spacing ({low} to {high} mm): resampled to {step} mm by "
                "linear interpolation."
            ).format(low=number(steps.min(), 3), high=number(steps.max(), 3), step=number(step, 3))
            if gaps > 0:
                stack.partial = True
                where = distances[:-1][steps > 1.5 * step]
                text = tr_n(
                    "Partial series: about {n} slice(s) missing (gap after {where} mm along the "
                    "normal); {detail}",
                    "Partial series: about {n} slice(s) missing (gap after {where} mm along the "
                    "normal); {detail}",
                    gaps,
                ).format(n=gaps, where=", ".join(number(w, 1) for w in where[:5]), detail=text)
            stack.warnings.append(text)
    stack.affine[:3, 0], stack.affine[:3, 1], stack.affine[:3, 2] = i_col, j_row, k_vector
    stack.affine[:3, 3] = first.position
    return stack


def _without_geometry(frames: list[Frame]) -> list[Stack]:
    by_source: dict[tuple, list[Frame]] = defaultdict(list)
    for frame in frames:
        # frames of one multi-frame file stay together; single images stay single
        key = (
            (frame.path, frame.rows, frame.columns)
            if frame.index is not None
            else (frame.path, frame.order)
        )
        by_source[key].append(frame)
    stacks = []
    for members in by_source.values():
        members.sort(key=lambda f: f.order)
        first = members[0]
        affine = np.diag([first.column_spacing, first.row_spacing, first.thickness or 1.0, 1.0])
        text = tr(
            "No patient position or orientation in the file: shown in image coordinates; "
            "directions and distances between slices are unknown."
        )
        if first.meta.get("no_spacing"):
            text += " " + tr("No pixel spacing either: 1 mm pixels assumed, do not measure.")
        stacks.append(Stack(members, affine, [text]))
    return stacks


def _name_by_keys(stacks: list[Stack]) -> None:
    """Label stacks by the acquisition keys that tell them apart (e.g. 'echo 2').

    Classic and enhanced (multi-frame) images of one series carry different keys: each
    family is labelled within itself, and by its kind when both are present.
    """
    families: dict[tuple[str, ...], list[Stack]] = defaultdict(list)
    for stack in stacks:
        if stack.frames[0].has_geometry:
            families[tuple(name for name, _ in stack.frames[0].keys)].append(stack)
    for members in families.values():
        keys = [dict(s.frames[0].keys) for s in members]
        varying = [name for name in keys[0] if len({k[name] for k in keys}) > 1]
        for stack, values in zip(members, keys, strict=True):
            parts = [f"{name} {values[name]}" for name in varying if values[name] not in ("", None)]
            if len(families) > 1:
                parts.insert(0, _kind(stack))
            if parts:
                text = ", ".join(parts)
                stack.label = f"{text}, {stack.label}" if stack.label else text


def _kind(stack: Stack) -> str:
    """'multi-frame' for the frames of one file, 'single-frame' for one file per image."""
    return tr("multi-frame") if stack.frames[0].index is not None else tr("single-frame")


def plan_stacks(frames: Sequence[Frame]) -> tuple[list[Stack], list[str]]:
    """Stacks of a series (largest first) and warnings about frames that fit none."""
    placed = [f for f in frames if f.has_geometry]
    unplaced = [f for f in frames if not f.has_geometry]
    warnings: list[str] = []
    stacks: list[Stack] = []
    groups = _orientation_groups(placed)
    for group in groups:
        try:
            repeats = _split_repeats(group)
        except DicomError as error:
            warnings.append(str(error))
            continue
        for t, members in enumerate(repeats):
            label = (
                tr("volume {n} of {total}").format(n=t + 1, total=len(repeats))
                if len(repeats) > 1
                else ""
            )
            try:
                stacks.append(_geometry(members, label))
            except DicomError as error:
                warnings.append(str(error))
    if unplaced and placed:
        warnings.append(
            tr_n(
                "{n} image(s) without position were set apart.",
                "{n} image(s) without position were set apart.",
                len(unplaced),
            ).format(n=len(unplaced))
        )
    stacks.extend(_without_geometry(unplaced))
    _name_by_keys(stacks)
    if not stacks:
        raise DicomError(" ".join(warnings) or tr("No image of this series could be placed."))
    stacks.sort(key=lambda s: -len(s.frames) * s.frames[0].rows * s.frames[0].columns)
    return stacks, warnings
