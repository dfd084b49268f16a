"""`meditwin pacs`: configure PACS nodes, echo, search, retrieve and send (docs/pacs.md).

    meditwin pacs nodes list | add NAME --ae AE --host HOST --port PORT [--tls ...] [--move]
                             | remove NAME | local [--ae AE] [--port PORT] [--receive on|off]
    meditwin pacs echo NODE
    meditwin pacs find NODE [--level patient|study|series] [--name --id --birth-date
        --accession --modality --from --to --study-uid] [--json]
    meditwin pacs get NODE STUDY_UID [--series UID...] [--move] [--import]
    meditwin pacs send NODE FILE... [--allow-identifiable]

Only nodes entered with `nodes add` are ever contacted. `find` prints the matches (the
user asked for them); the log keeps counts and node names only. `get` prints the folder
the study went into (`--import` also makes a case of it, as `meditwin case import`).
`send --allow-identifiable` records the consent on the node, as the GUI does.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

_MATCH_COLUMNS = {
    "PATIENT": ("patient_name", "patient_id", "birth_date", "instances"),
    "STUDY": (
        "study_date",
        "patient_name",
        "patient_id",
        "accession",
        "modalities",
        "study_description",
        "instances",
        "study_uid",
    ),
    "SERIES": ("series_number", "modality", "series_description", "instances", "series_uid"),
}


def add_parser(commands) -> None:
    """Add `pacs` to the `meditwin` parser."""
    pacs = commands.add_parser("pacs", help="query, retrieve from and send to a PACS")
    actions = pacs.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    nodes = actions.add_parser("nodes", help="list, add or remove PACS nodes; our own AE")
    what = nodes.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    what.add_parser("list", help="the nodes and this workstation's AE")
    add = what.add_parser("add", help="add (or replace) a node")
    add.add_argument("name", help="what you call it, e.g. 'Radiology PACS'")
    add.add_argument("--ae", required=True, help="its AE title")
    add.add_argument("--host", required=True, help="its host name or address")
    add.add_argument("--port", required=True, type=int, help="its DICOM port")
    add.add_argument("--move", action="store_true", help="retrieve by C-MOVE (default C-GET)")
    add.add_argument("--tls", action="store_true", help="DICOM over TLS")
    add.add_argument("--ca", default="", help="TLS: the CA certificate file (PEM)")
    add.add_argument("--cert", default="", help="TLS: our certificate (PEM)")
    add.add_argument("--key", default="", help="TLS: our private key (PEM)")
    remove = what.add_parser("remove", help="remove a node")
    remove.add_argument("name")
    local = what.add_parser("local", help="show or set this workstation's AE")
    local.add_argument("--ae", help="our AE title")
    local.add_argument("--port", type=int, help="the port we receive studies on")
    local.add_argument("--receive", choices=("on", "off"), help="receive studies (C-MOVE)")

    echo = actions.add_parser("echo", help="check that a node answers (C-ECHO)")
    echo.add_argument("node")
    echo.add_argument("--timeout", type=float, default=5.0, help="seconds (5)")

    find = actions.add_parser("find", help="search a node (C-FIND)")
    find.add_argument("node")
    find.add_argument("--level", default="study", choices=("patient", "study", "series"))
    find.add_argument("--name", default="", help="patient name (DOE finds DOE^JOHN; * and ?)")
    find.add_argument("--id", default="", help="patient ID")
    find.add_argument("--birth-date", default="", help="YYYYMMDD")
    find.add_argument("--accession", default="", help="accession number")
    find.add_argument("--modality", default="", help="CT, MR...")
    find.add_argument("--from", dest="date_from", default="", help="study date from, YYYYMMDD")
    find.add_argument("--to", dest="date_to", default="", help="study date to, YYYYMMDD")
    find.add_argument("--study-uid", default="", help="the study (series level)")
    find.add_argument("--json", action="store_true", help="print JSON")
    find.add_argument("--timeout", type=float, default=30.0, help="seconds (30)")

    get = actions.add_parser("get", help="retrieve a study or some of its series")
    get.add_argument("node")
    get.add_argument("study_uid")
    get.add_argument("--series", nargs="+", default=None, metavar="UID", help="only these")
    get.add_argument("--move", action="store_true", help="by C-MOVE (to our storage port)")
    get.add_argument(
        "--import",
        dest="import_case",
        action="store_true",
        help="also make a case of it in the library",
    )
    get.add_argument("--timeout", type=float, default=60.0, help="seconds (60)")

    send = actions.add_parser("send", help="send DICOM files to a node (C-STORE)")
    send.add_argument("node")
    send.add_argument("files", nargs="+", type=Path, metavar="FILE")
    send.add_argument(
        "--allow-identifiable",
        action="store_true",
        help="confirm this node may receive identifiable data (remembered)",
    )
    send.add_argument("--timeout", type=float, default=60.0, help="seconds (60)")


def pacs_command(args: argparse.Namespace) -> int:
    """Run one `meditwin pacs` action."""
    from meditwin_desktop.core import pacs

    settings = pacs.load_settings()
    action = args.pacs_command
    if action == "nodes":
        return _nodes(args, settings)
    node = settings.node(args.node)
    if action == "echo":
        seconds = pacs.echo(node, settings.local, timeout=args.timeout)
        print(f"{node.name} answered in {seconds * 1000:.0f} ms")
        return 0
    if action == "find":
        return _find(args, node, settings.local)
    if action == "get":
        return _get(args, node, settings.local, settings)
    return _send(args, node, settings)


def _nodes(args: argparse.Namespace, settings) -> int:
    from meditwin_desktop.core import pacs

    command = args.nodes_command
    if command == "add":
        node = pacs.Node(
            args.name,
            args.ae,
            args.host,
            args.port,
            tls=args.tls,
            ca_file=args.ca,
            cert_file=args.cert,
            key_file=args.key,
            retrieve="move" if args.move else "get",
        )
        pacs.validate_node(node)
        pacs.save_settings(settings.with_node(node))
        print(f"added {node.name}")
        return 0
    if command == "remove":
        pacs.save_settings(settings.without_node(args.name))
        print(f"removed {args.name}")
        return 0
    if command == "local":
        changes = {
            "ae_title": args.ae,
            "storage_port": args.port,
            "receive": None if args.receive is None else args.receive == "on",
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if changes:
            settings = pacs.PacsSettings(replace(settings.local, **changes), settings.nodes)
            pacs.save_settings(settings)
    local = settings.local
    receive = f"receives on port {local.storage_port}" if local.receive else "does not receive"
    print(f"this workstation: AE {local.ae_title}, {receive}")
    if command == "list":
        for node in settings.nodes:
            extra = " TLS" if node.tls else ""
            consent = " identifiable-ok" if node.identifiable_ok else ""
            print(
                f"{node.name}: {node.ae_title}@{node.host}:{node.port} "
                f"{node.retrieve.upper()}{extra}{consent}"
            )
    return 0


def _find(args: argparse.Namespace, node, local) -> int:
    from meditwin_desktop.core import pacs

    keys = pacs.QueryKeys(
        patient_name=args.name,
        patient_id=args.id,
        birth_date=args.birth_date,
        accession=args.accession,
        modality=args.modality,
        date_from=args.date_from,
        date_to=args.date_to,
        study_uid=args.study_uid,
    )
    level = args.level.upper()
    matches = pacs.find(node, local, level, keys, timeout=args.timeout)
    if args.json:
        print(json.dumps([asdict(m) for m in matches], indent=2, ensure_ascii=False))
        return 0
    columns = _MATCH_COLUMNS[level]
    rows = [
        [str(getattr(m, c) if getattr(m, c) is not None else "") for c in columns] for m in matches
    ]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(matches)} match{'es' if len(matches) != 1 else ''}", file=sys.stderr)
    return 0


def _get(args: argparse.Namespace, node, local, settings) -> int:
    from meditwin_desktop.core import pacs

    def progress(fraction: float, message: str) -> None:
        print(f"\r{fraction:4.0%} {message}".ljust(60), end="", file=sys.stderr, flush=True)

    server = None
    if args.move:
        accept = [n.ae_title for n in settings.nodes]
        server = pacs.StorageServer(local, accept)
        server.start()
    try:
        result = pacs.retrieve(
            node,
            local,
            args.study_uid,
            args.series,
            method="move" if args.move else None,
            server=server,
            progress=progress,
            timeout=args.timeout,
        )
    finally:
        print(file=sys.stderr)
        if server is not None:
            server.stop()
    failed = f", {result.failed} failed" if result.failed else ""
    print(f"{result.files} files{failed}", file=sys.stderr)
    print(result.folder)
    if args.import_case:
        from meditwin_desktop.core.case_import import case_from
        from meditwin_desktop.core.store import CaseLibrary

        case = case_from(result.folder)
        CaseLibrary().save(case, f"retrieved from {node.name}")
        print(f"{case.id}  ({len(case.studies)} studies)")
    return 1 if result.failed else 0


def _send(args: argparse.Namespace, node, settings) -> int:
    from meditwin_desktop.core import pacs

    if args.allow_identifiable and not node.identifiable_ok:
        node = replace(node, identifiable_ok=True)
        pacs.save_settings(settings.with_node(node))
    result = pacs.send(node, settings.local, list(args.files), timeout=args.timeout)
    failed = f", {result.failed} failed ({result.reason})" if result.failed else ""
    print(f"{result.sent} sent to {node.name}{failed}")
    return 1 if result.failed else 0
