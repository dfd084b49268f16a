"""Retrieval speed from a PACS: our C-GET of a 250-slice CT against Orthanc's own DICOM
transfer of the same study, measured in the same run.

Builds a CT of 250 slices of 512 x 512 int16 (explicit VR little endian, 125 MiB, new
UIDs, in a temporary folder), uploads it to a fresh Orthanc on loopback
(tests/support/orthanc.py, maximum PDU 128 KiB) and times, `BENCH_RUNS` times each
(default 3), alternating:
- ours: `core.pacs.retrieve(..., method="get")`, into the local retrieval folder (raw
  writes, one rename per file); target < 5 s;
- reference: Orthanc's own time to send the same study by C-STORE to our `StorageServer`
  (REST `POST /modalities/meditwin/store`, synchronous; the C-MOVE path): the same bytes over
  the same loopback, Orthanc choosing the pace;
- for information: Orthanc sending it to a second Orthanc (its C++ DICOM stack at both ends,
  the receiver indexing each file; SyncStorageArea off). Here that path is several times
  slower than the others (about 9 MB/s where a REST upload of the same files into Orthanc
  takes under 2 s), so it is printed, not used as the reference.
Prints the medians, MB/s, and the ratio ours / reference (< 1: we are faster).
Run: `./dev.sh bench` or `.venv/bin/python tests/bench/bench_pacs.py`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SLICES, SIZE = 250, 512


def write_ct(folder: Path) -> tuple[str, list[Path]]:
    """A synthetic 250-slice CT (a body ellipse with noise); its study UID and files."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    body = ((xx - 256) / 220.0) ** 2 + ((yy - 256) / 160.0) ** 2 < 1
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    paths = []
    for k in range(SLICES):
        pixels = np.where(body, 40, -1000).astype(np.int16)
        pixels += rng.normal(0, 8, pixels.shape).astype(np.int16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "BENCH^CT", "BENCH-250", ""
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.StudyTime, ds.Modality = "20260101", "120000", "CT"
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImagePositionPatient = [-256.0, -256.0, float(k)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 1.0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = SIZE
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = pixels.tobytes()
        path = folder / f"{k:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return study, paths


def main() -> None:
    os.environ.setdefault("MEDITWIN_HOME", tempfile.mkdtemp(prefix="meditwin-bench-"))
    from meditwin_desktop.core.pacs import LocalAE, Node, StorageServer, retrieve
    from meditwin_desktop.core.pacs.received import retrieval_folder
    from tests.support.orthanc import free_port, orthanc_available, start_orthanc

    if not orthanc_available():
        print("Orthanc is not installed (apt-get install orthanc): nothing to measure")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-pacs-"))
    scp_port = free_port()
    peer = start_orthanc(work / "peer")
    source = start_orthanc(
        work / "source",
        modalities={
            "meditwin": ("MEDITWIN", "127.0.0.1", scp_port),
            "peer": ("ORTHANC", "127.0.0.1", peer.dicom_port),
        },
    )
    server = StorageServer(LocalAE("MEDITWIN", scp_port), accept_from=["ORTHANC"])
    try:
        (work / "ct").mkdir()
        start = time.perf_counter()
        study_uid, paths = write_ct(work / "ct")
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        print(f"CT {SLICES} x {SIZE}^2: {megabytes:.0f} MB written in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        start = time.perf_counter()
        source.upload(paths)
        print(f"uploaded to Orthanc in {time.perf_counter() - start:.1f} s")
        orthanc_study = source.rest("/tools/lookup", study_uid.encode())[0]["ID"]
        node = Node("bench", "ORTHANC", "127.0.0.1", source.dicom_port)
        local = LocalAE("MEDITWIN", scp_port)
        server.start()
        ours, reference, pushed = [], [], []
        for _ in range(RUNS):
            shutil.rmtree(retrieval_folder(study_uid))
            start = time.perf_counter()
            result = retrieve(node, local, study_uid, method="get", timeout=60)
            ours.append(time.perf_counter() - start)
            assert result.files == SLICES, result

            peer.clear()
            start = time.perf_counter()
            source.rest("/modalities/peer/store",
                        {"Resources": [orthanc_study], "Synchronous": True})  # fmt: skip
            reference.append(time.perf_counter() - start)
            assert len(peer.rest("/instances")) == SLICES

            shutil.rmtree(retrieval_folder(study_uid))
            start = time.perf_counter()
            source.rest("/modalities/meditwin/store",
                        {"Resources": [orthanc_study], "Synchronous": True})  # fmt: skip
            pushed.append(time.perf_counter() - start)
            assert len(list(retrieval_folder(study_uid).glob("*.dcm"))) == SLICES
        a, b, c = (statistics.median(x) for x in (ours, pushed, reference))
        rows = [
            ("ours, C-GET", a, min(ours)),
            ("reference, Orthanc C-STORE to us", b, min(pushed)),
            ("Orthanc -> Orthanc (information)", c, min(reference)),
        ]
        print(f"runs: {RUNS}; median (best) seconds, MB/s of the median:")
        for label, median, best in rows:
            print(f"  {label:34s} {median:6.2f} ({best:5.2f})  {megabytes / median:6.1f} MB/s")
        print(f"  C-GET target < 5 s: {'met' if a < 5 else 'MISSED'}")
        print(f"  ratio ours / reference: {a / b:.2f} (best times: {min(ours) / min(pushed):.2f})")
    finally:
        server.stop()
        source.stop()
        peer.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
