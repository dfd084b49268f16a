"""Measurements and key outcomes as a Comprehensive 3D SR (TID 1500, highdicom).

The report holds, for one study of the case:

- each ruler made on it: a length in mm, inferred from its two ends (SCOORD3D polyline in
  the source's frame of reference); each ROI: a planar region (SCOORD3D polygon) with the
  mean, standard deviation, minimum and maximum of the image inside and its area;
- per twin and scenario (a measurement group named "<twin title>: <scenario>"): the key
  outcomes of the scenario's last successful run as numbers with UCUM units, concepts in
  the private scheme 99MEDITWIN (`dicom_out.codes`); the twin's id and version, the run's
  time, its inputs' digest and the application version in the group's algorithm
  identification.

Trust: a run computed from other data than the case now holds is *kept and marked*: its
group's name starts with "OUT OF DATE", it carries the qualitative evaluation
"Result currency = Out of date" (up-to-date runs carry "Up to date") and the reason as an
algorithm parameter. An outcome the model left undefined (None, not finite) is never
written as a number: it is a qualitative evaluation whose value is the code UNDEFINED,
meaning why ("never", the model's note). Categorical outcomes (RECIST) are coded values;
positions (a VT isthmus) are not written (they are in the report PDF).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from meditwin_desktop.core.case import Case, Run, Study
from meditwin_desktop.core.dicom_out.codes import (
    OUT_OF_DATE,
    RESULT_CURRENCY,
    SCHEME,
    SCHEME_ITEM,
    UP_TO_DATE,
    category_code,
    outcome_code,
    ucum,
    undefined_code,
)
from meditwin_desktop.core.dicom_out.common import (
    MANUFACTURER,
    MODEL,
    SOFTWARE,
    keep_deidentification,
)
from meditwin_desktop.core.segmentation.measurements import ImageMeasurement
from meditwin_desktop.core.twin import Outcome, Twin

SERIES_NUMBER = 901
STALE_PREFIX = "OUT OF DATE"
DEVICE_UID = "2.25.170331752735213488389049366347757271861"  # MEDITWIN Desktop as observer
_ROI_VALUES = (
    ("mean", codes.SCT.Mean), ("std", codes.SCT.StandardDeviation),
    ("min", codes.SCT.Minimum), ("max", codes.SCT.Maximum),
)  # fmt: skip


def latest_runs(runs: Sequence[Run]) -> list[Run]:
    """The last successful run of each scenario, in the order of first appearance."""
    last: dict[str, Run] = {}
    for run in runs:
        if run.status == "ok":
            last[run.scenario] = run
    return list(last.values())


def sr_object(
    case: Case,
    study: Study,
    sources: Sequence[Dataset],
    outcomes: Sequence[tuple[Twin, Sequence[Run], Mapping[str, str]]] = (),
) -> Dataset | None:
    """The SR of the study's image measurements and of `outcomes` (per twin: its runs and
    scenario -> why out of date); None when there is nothing to report."""
    frame = str(sources[0].get("FrameOfReferenceUID", "")) if sources else ""
    groups: list = []
    for measurement in case.image_measurements:
        if measurement.study == study.id:
            group = _measurement_group(measurement, frame)
            if group is not None:
                groups.append(group)
    for twin, runs, stale in outcomes:
        for run in latest_runs(runs):
            groups.append(_outcome_group(twin, run, stale.get(run.scenario)))
    if not groups:
        return None
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=DEVICE_UID, name=MODEL, manufacturer_name=MANUFACTURER, model_name=MODEL
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=groups,
        title=codes.DCM.ImagingMeasurementReport,
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=list(sources),
        content=report,
        series_instance_uid=generate_uid(),
        series_number=SERIES_NUMBER,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL,
        software_versions=SOFTWARE,
        series_description="MEDITWIN measurements and outcomes",
        is_complete=True,
        coding_schemes=[SCHEME_ITEM],
        specific_character_set="ISO_IR 192",
    )
    keep_deidentification(sources[0], sr)
    return sr


def _tracking(name: str) -> hd.sr.TrackingIdentifier:
    return hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=name)


def _measurement_group(m: ImageMeasurement, frame: str):
    """A ruler (length, inferred from its ends) or an ROI (a planar region and its values);
    None for an ROI with no pixels inside."""
    points = np.asarray(m.points, float)
    if m.kind == "ruler":
        line = hd.sr.GraphicTypeValues3D.POLYLINE
        where = [hd.sr.CoordinatesForMeasurement3D(line, points, frame)] if frame else None
        length = hd.sr.Measurement(
            name=codes.SCT.Length,
            value=float(m.values.get("length_mm", np.linalg.norm(points[1] - points[0]))),
            unit=ucum("mm"),
            referenced_coordinates=where,
        )
        return hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(m.name), measurements=[length]
        )
    if not m.values.get("pixels"):
        return None
    quantity = (
        codes.DCM.AttenuationCoefficient
        if m.unit == "HU"
        else hd.sr.CodedConcept("IMAGEVALUE", SCHEME, "Image value")
    )
    values = [
        hd.sr.Measurement(name=quantity, derivation=code, value=m.values[key], unit=ucum(m.unit))
        for key, code in _ROI_VALUES
        if key in m.values
    ]
    if "area_mm2" in m.values:
        values.append(hd.sr.Measurement(name=codes.SCT.Area, value=m.values["area_mm2"],
                                        unit=ucum("mm2")))  # fmt: skip
    if not frame:
        return hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(m.name), measurements=values
        )
    region = hd.sr.ImageRegion3D(hd.sr.GraphicTypeValues3D.POLYGON, _rectangle(points), frame)
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(m.name), referenced_region=region, measurements=values
    )


def _rectangle(corners: np.ndarray) -> np.ndarray:
    """The closed polygon of a rectangle in a patient plane from two opposite corners."""
    a, b = corners
    normal = int(np.argmin(np.abs(b - a)))
    u, v = [axis for axis in range(3) if axis != normal]
    second, fourth = a.copy(), a.copy()
    second[u], fourth[v] = b[u], b[v]
    return np.array([a, second, b, fourth, a])


def _defined(value) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value)


def _outcome_group(twin: Twin, run: Run, stale: str | None):
    """One scenario's key outcomes, marked up to date or out of date."""
    name = f"{twin.title}: {run.scenario}"
    evaluations = [hd.sr.QualitativeEvaluation(RESULT_CURRENCY,
                                               OUT_OF_DATE if stale else UP_TO_DATE)]  # fmt: skip
    measurements = []
    notes = getattr(run.result, "notes", None) or {}
    spread = getattr(run.result, "spread", None) or {}
    extra: list[str] = []
    for outcome in twin.outcomes:
        if outcome.point or outcome.name not in run.outcomes:
            continue
        value = run.outcomes[outcome.name]
        concept = outcome_code(twin.id, outcome.name, outcome.label)
        if outcome.categories:
            if value is None:
                why = notes.get(outcome.name) or outcome.absent
                evaluations.append(hd.sr.QualitativeEvaluation(concept, undefined_code(why)))
            else:
                code = category_code(twin.id, outcome.name, str(value))
                evaluations.append(hd.sr.QualitativeEvaluation(concept, code))
        elif _defined(value):
            measurements.append(hd.sr.Measurement(name=concept, value=float(value),
                                                  unit=ucum(outcome.unit)))  # fmt: skip
            extra += _spread_text(outcome, spread.get(outcome.name))
        else:
            why = notes.get(outcome.name) or outcome.absent or "not defined"
            evaluations.append(hd.sr.QualitativeEvaluation(concept, undefined_code(why)))
    parameters = [
        f"scenario: {run.scenario}",
        f"twin: {twin.id} {twin.version} ({twin.title})",
        f"run time: {run.time}",
        f"inputs digest: {run.input_hash[:16]}",
        f"application: {MODEL} {run.app_version}",
    ]
    if stale:
        parameters.append(f"out of date: {stale}")
    algorithm = hd.sr.AlgorithmIdentification(
        name=f"MEDITWIN twin {twin.id}", version=str(twin.version),
        parameters=parameters + extra, manufacturer=MANUFACTURER,
    )  # fmt: skip
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(f"{STALE_PREFIX}: {name}" if stale else name),
        algorithm_id=algorithm,
        measurements=measurements or None,
        qualitative_evaluations=evaluations,
    )


def _spread_text(outcome: Outcome, spread) -> list[str]:
    """'<label>: 90 % interval 12.1 to 15.3 mL' when the run sampled uncertain inputs."""
    if spread is None or not (_defined(spread.low) and _defined(spread.high)):
        return []
    level = round(100 * spread.level)
    unit = f" {outcome.unit}" if outcome.unit else ""
    return [f"{outcome.label}: {level} % interval {spread.low:.4g} to {spread.high:.4g}{unit}"]
