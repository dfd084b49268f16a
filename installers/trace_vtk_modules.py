"""List the VTK modules (vtkmodules.*) that MEDITWIN imports, for installers/meditwin.spec.

pyvista and pyvistaqt import part of VTK lazily, so PyInstaller's analysis alone either
misses modules (a feature fails in the bundle) or, with collect_submodules("vtkmodules"),
takes all ~200 of them (550 MB). This script imports every module of the app and its twins,
then runs the GUI on the demo until every view has rendered (2D slices, 3D surfaces,
volume rendering) and prints the vtkmodules.* names found in sys.modules, one a line.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python installers/trace_vtk_modules.py \
        > installers/vtk_modules.txt

Run it again when the app starts to use another VTK class (the spec reads the file).
"""

from __future__ import annotations

import atexit
import importlib
import os
import pkgutil
import sys
import tempfile


def _import_all(package: str) -> None:
    module = importlib.import_module(package)

    def skipped(name: str) -> None:
        print(f"# {name}: not importable", file=sys.stderr)

    for info in pkgutil.walk_packages(module.__path__, package + ".", onerror=skipped):
        if ".tests" in info.name or info.name.endswith(".__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as error:  # reported, the trace goes on
            print(f"# {info.name}: {error!r}", file=sys.stderr)


def _report() -> None:
    names = sorted(n for n in sys.modules if n.startswith("vtkmodules."))
    with open(os.environ.get("TRACE_OUT", "/dev/stdout"), "w") as out:
        out.write("\n".join(names) + "\n")


def main() -> int:
    os.environ.setdefault("MEDITWIN_HOME", tempfile.mkdtemp(prefix="meditwin-trace-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    atexit.register(_report)
    for package in ("meditwin_desktop", "meditwin_twins"):
        _import_all(package)
    import pyvista
    import pyvista.plotting  # the rendering half, imported lazily by pyvista
    import pyvistaqt  # noqa: F401

    # what pyvista's filters and readers load on first use
    sphere = pyvista.Sphere()
    sphere.decimate(0.5).smooth(5).clip("z").extract_surface().triangulate()
    volume = pyvista.ImageData(dimensions=(8, 8, 8))
    volume["v"] = range(512)
    volume.contour([100]).connectivity()
    volume.threshold(100).extract_surface()
    out = tempfile.mkdtemp(prefix="meditwin-trace-")
    for suffix in (".vtp", ".vtk", ".stl", ".vti"):  # result_export writes .vtp
        (volume if suffix == ".vti" else sphere).save(os.path.join(out, "mesh" + suffix))
    pyvista.Texture(volume["v"].reshape(8, 64).astype("uint8"))

    from meditwin_desktop.cli import main as cli_main

    argv = sys.argv[1:] or ["gui", "--demo", "--exit-after-render"]
    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
