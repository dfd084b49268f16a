"""Structure rules from DESIGN.md that a test can hold: no Qt below the UI; packaging lists all."""

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "qtpy", "pyvistaqt", "shiboken6")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", ["meditwin_desktop/core", "meditwin_desktop/demo", "twins"])
def test_core_and_twins_never_import_qt(folder):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / folder).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in QT_MODULES or name.startswith("meditwin_desktop.ui")
    ]
    assert not offenders


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "meditwin_desktop").rglob("__init__.py")
    } | {  # resources/ is installed as meditwin_desktop.resources, each folder a package
        ".".join(("meditwin_desktop.resources", *d.relative_to(ROOT / "resources").parts))
        for d in (ROOT / "resources", *(ROOT / "resources").rglob("*"))
        if d.is_dir() and d.name != "__pycache__"
    }
    twins = {  # twins/ is installed as meditwin_twins
        ".".join(("meditwin_twins", *p.parent.relative_to(ROOT / "twins").parts))
        for p in (ROOT / "twins").rglob("__init__.py")
    }
    assert on_disk | twins == listed


def test_twins_import_only_the_twin_contract_numpy_and_scipy():
    # numba: a declared dependency, allowed for hot kernels (the VT twin's tissue solver);
    # a twin's own tests may build their cases with the platform (a demo heart, a Case,
    # check_twin), import the twin by its installed name and use pytest: they test the
    # twin, they are not the twin
    # scikit-image: declared too, the retina twin's field library (fundus image analysis)
    allowed = ("numpy", "scipy", "numba", "skimage", "meditwin_desktop.core.twin", "__future__")
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "twins").rglob("*.py")
        for name in _imports(path)
        if not name.startswith(allowed)
        and name.split(".")[0] not in sys.stdlib_module_names
        and not (
            (name == "pytest" or name.startswith(("meditwin_desktop.", "meditwin_twins.")))
            and "tests" in path.relative_to(ROOT).parts
        )
    ]
    assert not offenders
