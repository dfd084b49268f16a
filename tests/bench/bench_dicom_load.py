"""DICOM loading speed and memory against SimpleITK's ImageSeriesReader, cold and warm.

Series (built in a temp folder, or in `$BENCH_DICOM_DIR` and reused there):
- CT 512 x 512 x 260, explicit VR little endian: the demo anatomy resampled to 512^2 and
  260 slices with 8 HU of fresh noise per voxel (so it compresses like a real CT, about
  2.5:1), stored as 16 bits allocated, 16 stored, unsigned, RescaleIntercept -1024 (as
  many scanners do; values fit int16 after rescale, the header alone says they may not);
- the same re-encoded as JPEG Lossless SV1 (1.2.840.10008.1.2.4.70) with python-gdcm's
  `ImageChangeTransferSyntax` (pydicom 3 has no JPEG lossless encoder);
- the GE MP-RAGE MR from ../shared/data (130 slices of 256^2) when present.

Each measure runs in a fresh process, alternating ours and SimpleITK's: the OS page
cache is dropped first (`/proc/sys/vm/drop_caches`, needs root; otherwise "cold" means a
new process with a warm page cache, and the header says so). *Cold*: the first load in
that process (our worker pool not started before; imports done before the clock starts).
*Warm*: later loads in the same process. SimpleITK gets its file order from
`GetGDCMSeriesFileNames` in the parent, outside its timing; ours is given the files in
name order. Memory: growth of the loading process's peak resident set (VmHWM, reset
before the cold load) over the voxel bytes; the worker processes' own resident memory
is printed beside it. Medians over `BENCH_RUNS` (default 3) processes, and the ratio of
the best times (less sensitive to other work on the machine).
Then, for each CT series, every installed decoder of its transfer syntax decodes the same
40 middle frames (CPU ms per frame, one thread, warm cache): which wins, and which one
the loader uses (`core/imaging/dicom/decoders.py`).
Run: `./dev.sh bench` or `.venv/bin/python tests/bench/bench_dicom_load.py`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WARM_LOADS = 3
DECODER_FRAMES = 40
SLICES, SIZE = 260, 512
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dicom"

CHILD = r"""
import json, os, sys, time
from pathlib import Path
mode, listing = sys.argv[1], sys.argv[2]
files = [Path(line) for line in Path(listing).read_text().splitlines()]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

def children_rss_kb():
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0])
    return total

started = time.perf_counter()
if mode == "sitk":
    import SimpleITK as sitk
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    def load():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames([str(f) for f in files])
        image = reader.Execute()
        return sitk.GetArrayViewFromImage(image)
else:
    from meditwin_desktop.core.imaging.dicom import load_series
    seen = {}
    def load():
        def progress(fraction, message):
            if "volume" in seen and message.startswith("Decoding") and "first" not in seen:
                seen["first"] = time.perf_counter() - seen["start"]
        seen.clear()
        seen["start"] = time.perf_counter()
        volume = load_series(files, progress=progress,
                             on_volume=lambda v: seen.setdefault("volume", 1))[0]
        return volume.array
imported = time.perf_counter() - started
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
start = time.perf_counter()
array = load()
cold = time.perf_counter() - start
peak = status("VmHWM:") - before
first = seen.get("first") if mode == "ours" else None
warm = []
for _ in range(int(sys.argv[3])):
    del array
    start = time.perf_counter()
    array = load()
    warm.append(time.perf_counter() - start)
print(json.dumps({"import": imported, "cold": cold, "warm": warm, "peak_kb": peak,
                  "first": first, "voxel_bytes": array.nbytes, "dtype": str(array.dtype),
                  "workers_kb": children_rss_kb()}))
"""


def drop_page_cache() -> bool:
    """Empty the OS page cache (root only); False when not allowed."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("3")
        return True
    except OSError:
        return False


