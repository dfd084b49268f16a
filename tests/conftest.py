"""Test-wide setup: a private MEDITWIN_HOME, the demo patient once per session, data paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports meditwin_desktop: keep logs and the demo cache out of $HOME.
_HOME = Path(tempfile.mkdtemp(prefix="meditwin-tests-"))
os.environ["MEDITWIN_HOME"] = str(_HOME)
# The tests read English, whatever this machine's locale (tests of French set it themselves).
os.environ["MEDITWIN_LANG"] = "en"
# QT_QPA_PLATFORM=offscreen cannot host the VTK (OpenGL) widget; never let it leak in.
if os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb":
    os.environ["QT_QPA_PLATFORM"] = "xcb"

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _english_again():
    """A test that switched the language (French, pseudo) leaves English behind it."""
    yield
    from meditwin_desktop.core import i18n

    if i18n.language() != "en":
        i18n.set_language("en")


@pytest.fixture(scope="session")
def meditwin_home() -> Path:
    """The MEDITWIN_HOME used by this test session."""
    return _HOME


@pytest.fixture(scope="session")
def demo_patient():
    """The demo patient, generated once per session through the app's own cache."""
    from meditwin_desktop.demo import ensure_demo

    return ensure_demo()[0]


@pytest.fixture(scope="session")
def demo_truth():
    """The demo CT and labels straight from the generator (no DICOM in between)."""
    from meditwin_desktop.demo import anatomy

    return anatomy.build()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA
