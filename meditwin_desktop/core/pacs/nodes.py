"""The PACS nodes the user configured and our own AE: `pacs.json` in the data folder.

Nothing is ever sent to a node the user did not enter here. The file is written atomically
with mode 0600 (it names hospital hosts, not patients).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from meditwin_desktop.core.atomic import write_text_atomic
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.paths import data_dir

SETTINGS_FILE = "pacs.json"
SETTINGS_VERSION = 1
RETRIEVE_METHODS = ("get", "move")
_AE_CHARS = re.compile(r"^[\x20-\x5b\x5d-\x7e]+$")  # PS3.5 AE: no backslash, no control chars


@dataclass(frozen=True)
class Node:
    """A remote DICOM node (a PACS)."""

    name: str  # what the user calls it ("Radiology PACS")
    ae_title: str
    host: str
    port: int
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    retrieve: str = "get"  # "get" | "move"
    identifiable_ok: bool = False  # the user confirmed sending identifiable data to it


@dataclass(frozen=True)
class LocalAE:
    """This workstation as a DICOM node."""

    ae_title: str = "MEDITWIN"
    storage_port: int = 11112
    receive: bool = True  # run the storage SCP while the app is open


@dataclass
class PacsSettings:
    """Our AE and the remote nodes."""

    local: LocalAE = field(default_factory=LocalAE)
    nodes: list[Node] = field(default_factory=list)

    def node(self, name: str) -> Node:
        """The node called `name` (exact, else case-insensitive); InputError if unknown."""
        for node in self.nodes:
            if node.name == name:
                return node
        for node in self.nodes:
            if node.name.casefold() == name.casefold():
                return node
        known = ", ".join(n.name for n in self.nodes) or tr("none")
        raise InputError(
            tr("No PACS node is called '{name}' (configured: {known}).").format(
                name=name, known=known
            )
        )

    def with_node(self, node: Node) -> PacsSettings:
        """A copy with `node` added, or replacing the node of the same name."""
        nodes = [n for n in self.nodes if n.name.casefold() != node.name.casefold()]
        return PacsSettings(self.local, [*nodes, node])

    def without_node(self, name: str) -> PacsSettings:
        """A copy without the node called `name` (InputError if unknown)."""
        gone = self.node(name)
        return PacsSettings(self.local, [n for n in self.nodes if n is not gone])


def _check_ae_title(title: str, what: str) -> None:
    if not title.strip():
        raise InputError(tr("The AE title of {what} is empty.").format(what=what))
    if len(title) > 16:
        raise InputError(
            tr("The AE title '{title}' of {what} is longer than 16 characters.").format(
                title=title, what=what
            )
        )
    if not _AE_CHARS.match(title):
        raise InputError(
            tr(
                "The AE title '{title}' of {what} may hold only letters, digits, spaces and "
                "punctuation (no backslash)."
            ).format(title=title, what=what)
        )


def _check_port(port: object, what: str) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(
            tr("The port {port} of {what} is not a port number (1 to 65535).").format(
                port=port, what=what
            )
        )


def validate_node(node: Node) -> None:
    """InputError with a clinician-readable message if `node` cannot be used."""
    if not node.name.strip():
        raise InputError(tr("A PACS node needs a name."))
    what = tr("the node '{name}'").format(name=node.name)
    _check_ae_title(node.ae_title, what)
    if not node.host.strip() or any(c.isspace() for c in node.host.strip()):
        raise InputError(tr("The host of {what} is empty or has spaces.").format(what=what))
    _check_port(node.port, what)
    if node.retrieve not in RETRIEVE_METHODS:
        raise InputError(
            tr("The retrieval method of {what} must be 'get' (C-GET) or 'move' (C-MOVE).").format(
                what=what
            )
        )
    for path in (node.ca_file, node.cert_file, node.key_file) if node.tls else ():
        if path and not Path(path).is_file():
            raise InputError(
                tr("The TLS file {path} of {what} does not exist.").format(path=path, what=what)
            )
    if node.tls and bool(node.cert_file) != bool(node.key_file):
        raise InputError(
            tr("{what}: give both a certificate and its key, or neither.").format(what=what)
        )


def validate_local(local: LocalAE) -> None:
    """InputError if our own AE title or storage port cannot be used."""
    what = tr("this workstation")
    _check_ae_title(local.ae_title, what)
    _check_port(local.storage_port, what)


def settings_path() -> Path:
    return data_dir() / SETTINGS_FILE


def _node(raw: dict) -> Node:
    known = {f.name for f in fields(Node)}
    node = Node(**{k: v for k, v in raw.items() if k in known})
    validate_node(node)
    return replace(node, ae_title=node.ae_title.strip(), host=node.host.strip())


def load_settings(path: Path | None = None) -> PacsSettings:
    """The settings in `path` (default data_dir()/pacs.json); defaults if there is no file."""
    path = Path(path) if path else settings_path()
    if not path.is_file():
        return PacsSettings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        local_raw = raw.get("local", {})
        known = {f.name for f in fields(LocalAE)}
        local = LocalAE(**{k: v for k, v in local_raw.items() if k in known})
        nodes = [_node(n) for n in raw.get("nodes", [])]
    except (ValueError, TypeError, AttributeError) as error:
        raise InputError(
            tr("The PACS settings file {path} cannot be read ({reason}).").format(
                path=path, reason=error
            )
        ) from error
    validate_local(local)
    return PacsSettings(local, nodes)


def save_settings(settings: PacsSettings, path: Path | None = None) -> None:
    """Write the settings atomically, readable by the user only (0600)."""
    validate_local(settings.local)
    for node in settings.nodes:
        validate_node(node)
    names = [n.name.casefold() for n in settings.nodes]
    if len(set(names)) != len(names):
        raise InputError(tr("Two PACS nodes have the same name."))
    path = Path(path) if path else settings_path()
    document = {
        "version": SETTINGS_VERSION,
        "local": asdict(settings.local),
        "nodes": [asdict(n) for n in settings.nodes],
    }
    write_text_atomic(path, json.dumps(document, indent=2) + "\n")
    if os.name == "posix":
        os.chmod(path, 0o600)
