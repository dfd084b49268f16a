"""DICOM networking against a real PACS: Orthanc on loopback (tests/support/orthanc.py),
loaded with the demo patient's CT. Echo, refusal, unreachable and silent nodes; C-FIND at
each level; C-GET and C-MOVE into the local folder (which opens as a case); cancel; send
with and without consent; the command line; no patient data in any log record.
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from meditwin_desktop.core.errors import Cancelled, IdentifiableDataError
from meditwin_desktop.core.pacs import (
    LocalAE,
    Node,
    PacsRefused,
    PacsTimeout,
    PacsUnreachable,
    QueryKeys,
    StorageServer,
    echo,
    find,
    retrieve,
    send,
)
from meditwin_desktop.core.pacs.received import TEMP_PREFIX, retrieval_folder
from tests.support.orthanc import LOCAL_AET, free_port, running_orthanc

DEMO_DATE = "20260101"


@pytest.fixture(scope="module")
def scp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, scp_port):
    """This module's own Orthanc (the shared `orthanc` fixture may hold other files' data)."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc"), scp_port) as server:
        yield server


@pytest.fixture(scope="module")
def loaded(orthanc, demo_patient):
    """Orthanc holding the demo CT; the demo's files, identifiers and study UID."""
    files = sorted(p for p in demo_patient.dicom_dir.iterdir() if p.is_file())
    orthanc.upload(files)
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    return {
        "files": files,
        "name": str(first.PatientName),
        "id": str(first.PatientID),
        "birth": str(first.PatientBirthDate),
        "study": str(first.StudyInstanceUID),
        "series": str(first.SeriesInstanceUID),
    }


@pytest.fixture
def node(orthanc) -> Node:
    return Node("Test PACS", orthanc.aet, "127.0.0.1", orthanc.dicom_port)


@pytest.fixture
def local(scp_port) -> LocalAE:
    return LocalAE(LOCAL_AET, scp_port)


def _clear(study_uid: str) -> Path:
    folder = retrieval_folder(study_uid)
    for path in folder.iterdir():
        path.unlink()
    return folder


def test_echo_answers(node, local):
    assert echo(node, local) > 0


def test_a_wrong_called_ae_title_is_refused(node, local):
    with pytest.raises(PacsRefused) as caught:
        echo(replace(node, ae_title="NOT-ORTHANC"), local)
    assert '"MEDITWIN"' in str(caught.value) and '"NOT-ORTHANC"' in str(caught.value)


def test_an_unknown_calling_ae_may_echo_but_not_search(node, loaded):
    stranger = LocalAE("STRANGER", 1)
    assert echo(node, stranger) > 0  # DicomAlwaysAllowEcho
    with pytest.raises(PacsRefused, match="STRANGER"):
        find(node, stranger, "STUDY", QueryKeys(), timeout=5)


def test_a_closed_port_is_unreachable(node, local):
    with pytest.raises(PacsUnreachable, match=r"Nothing answers at 127\.0\.0\.1:\d+"):
        echo(replace(node, port=free_port()), local, timeout=5)


def test_an_unknown_host_name_is_unreachable(node, local):
    with pytest.raises(PacsUnreachable, match=r"no-such-pacs\.invalid of Test PACS cannot be"):
        echo(replace(node, host="no-such-pacs.invalid"), local, timeout=5)


def test_a_node_that_never_answers_times_out(node, local):
    with socket.socket() as silent:  # the kernel accepts the connection; nobody speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(PacsTimeout, match="did not answer within 1 s"):
            echo(replace(node, port=silent.getsockname()[1]), local, timeout=1)


def test_find_at_each_level(node, local, loaded):
    patients = find(node, local, "PATIENT", QueryKeys(patient_id=loaded["id"]))
    assert [(p.patient_name, p.birth_date) for p in patients] == [(loaded["name"], loaded["birth"])]
    prefix = loaded["name"].split("^")[0].lower()  # typed without wildcard, any case
    studies = find(node, local, "STUDY", QueryKeys(patient_name=prefix))
    assert [s.study_uid for s in studies] == [loaded["study"]]
    assert studies[0].study_date == DEMO_DATE and studies[0].instances == len(loaded["files"])
    series = find(node, local, "SERIES", QueryKeys(study_uid=loaded["study"]))
    assert [(s.series_uid, s.modality) for s in series] == [(loaded["series"], "CT")]
    assert series[0].instances == len(loaded["files"])


