"""DICOM loading speed and memory against SimpleITK's ImageSeriesReader, in the same run.

Series: the demo CT (240 slices, uncompressed), the same re-encoded as JPEG 2000
lossless with pydicom's encoder, and the GE MP-RAGE MR from ../shared/data (130 slices)
when present. For each: median of 5 loads (ours vs SimpleITK; SimpleITK gets its file
order from GDCM outside the timing), the ratio, the time until the first slice is
viewable (volume handed over + middle slice decoded), and the peak resident memory a
fresh process adds while loading (Linux VmHWM, reset before the load) against the voxel
bytes. Worker processes are warmed first,
as the GUI does at start-up. Run: `./dev.sh bench` or `python tests/bench/bench_dicom_load.py`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dicom"

PEAK_MEMORY = r"""
import json, sys
from pathlib import Path
from meditwin_desktop.core.imaging.dicom import load_series
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
files = sorted(Path(sys.argv[1]).iterdir())
load_series(files[:1])  # decoder imports are not the load's memory
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
volume = load_series(files)[0]
print(json.dumps({"before_kb": before, "after_kb": status("VmHWM:"),
                  "voxel_bytes": volume.array.nbytes}))
"""


def _median(fn) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _first_slice_seconds(files: list[Path]) -> float:
    from meditwin_desktop.core.imaging.dicom import load_series

    start = time.perf_counter()
    seen: dict[str, float] = {}

    def progress(fraction: float, message: str) -> None:
        if "volume" in seen and message.startswith("Decoding") and "first" not in seen:
            seen["first"] = time.perf_counter() - start  # >= 4 frames done, middle one first

    load_series(files, progress=progress, on_volume=lambda v: seen.setdefault("volume", 0.0))
    return seen.get("first", float("nan"))


def _peak_memory(folder: Path) -> dict:
    env = dict(os.environ, MEDITWIN_DICOM_WORKERS="0")  # workers' memory is their own
    out = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _encode_j2k(source: Path, target: Path) -> None:
    import pydicom
    from pydicom.uid import JPEG2000Lossless

    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        ds = pydicom.dcmread(path)
        ds.compress(JPEG2000Lossless)
        ds.save_as(target / path.name)


def bench(name: str, folder: Path) -> None:
    import SimpleITK as sitk  # noqa: N813 - the name everyone uses

    from meditwin_desktop.core.imaging.dicom import load_series

    files = sorted(folder.iterdir())
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    load_series(files)  # first use imports the decoders
    reference = _median(reader.Execute)
    ours = _median(lambda: load_series(files))
    first = _first_slice_seconds(files)
    memory = _peak_memory(folder)
    voxel_mb = memory["voxel_bytes"] / 2**20
    peak_mb = (memory["after_kb"] - memory["before_kb"]) / 1024
    print(f"{name}: {len(files)} files")
    print(f"  ours {ours:.3f} s, SimpleITK {reference:.3f} s, ratio {ours / reference:.2f}")
    print(f"  first slice viewable after {first:.3f} s ({first / ours:.0%} of the full load)")
    print(
        f"  peak memory growth {peak_mb:.0f} MB for {voxel_mb:.0f} MB of voxels "
        f"({peak_mb / voxel_mb:.2f}x; target <= 1.3x + 200 MB)"
    )


def main() -> None:
    from meditwin_desktop.core.imaging.dicom import workers
    from meditwin_desktop.demo import write_demo

    started = time.perf_counter()
    [future.result() for future in workers.warm_up()]
    print(
        f"worker processes ready in {time.perf_counter() - started:.2f} s "
        f"({workers.worker_count()} workers)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        [patient] = write_demo(Path(tmp) / "demo")
        bench("demo CT, uncompressed", patient.dicom_dir)
        _encode_j2k(patient.dicom_dir, Path(tmp) / "j2k")
        bench("demo CT, JPEG 2000 lossless", Path(tmp) / "j2k")
        if (SHARED / "mr3d_ge_mprage").is_dir():
            bench("GE MP-RAGE MR, uncompressed", SHARED / "mr3d_ge_mprage")


if __name__ == "__main__":
    main()
