"""PACS settings (nodes, our AE): round trip, file mode, validation messages; query keys;
the consent rule of send; all without a network."""

from __future__ import annotations

import os
import stat
from dataclasses import replace

import pytest
from pydicom.dataset import Dataset

from meditwin_desktop.core.errors import IdentifiableDataError, InputError
from meditwin_desktop.core.pacs import (
    LocalAE,
    Node,
    PacsError,
    PacsSettings,
    QueryKeys,
    is_identifiable,
    load_settings,
    retrieve,
    save_settings,
    send,
    validate_node,
)
from meditwin_desktop.core.pacs.query import date_range, query_dataset
from meditwin_desktop.core.pacs.received import file_name

NODE = Node("Radiology PACS", "PACS1", "pacs.example.org", 104)


def test_settings_round_trip_private_file(tmp_path):
    path = tmp_path / "pacs.json"
    settings = PacsSettings(
        LocalAE("WS-7", 11113, receive=False),
        [NODE, Node("Research", "RES", "10.0.0.2", 4242, retrieve="move", identifiable_ok=True)],
    )
    save_settings(settings, path)
    assert load_settings(path) == settings
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(path).node("research").retrieve == "move"


def test_no_file_means_defaults_and_no_node(tmp_path):
    settings = load_settings(tmp_path / "absent.json")
    assert settings.local == LocalAE() and settings.nodes == []


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (Node("X", "A" * 17, "h", 104), "longer than 16 characters"),
        (Node("X", "", "h", 104), "AE title of the node 'X' is empty"),
        (Node("X", "BAD\\AE", "h", 104), "no backslash"),
        (Node("X", "AE", "h", 0), "not a port number"),
        (Node("X", "AE", "h", 70000), "not a port number"),
        (Node("X", "AE", "", 104), "host of the node 'X' is empty"),
        (Node("", "AE", "h", 104), "needs a name"),
        (Node("X", "AE", "h", 104, retrieve="push"), "'get' (C-GET) or 'move'"),
        (Node("X", "AE", "h", 104, tls=True, ca_file="/no/such.pem"), "does not exist"),
    ],
)
def test_validation_messages(node, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_node(node)


def test_bad_settings_are_not_saved(tmp_path):
    path = tmp_path / "pacs.json"
    with pytest.raises(InputError, match="not a port number"):
        save_settings(PacsSettings(LocalAE(storage_port=0), []), path)
    with pytest.raises(InputError, match="same name"):
        save_settings(PacsSettings(LocalAE(), [NODE, NODE]), path)
    assert not path.exists()


def test_unknown_node_names_the_known_ones():
    with pytest.raises(InputError, match="configured: Radiology PACS"):
        PacsSettings(LocalAE(), [NODE]).node("Cardio")
    settings = PacsSettings(LocalAE(), [NODE]).with_node(NODE.__class__("cardio", "C", "h", 1))
    assert [n.name for n in settings.without_node("RADIOLOGY PACS").nodes] == ["cardio"]


def test_a_damaged_file_is_an_input_error(tmp_path):
    path = tmp_path / "pacs.json"
    path.write_text("{not json")
    with pytest.raises(InputError, match="cannot be read"):
        load_settings(path)


def test_query_keys_become_dicom_matching():
    ds = query_dataset("study", QueryKeys(patient_name="doe", date_from="2024-01-01"))
    assert (ds.QueryRetrieveLevel, ds.PatientName, ds.StudyDate) == ("STUDY", "doe*", "20240101-")
    assert query_dataset("STUDY", QueryKeys(patient_name="DO?^J*")).PatientName == "DO?^J*"
    assert date_range("", "20240131") == "-20240131"
    assert date_range("20240101", "20240101") == "20240101"
    assert date_range("", "") == ""
    with pytest.raises(InputError, match="after the end date"):
        date_range("20240201", "20240101")
    with pytest.raises(InputError, match="not a date"):
        query_dataset("STUDY", QueryKeys(date_from="1 Jan"))
    with pytest.raises(InputError, match="needs the study"):
        query_dataset("SERIES", QueryKeys())
    series = query_dataset("SERIES", QueryKeys(study_uid="1.2.3", modality="ct"))
    assert series.Modality == "CT" and "PatientName" not in series


def test_identifiable_means_name_id_or_birth_date():
    ds = Dataset()
    assert not is_identifiable(ds)
    ds.PatientName = ""
    assert not is_identifiable(ds)
    ds.PatientBirthDate = "19610315"
    assert is_identifiable(ds)


def test_identifiable_data_is_refused_before_any_connection():
    ds = Dataset()
    ds.PatientID = "123"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4"
    nowhere = Node("Nowhere", "X", "192.0.2.1", 104)  # TEST-NET: would time out if tried
    with pytest.raises(IdentifiableDataError, match="Nowhere"):
        send(nowhere, LocalAE(), [ds], timeout=30)


def test_move_needs_the_storage_server():
    with pytest.raises(PacsError, match="turn on receiving"):
        retrieve(NODE, LocalAE(), "1.2.3", method="move", server=None)


def test_received_file_names_are_never_paths():
    assert file_name("1.2.840.1") == "1.2.840.1.dcm"
    for hostile in ("../../etc/passwd", "a/b", ""):
        name = file_name(hostile)
        assert "/" not in name and name.endswith(".dcm") and ".." not in name


def _self_signed(folder):
    """A certificate for 127.0.0.1 and its key (PEM files), made with `cryptography`."""
    import datetime as dt
    import ipaddress

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test pacs")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "pacs.pem", folder / "pacs.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def test_echo_over_tls_checks_the_certificate(tmp_path):
    import ssl

    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    from meditwin_desktop.core.pacs import echo

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    scp = AE("TLSPACS")
    scp.add_supported_context(Verification)
    server = scp.start_server(("127.0.0.1", 0), block=False, ssl_context=context)
    try:
        node = Node("TLS PACS", "TLSPACS", "127.0.0.1", server.server_address[1], tls=True,
                    ca_file=str(cert))  # fmt: skip
        assert echo(node, LocalAE(), timeout=5) > 0
        (tmp_path / "other").mkdir()
        other, _ = _self_signed(tmp_path / "other")  # another CA: not trusted
        with pytest.raises(PacsError, match="TLS"):
            echo(replace(node, ca_file=str(other)), LocalAE(), timeout=5)
        with pytest.raises(PacsError):
            echo(replace(node, tls=False), LocalAE(), timeout=2)
    finally:
        server.shutdown()


def test_a_node_without_the_service_says_so():
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    from meditwin_desktop.core.pacs import find

    scp = AE("ECHOONLY")
    scp.add_supported_context(Verification)
    server = scp.start_server(("127.0.0.1", 0), block=False)
    try:
        node = Node("Echo only", "ECHOONLY", "127.0.0.1", server.server_address[1])
        with pytest.raises(PacsError, match="does not offer study searches"):
            find(node, LocalAE(), "STUDY", QueryKeys(), timeout=5)
        with pytest.raises(PacsError, match=r"does not offer retrieval by C-GET.*C-MOVE"):
            retrieve(node, LocalAE(), "1.2.3", timeout=5)
    finally:
        server.shutdown()