@pytest.mark.parametrize(
    ("keys", "found"),
    [
        (QueryKeys(date_from="20251201", date_to="2026-01-31"), True),
        (QueryKeys(date_from="20260102"), False),
        (QueryKeys(date_to="20251231"), False),
        (QueryKeys(date_from=DEMO_DATE, date_to=DEMO_DATE, modality="CT"), True),
        (QueryKeys(modality="MR"), False),
        (QueryKeys(patient_id="MEDITWIN-DEMO"), False),  # IDs match exactly
        (QueryKeys(patient_name="NOBODY"), False),
    ],
)
def test_study_keys_filter(node, local, loaded, keys, found):
    studies = find(node, local, "STUDY", keys)
    assert (loaded["study"] in {s.study_uid for s in studies}) is found


def _pixels(path: Path) -> np.ndarray:
    return pydicom.dcmread(path).pixel_array


def test_c_get_brings_the_study_which_opens_as_a_case(node, local, loaded):
    from meditwin_desktop.core.case_import import case_from

    folder = _clear(loaded["study"])
    reports = []
    result = retrieve(node, local, loaded["study"], progress=lambda f, m: reports.append(f))
    assert result.folder == folder and result.failed == 0
    assert result.files == len(loaded["files"]) == len(list(folder.glob("*.dcm")))
    assert result.series == [loaded["series"]]
    assert reports and reports[-1] == 1.0 and reports == sorted(reports)
    for original in loaded["files"][:: max(1, len(loaded["files"]) // 8)]:
        uid = str(pydicom.dcmread(original, stop_before_pixels=True).SOPInstanceUID)
        assert np.array_equal(_pixels(folder / f"{uid}.dcm"), _pixels(original))
    case = case_from(folder)
    assert len(case.studies) == 1


def test_c_move_through_our_storage_server(node, local, loaded, orthanc):
    folder = _clear(loaded["study"])
    server = StorageServer(local, accept_from=[orthanc.aet])
    with pytest.raises(Exception, match="turn on receiving"):
        retrieve(node, local, loaded["study"], method="move", server=server)
    server.start()
    try:
        result = retrieve(node, local, loaded["study"], method="move", server=server)
    finally:
        server.stop()
    assert not server.running
    assert result.files == len(loaded["files"]) == len(list(folder.glob("*.dcm")))
    assert result.failed == 0 and result.series == [loaded["series"]]
    one = loaded["files"][len(loaded["files"]) // 2]
    uid = str(pydicom.dcmread(one, stop_before_pixels=True).SOPInstanceUID)
    assert np.array_equal(_pixels(folder / f"{uid}.dcm"), _pixels(one))


def test_storage_server_refuses_a_port_in_use(local):
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        server = StorageServer(replace(local, storage_port=taken.getsockname()[1]))
        with pytest.raises(Exception, match="cannot receive studies on port"):
            server.start()
        assert not server.running


def test_cancel_mid_retrieval_leaves_only_whole_files(node, local, loaded):
    folder = _clear(loaded["study"])

    def cancelled() -> bool:
        return any(folder.glob("*.dcm"))  # true once the first file is in

    with pytest.raises(Cancelled):
        retrieve(node, local, loaded["study"], cancelled=cancelled)
    files = list(folder.iterdir())
    assert 1 <= len(files) < len(loaded["files"])
    assert not [f for f in files if f.name.startswith(TEMP_PREFIX)]
    for path in files:
        assert pydicom.dcmread(path).pixel_array.shape == (256, 256)  # whole, decodable
    assert echo(node, local) > 0  # the node is fine afterwards


def test_cancel_a_c_move(node, local, loaded, orthanc):
    folder = _clear(loaded["study"])
    server = StorageServer(local, accept_from=[orthanc.aet])
    server.start()
    try:
        with pytest.raises(Cancelled):
            retrieve(node, local, loaded["study"], method="move", server=server,
                     cancelled=lambda: any(folder.glob("*.dcm")))  # fmt: skip
    finally:
        server.stop()
    files = list(folder.iterdir())
    assert len(files) < len(loaded["files"])
    assert not [f for f in files if f.name.startswith(TEMP_PREFIX)]


def _copy(path: Path, folder: Path, *, who: str) -> Path:
    """A copy of a demo file as a new study: `who` "anonymous" (no name, ID, birth date),
    "other" (another patient's) or "demo" (the demo patient's, as uploaded)."""
    ds = pydicom.dcmread(path)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    if who == "anonymous":
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "", "", ""
    elif who == "other":
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "OTHER^PATIENT", "OTHER-1", "19700101"
    out = folder / f"{ds.SOPInstanceUID}.dcm"
    ds.save_as(out, enforce_file_format=True)
    return out


def _in_orthanc(server, sop_uid: str) -> bool:
    found = server.rest("/tools/find", {"Level": "Instance", "Query": {"SOPInstanceUID": sop_uid}})
    return bool(found)


def test_send_stores_in_the_pacs(node, local, loaded, orthanc, tmp_path):
    path = _copy(loaded["files"][0], tmp_path, who="anonymous")
    dataset = pydicom.dcmread(_copy(loaded["files"][1], tmp_path, who="anonymous"))
    reports = []
    result = send(node, local, [path, dataset], progress=lambda f, m: reports.append(f))
    assert (result.sent, result.failed) == (2, 0) and reports[-1] == 1.0
    assert _in_orthanc(orthanc, pydicom.dcmread(path).SOPInstanceUID)
    assert _in_orthanc(orthanc, dataset.SOPInstanceUID)


def test_identifiable_data_needs_consent(node, local, loaded, orthanc, tmp_path):
    path = _copy(loaded["files"][2], tmp_path, who="other")
    uid = pydicom.dcmread(path).SOPInstanceUID
    before = len(orthanc.rest("/instances"))
    with pytest.raises(IdentifiableDataError, match="Test PACS"):
        send(node, local, [path])
    assert len(orthanc.rest("/instances")) == before and not _in_orthanc(orthanc, uid)
    assert send(replace(node, identifiable_ok=True), local, [path]).sent == 1
    assert _in_orthanc(orthanc, uid)


def test_no_patient_data_in_any_log_record(node, local, loaded, orthanc, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    find(node, local, "STUDY", QueryKeys(patient_id=loaded["id"]))
    find(node, local, "SERIES", QueryKeys(study_uid=loaded["study"]))
    _clear(loaded["study"])
    messages = []  # chosen series are retrieved one by one, each reported
    result = retrieve(node, local, loaded["study"], [loaded["series"]] * 2,
                      progress=lambda f, m: messages.append(m))  # fmt: skip
    assert result.series == [loaded["series"]] * 2
    assert any("Series 2 of 2" in m for m in messages)
    path = _copy(loaded["files"][3], tmp_path, who="demo")
    send(replace(node, identifiable_ok=True), local, [path])
    sop_uid = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    for instance in orthanc.rest(
        "/tools/find", {"Level": "Instance", "Query": {"SOPInstanceUID": sop_uid}}
    ):
        orthanc.rest(f"/instances/{instance}", method="DELETE")  # the demo has one study again
    assert caplog.records  # our own records (counts, node names) are there
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (*loaded["name"].split("^"), loaded["id"], loaded["birth"], loaded["study"]):
        assert secret not in text


def _cli(*argv: str) -> int:
    from meditwin_desktop.cli import main

    return main(list(argv))


def test_command_line(node, loaded, orthanc, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path / "home"))
    port = str(orthanc.dicom_port)
    assert _cli("pacs", "nodes", "add", "Orthanc", "--ae", "ORTHANC", "--host", "127.0.0.1",
                "--port", port) == 0  # fmt: skip
    assert _cli("pacs", "nodes", "add", "Bad", "--ae", "A" * 17, "--host", "h", "--port", "1") == 2
    assert "longer than 16" in capsys.readouterr().err
    assert _cli("pacs", "nodes", "list") == 0
    assert f"ORTHANC@127.0.0.1:{port} GET" in capsys.readouterr().out
    assert _cli("pacs", "echo", "orthanc") == 0
    assert "Orthanc answered in" in capsys.readouterr().out
    assert _cli("pacs", "find", "Orthanc", "--id", loaded["id"], "--json") == 0
    matches = json.loads(capsys.readouterr().out)
    assert [m["study_uid"] for m in matches] == [loaded["study"]]
    assert _cli("pacs", "find", "Orthanc", "--level", "series", "--study-uid",
                loaded["study"]) == 0  # fmt: skip
    assert loaded["series"] in capsys.readouterr().out
    assert _cli("pacs", "get", "Orthanc", loaded["study"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder.parent == tmp_path / "home" / "data" / "pacs"
    assert len(list(folder.glob("*.dcm"))) == len(loaded["files"])
    assert _cli("pacs", "echo", "Nowhere") == 2
    assert "No PACS node is called 'Nowhere'" in capsys.readouterr().err
    assert _cli("pacs", "nodes", "remove", "Orthanc") == 0
    assert json.loads((tmp_path / "home" / "data" / "pacs.json").read_text())["nodes"] == []
