"""The `retina-hypertension` demo: two visits of a hypertensive man's right eye as DICOM
Ophthalmic Photography, drawn from the retina twin's phantom (a known vessel tree).

Visit 2 is the same eye (same seed: same tree, disc, texture and noise) with every
arteriole narrower by `ARTERIOLAR_SCALE[1]` (hypertensive arteriolar narrowing); the veins
are unchanged. Beside each photograph, `truth.npz` keeps what it was drawn from: the vessel
mask, the artery/vein map, the field of view and the network's arrays (`read_truth`).

Each photograph is one 8-bit RGB image of Ophthalmic Photography 8 Bit Image Storage
(PS3.3 A.39), modality OP, with PixelSpacing (mm), ImageLaterality R and its own study.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

OP_8BIT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.5.1"  # Ophthalmic Photography 8 Bit Image
SEED = 22
EYE = "right"
PATIENT_ID = "MEDITWIN-DEMO-009"
PATIENT_NAME = "DEMO^Retina-Hypertension"
BIRTH_DATE = "19670914"  # 58 at visit 2
# (ISO date, description, arteriolar calibre relative to visit 1)
VISITS = (
    ("2024-03-12", "Visit 1: colour fundus photograph, right eye", 1.0),
    ("2026-02-10", "Visit 2: colour fundus photograph, right eye", 0.85),
)
ARTERIOLAR_SCALE = tuple(scale for _, _, scale in VISITS)


def write_op_dicom(
    path: Path,
    rgb: np.ndarray,
    pixel_mm: float,
    *,
    date: str,
    description: str,
    uid_seed: str,
    laterality: str = "R",
    patient_id: str = PATIENT_ID,
    patient_name: str = PATIENT_NAME,
    birth_date: str = BIRTH_DATE,
    sex: str = "M",
) -> Path:
    """Write one RGB photograph (uint8 (H, W, 3)) as Ophthalmic Photography 8 Bit Image
    Storage; `date` ISO; equal `uid_seed`s give equal UIDs (one study per seed)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

    from meditwin_desktop import __version__

    def uid(*parts: str) -> str:
        return generate_uid(prefix=None, entropy_srcs=[uid_seed, *parts])

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("an RGB photograph (rows, columns, 3) is expected")
    dicom_date = date.replace("-", "")
    sop_uid = uid("instance")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = OP_8BIT_SOP_CLASS
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"MEDITWIN_{__version__}"[:16]
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = OP_8BIT_SOP_CLASS
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDateTime = dicom_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "100000"
    ds.AccessionNumber = ""
    ds.Modality = "OP"
    ds.Manufacturer = "MEDITWIN (synthetic)"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = description
    ds.SeriesDescription = "Colour fundus photograph, 45 degrees (synthetic demo)"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = birth_date
    ds.PatientSex = sex
    ds.PatientIdentityRemoved = "YES"
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid("series")
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.ImageLaterality = laterality
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = rgb.shape[0], rgb.shape[1]
    ds.PixelSpacing = [f"{pixel_mm:.12g}"] * 2  # DS: at most 16 characters
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = rgb.tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_truth(path: Path, phantom) -> Path:
    """The phantom's truth as one npz: masks and the network's arrays (paths and widths
    concatenated, with per-segment offsets)."""
    network = phantom.network
    offsets = np.cumsum([0, *(len(p) for p in network.paths)])
    np.savez_compressed(
        path, vessels=phantom.vessels, av=phantom.av, fov=phantom.fov,
        nodes=network.nodes, edges=network.edges, diameter_px=network.diameter_px,
        length_px=network.length_px, kind=network.kind,
        path_points=np.concatenate(network.paths), path_offsets=offsets,
        disc=np.array([network.disc.row, network.disc.col, network.disc.radius_px]),
        macula=np.array(phantom.macula), pixel_mm=np.array(phantom.pixel_mm),
        arteriolar_scale=np.array(phantom.arteriolar_scale),
    )  # fmt: skip
    return Path(path)


def read_truth(path: Path) -> dict[str, np.ndarray]:
    """A truth file as written by `write_truth`, with `paths` split back per segment."""
    with np.load(path) as data:
        truth = {key: data[key] for key in data.files}
    offsets = truth["path_offsets"]
    truth["paths"] = [truth["path_points"][a:b] for a, b in pairwise(offsets)]
    return truth


def write_photographs(folder: Path) -> list:
    """Write both visits into `folder/<date>/` (the photograph `OP/fundus_R.dcm` and
    `truth.npz`); return them as demo studies (demo.DemoStudy: `dicom_dir` is the folder
    holding the photograph, `labels_path` the truth)."""
    import pydicom
    from meditwin_twins.retina_microcirculation.phantom import make_fundus

    from meditwin_desktop.demo import DEMO_VERSION, DemoStudy

    studies = []
    for date, description, scale in VISITS:
        phantom = make_fundus(SEED, eye=EYE, arteriolar_scale=scale)
        visit = Path(folder) / date
        photo = write_op_dicom(
            visit / "OP" / "fundus_R.dcm", phantom.rgb, phantom.pixel_mm, date=date,
            description=description, uid_seed=f"meditwin-demo-{DEMO_VERSION}-{PATIENT_ID}-{date}",
        )  # fmt: skip
        truth = write_truth(visit / "truth.npz", phantom)
        ds = pydicom.dcmread(photo, stop_before_pixels=True)
        studies.append(DemoStudy(date, description, photo.parent, truth,
                                 str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID)))  # fmt: skip
    return studies
