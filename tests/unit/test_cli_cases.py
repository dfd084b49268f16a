"""`meditwin cases`: list the library, a case's history, restore an earlier revision."""

from __future__ import annotations

import json

from meditwin_desktop import cli
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.store import CaseLibrary


def test_cases_lists_history_and_restores(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path))
    library = CaseLibrary()
    case = Case(name="Ann Example", patient_id="A-1", clinical={"age_y": 50})
    library.save(case)
    case.clinical["age_y"] = 51
    library.save(case)

    assert cli.main(["cases", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["cases"]
    assert entry["id"] == case.id and entry["name"] == "Ann Example"
    assert (entry["patient_id"], entry["revisions"], entry["twins"]) == ("A-1", 2, [])

    assert cli.main(["cases", "--history", "Ann Example", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)["revisions"]
    assert [r["revision"] for r in history] == [2, 1]

    assert cli.main(["cases", "--restore", case.id, "--revision", "1"]) == 0
    assert "restored as revision 3" in capsys.readouterr().out
    assert CaseLibrary().load(case.id).clinical["age_y"] == 50

    assert cli.main(["cases", "--restore", case.id]) == 2  # --revision missing
    assert cli.main(["cases", "--restore", case.id, "--revision", "9"]) == 2
    assert "no revision 9" in capsys.readouterr().err