def _child(mode: str, listing: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(listing), str(WARM_LOADS)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def write_ct(folder: Path) -> None:
    """The demo anatomy as a 512^2 x 260 CT, uncompressed, 16 bits stored."""
    import numpy as np
    from scipy import ndimage

    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
    from meditwin_desktop.core.imaging.volume import Volume
    from meditwin_desktop.demo import anatomy

    ct, _ = anatomy.build()
    zoom = (SLICES / ct.shape[0], SIZE / ct.shape[1], SIZE / ct.shape[2])
    hu = ndimage.zoom(ct.array.astype(np.float32), zoom, order=1)
    hu += 8.0 * np.random.default_rng(7).standard_normal(hu.shape, dtype=np.float32)
    affine = ct.affine.copy()
    affine[:3, :3] /= np.array(zoom)[::-1]  # columns i, j, k scaled by their zoom
    header = SeriesHeader(
        "BENCH^CT", "BENCH-512", uid_seed="bench-512", extra={"BitsStored": 16, "HighBit": 15}
    )
    array = np.clip(np.rint(hu), -1024, 3071).astype(np.int16)
    write_ct_series(Volume(array, affine), folder, header)


def encode_jpeg_lossless(source: Path, target: Path) -> None:
    """Every file of `source` re-encoded as JPEG Lossless SV1 by python-gdcm."""
    import gdcm

    target.mkdir(parents=True, exist_ok=True)
    syntax = gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1)
    for path in sorted(source.iterdir()):
        reader = gdcm.ImageReader()
        reader.SetFileName(str(path))
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(syntax)
        if not reader.Read():
            raise RuntimeError(f"GDCM could not read {path}")
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise RuntimeError(f"GDCM could not re-encode {path}")
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(target / path.name))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise RuntimeError(f"GDCM could not write {target / path.name}")


def series(root: Path) -> list[tuple[str, Path]]:
    """(name, folder) of each benchmark series, written on first use."""
    raw, jpeg = root / "ct512_explicit_le", root / "ct512_jpeg_lossless_sv1"
    if len(list(raw.glob("*.dcm"))) < SLICES:
        write_ct(raw)
    if len(list(jpeg.glob("*.dcm"))) < SLICES:
        encode_jpeg_lossless(raw, jpeg)
    found = [
        (f"CT {SIZE}x{SIZE}x{SLICES}, explicit VR little endian", raw),
        (f"CT {SIZE}x{SIZE}x{SLICES}, JPEG Lossless SV1 ({JPEG_LOSSLESS_SV1})", jpeg),
    ]
    if (SHARED / "mr3d_ge_mprage").is_dir():
        found.append(
            ("GE MP-RAGE MR 256x256x130, explicit VR little endian", SHARED / "mr3d_ge_mprage")
        )
    return found


def bench(name: str, folder: Path, work: Path, cold_cache: bool) -> None:
    import SimpleITK as sitk  # noqa: N813 - the name everyone uses

    files = sorted(p for p in folder.iterdir() if p.is_file())
    ours_list, sitk_list = work / "ours.txt", work / "sitk.txt"
    ours_list.write_text("\n".join(map(str, files)))
    sitk_list.write_text("\n".join(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))))
    runs: dict[str, list[dict]] = {"ours": [], "sitk": []}
    for n in range(RUNS):
        for mode in ("ours", "sitk") if n % 2 == 0 else ("sitk", "ours"):
            if cold_cache:
                drop_page_cache()
            runs[mode].append(_child(mode, ours_list if mode == "ours" else sitk_list))

    def median(mode: str, key: str, pick=statistics.median) -> float:
        values = [r[key] for r in runs[mode]]
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
        return pick(flat)

    ours, ref = runs["ours"][0], runs["sitk"][0]
    print(f"{name}: {len(files)} files, ours {ours['dtype']}, SimpleITK {ref['dtype']}")
    for key in ("cold", "warm"):
        a, b = median("ours", key), median("sitk", key)
        best = median("ours", key, min) / median("sitk", key, min)
        print(
            f"  {key:4s}: ours {a:.3f} s, SimpleITK {b:.3f} s, ratio {a / b:.2f} "
            f"(medians; best of each: {best:.2f})"
        )
    voxel_mb = ours["voxel_bytes"] / 2**20
    peak_mb = median("ours", "peak_kb") / 1024
    print(
        f"  first slice viewable after {median('ours', 'first'):.3f} s (cold); imports "
        f"ours {median('ours', 'import'):.2f} s, SimpleITK {median('sitk', 'import'):.2f} s"
    )
    print(
        f"  peak memory growth {peak_mb:.0f} MB for {voxel_mb:.0f} MB of voxels "
        f"({peak_mb / voxel_mb:.2f}x; target <= 1.3x); SimpleITK "
        f"{median('sitk', 'peak_kb') / 1024 / (ref['voxel_bytes'] / 2**20):.2f}x of its own; "
        f"our workers' resident memory {median('ours', 'workers_kb') / 1024:.0f} MB"
    )


def _decoders(syntax: str) -> dict:
    """name -> decode(frame) of every installed decoder for this transfer syntax."""
    import numpy as np
    import pydicom

    from meditwin_desktop.core.imaging.dicom import decoders, pixels

    found = {
        "pydicom dcmread + pixel_array": lambda f: pydicom.dcmread(f.path).pixel_array,
    }
    if syntax == JPEG_LOSSLESS_SV1:
        if decoders.jpeg8_decode() is not None:
            found["imagecodecs (libjpeg-turbo)"] = decoders.decode_jpeg_lossless
        for plugin in ("gdcm", "pylibjpeg"):
            found[f"pydicom plugin {plugin}"] = partial_plugin(pixels, plugin)
    else:
        found["in place (ours)"] = lambda f: pixels._read_native(f, (f.rows, f.columns))

    def gdcm_image(frame):
        import gdcm

        reader = gdcm.ImageReader()
        reader.SetFileName(str(frame.path))
        reader.Read()
        return np.frombuffer(
            reader.GetImage().GetBuffer().encode("utf-8", "surrogateescape"), np.uint16
        )

    found["GDCM ImageReader"] = gdcm_image
    return found


def partial_plugin(pixels, plugin: str):
    return lambda source: pixels._decode_encapsulated(source, plugin)


def compare_decoders(name: str, folder: Path) -> None:
    """CPU ms per frame of each installed decoder, one thread, warm page cache."""
    import time

    from meditwin_desktop.core.imaging.dicom import decoders, pixels
    from meditwin_desktop.core.imaging.dicom.assemble import read_frames

    files = sorted(p for p in folder.iterdir() if p.is_file())
    middle = len(files) // 2
    frames, _, _ = read_frames(files[middle - DECODER_FRAMES // 2 : middle + DECODER_FRAMES // 2])
    sources = [f.pixel for f in frames]
    syntax = sources[0].transfer_syntax
    times = {}
    for label, decode in _decoders(syntax).items():
        try:
            decode(sources[0] if "pydicom dcmread" not in label else frames[0])
        except Exception as error:  # not usable for this syntax
            print(f"    {label}: fails ({type(error).__name__})")
            continue
        start = time.process_time()
        for frame, source in zip(frames, sources, strict=True):
            decode(frame if "pydicom dcmread" in label else source)
        times[label] = (time.process_time() - start) / len(frames) * 1e3
    ranked = sorted(times.items(), key=lambda item: item[1])
    print(f"  decoders, CPU ms per frame over {len(frames)} frames, one thread:")
    print("    " + ", ".join(f"{label} {ms:.1f}" for label, ms in ranked))
    used = (
        "imagecodecs (libjpeg-turbo)"
        if syntax in decoders.JPEG_LOSSLESS and decoders.in_threads(sources[0])
        else "in place (ours)"
        if pixels._is_native(frames[0])
        else "pydicom plugins"
    )
    print(f"    fastest: {ranked[0][0]}; the loader uses: {used}")


def main() -> None:
    cold_cache = drop_page_cache()
    load = os.getloadavg()
    cache = "dropped before each" if cold_cache else "NOT dropped (not root): cold = new"
    print(
        f"{RUNS} cold processes each, {WARM_LOADS} warm loads each; page cache {cache} process; "
        f"load average {load[0]:.2f} {load[1]:.2f}, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(os.environ.get("BENCH_DICOM_DIR") or Path(tmp) / "series")
        for name, folder in series(root):
            bench(name, folder, Path(tmp), cold_cache)
            if "CT" in name:
                compare_decoders(name, folder)


if __name__ == "__main__":
    main()
