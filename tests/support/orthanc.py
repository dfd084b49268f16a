"""A real PACS for the tests: Orthanc (Debian package `orthanc`) on loopback.

`start_orthanc(tmp_dir, modalities={"meditwin": ("MEDITWIN", "127.0.0.1", port)})` writes a
temporary configuration and storage folder under `tmp_dir`, starts /usr/sbin/Orthanc on free
loopback ports, waits until its REST API answers and returns an `OrthancServer`
(`.dicom_port`, `.http_port`, `.aet`, `.upload(paths)`, `.rest(path)`, `.stop()`). The
registered modalities may echo, find, get, move and store; anyone else is refused a
C-FIND/C-GET/C-MOVE, and a wrong called AE title is refused. The `orthanc` fixture (session
scope, one server per test worker) skips when Orthanc is not installed; `running_orthanc`
makes a private one (tests/unit/test_pacs.py uses its own, so that what other test files
send to the shared one cannot change its counts).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ORTHANC = Path("/usr/sbin/Orthanc")
AET = "ORTHANC"
LOCAL_AET = "MEDITWIN"  # the AE title the tests' LocalAE uses


def free_port() -> int:
    """A TCP port nothing listens on now (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OrthancServer:
    """A running Orthanc with its own configuration, storage and log under `folder`."""

    def __init__(
        self, folder: Path, process: subprocess.Popen, dicom_port: int, http_port: int
    ) -> None:
        self.folder = folder
        self.process = process
        self.dicom_port = dicom_port
        self.http_port = http_port
        self.aet = AET

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def rest(
        self,
        path: str,
        data: bytes | dict | list | None = None,
        method: str | None = None,
        timeout: float = 60.0,
    ):
        """GET (or POST `data`: bytes as DICOM, else JSON) `path`; the answer's JSON."""
        body, headers = data, {}
        if isinstance(data, dict | list):
            body, headers = json.dumps(data).encode(), {"Content-Type": "application/json"}
        elif isinstance(data, bytes):
            headers = {"Content-Type": "application/dicom"}
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            text = answer.read()
        return json.loads(text) if text.strip() else None

    def upload(self, paths: Iterable[Path]) -> int:
        """POST each DICOM file to /instances; the number stored."""
        count = 0
        for path in paths:
            self.rest("/instances", Path(path).read_bytes())
            count += 1
        return count

    def clear(self) -> None:
        """Delete every patient (and so every study) stored."""
        for patient in self.rest("/patients"):
            self.rest(f"/patients/{patient}", method="DELETE")

    def stop(self) -> None:
        """Terminate Orthanc and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.folder / "orthanc.log"
        return path.read_text(errors="replace") if path.is_file() else ""


def start_orthanc(
    tmp_dir: Path,
    *,
    modalities: dict[str, tuple[str, str, int]] | None = None,
) -> OrthancServer:
    """Start Orthanc in `tmp_dir` (configuration, storage, log); see the module docstring."""
    tmp_dir = Path(tmp_dir)
    (tmp_dir / "storage").mkdir(parents=True, exist_ok=True)
    dicom_port, http_port = free_port(), free_port()
    known = {
        name: {
            "AET": aet,
            "Host": host,
            "Port": port,
            "AllowEcho": True,
            "AllowFind": True,
            "AllowGet": True,
            "AllowMove": True,
            "AllowStore": True,
        }
        for name, (aet, host, port) in (modalities or {}).items()
    }
    config = {
        "Name": "meditwin-tests",
        "StorageDirectory": str(tmp_dir / "storage"),
        "IndexDirectory": str(tmp_dir / "storage"),
        "StorageCompression": False,
        "SyncStorageArea": False,
        "Plugins": [],
        "HttpServerEnabled": True,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "SslEnabled": False,
        "WebDavEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": AET,
        "DicomPort": dicom_port,
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFind": False,
        "DicomAlwaysAllowGet": False,
        "DicomAlwaysAllowMove": False,
        "DicomModalities": known,
        "DicomModalitiesInDatabase": False,
        "DicomScuTimeout": 10,
        "MaximumPduLength": 131072,
        "DeidentifyLogs": True,
        "StorageAccessOnFind": "Never",
        "ConcurrentJobs": 2,
        "HttpThreadsCount": 4,
        "DicomThreadsCount": 4,
    }
    config_path = tmp_dir / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = open(tmp_dir / "orthanc.log", "wb")  # noqa: SIM115 - Orthanc writes it until stop
    try:
        process = subprocess.Popen(
            [str(ORTHANC), str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_dir,
            env={**os.environ, "LC_ALL": "C"},
        )
    finally:
        log.close()
    server = OrthancServer(tmp_dir, process, dicom_port, http_port)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc stopped at start:\n{server.log()[-3000:]}")
        try:
            server.rest("/system", timeout=1)
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"Orthanc did not answer:\n{server.log()[-3000:]}") from None
            time.sleep(0.05)


def orthanc_available() -> bool:
    return ORTHANC.is_file() and os.access(ORTHANC, os.X_OK)


@contextmanager
def running_orthanc(tmp_dir: Path, scp_port: int) -> Iterator[OrthancServer]:
    """An Orthanc that knows our AE (LOCAL_AET on `scp_port`), stopped afterwards; skips
    the test when Orthanc is not installed."""
    if not orthanc_available():
        pytest.skip(f"Orthanc is not installed ({ORTHANC}): apt-get install orthanc")
    server = start_orthanc(tmp_dir, modalities={"meditwin": (LOCAL_AET, "127.0.0.1", scp_port)})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def orthanc_scp_port() -> int:
    """The port our storage SCP listens on in the tests (Orthanc's C-MOVE destination)."""
    return free_port()


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory, orthanc_scp_port) -> Iterator[OrthancServer]:
    """One Orthanc per test worker that knows our AE (LOCAL_AET on `orthanc_scp_port`)."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc"), orthanc_scp_port) as server:
        yield server
