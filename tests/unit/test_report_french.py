"""The board report in French: headings, the stale banner and numbers (decimal comma) in
the language in use, English headings gone, the application's and the twin's versions
stated."""

from __future__ import annotations

import re

import pytest

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core import i18n
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.report import write_report
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import run_scenarios
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.demo.case import demo_case


@pytest.fixture(scope="module")
def fh_case():
    case = demo_case("fh-patient")
    twin = discover().get("cardiometabolic")
    statin = Scenario("High statin", {"therapy": "statin_high"})
    case.scenarios[twin.id] = [Scenario("Baseline"), statin]
    runner = Runner()
    try:
        runs = run_scenarios(twin, case, case.scenarios[twin.id], runner)
    finally:
        runner.shutdown()
    assert [r.status for r in runs] == ["ok", "ok"], [r.error for r in runs]
    return case, twin


@pytest.fixture
def french():
    before = i18n.language()
    i18n.set_language("fr")
    i18n.reload()
    yield
    i18n.set_language(before if before in i18n.LANGUAGES else "en")
    i18n.reload()


def _pages(path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text().replace("\xa0", " ") for page in PdfReader(path).pages]


def test_the_report_is_written_in_french(fh_case, french, tmp_path):
    case, twin = fh_case
    pages = _pages(write_report(case, twin, tmp_path / "fr.pdf"))
    text = "\n".join(pages)
    for french_text in (
        "RCP — compte rendu du jumeau numérique",
        "Question à la RCP",
        "Scénarios",
        "Alertes et avertissements",
        "Référence : données cliniques et paramètres personnalisés",
        "Données cliniques",
        "Paramètre",
        "Scénarios et résultats",
        "Modèle, traçabilité et limites",
        "Imagerie : aucune (données cliniques seules)",
    ):
        assert french_text in text, french_text
    for english in (
        "Multidisciplinary board",
        "Question to the board",
        "Flags and warnings",
        "Clinical data",
        "Scenarios and outcomes",
        "Model, provenance and limitations",
        "Imaging: none",
        "does not replace",
    ):
        assert english not in text, english
    assert re.search(r"\(Δ [-+]\d+,\d\)", text), "no difference with a decimal comma"
    assert not re.search(r"\(Δ [-+]?\d+\.\d+\)", text), "a difference with a decimal point"


def test_the_french_report_states_the_application_and_twin_versions(
    fh_case, french, tmp_path
):
    case, twin = fh_case
    pages = _pages(write_report(case, twin, tmp_path / "fr.pdf"))
    assert all(f"{APP_NAME} {__version__}" in page for page in pages)  # every page's header
    assert f"version {twin.version}" in pages[0]
    assert f"version {twin.version}" in pages[-1]


def test_stale_results_are_marked_in_french(fh_case, french, tmp_path):
    case, twin = fh_case
    case.clinical["ldl_mg_dl"] = 193.0
    try:
        pages = _pages(write_report(case, twin, tmp_path / "stale.pdf"))
    finally:
        case.clinical["ldl_mg_dl"] = 240.0
    assert "RÉSULTATS PÉRIMÉS : 2 sur 2" in pages[0]
    assert "OUT OF DATE" not in "\n".join(pages)
    assert all("RÉSULTATS PÉRIMÉS" in page for page in pages[:-1])
