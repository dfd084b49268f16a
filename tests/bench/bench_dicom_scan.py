"""Scanning a large folder: headers of ~2,000 files into patients > studies > series.

Nine copies of the demo CT (2,160 files) are scanned by `scan()` and, as the reference in
the same run, listed by GDCM through SimpleITK (`GetGDCMSeriesIDs` +
`GetGDCMSeriesFileNames`, C++). Prints both times and the ratio.
Run: `./dev.sh bench` or `python tests/bench/bench_dicom_scan.py`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    import SimpleITK as sitk  # noqa: N813 - the name everyone uses

    from meditwin_desktop.core.imaging.dicom import scan
    from meditwin_desktop.demo import write_demo

    with tempfile.TemporaryDirectory() as tmp:
        patient = write_demo(Path(tmp) / "demo")[0]  # the thorax CT
        root = Path(tmp) / "disk"
        for copy in range(9):
            shutil.copytree(patient.dicom_dir, root / f"copy{copy}")
        files = sum(1 for _ in root.rglob("*.dcm"))
        scan([root])  # warm the file cache for both
        start = time.perf_counter()
        result = scan([root])
        ours = time.perf_counter() - start
        start = time.perf_counter()
        for folder in sorted(root.iterdir()):
            for uid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)):
                sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), uid)
        reference = time.perf_counter() - start
    print(
        f"scan of {files} files: {ours:.2f} s ({1000 * ours / files:.2f} ms per file), "
        f"{len(result.all_series())} series"
    )
    print(f"reference, GDCM via SimpleITK: {reference:.2f} s; ratio {ours / reference:.2f}")


if __name__ == "__main__":
    main()
