"""`meditwin verify`, `meditwin check-twin` and `meditwin twin new`: twins' credibility.

- `verify [TWIN ...] [--json] [--quick] [--report FILE.pdf]` runs the installed twins'
  verification cases (every twin when none is named; `--quick`: not the heavy ones) and
  prints per case its verdict, name, quantity, value, unit, reference, tolerance and
  source. `--json`: {"twins": [{"id", "version", "cases": [{"name", "quantity", "value",
  "unit", "reference", "tolerance", "source", "passed"}], "skipped": [names]}]}, the
  tolerance as the allowed deviation in the case's unit, value null when the case failed
  to compute (its error then goes to stderr). `--report` also writes the installation
  verification evidence as PDF. Exit 0 when every case passed, else 1.
- `check-twin NAME [--json]` checks an installed twin's conformance (`core.twin_check`);
  the determinism run uses the first demo case the twin fits. Exit 0 "OK", 1 the problems.
- `twin new NAME [--out DIR]` writes the template twin as the package folder DIR/NAME.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.registry import Registry, discover
from meditwin_desktop.core.twin import Twin

TEMPLATE_SUFFIX = ".tmpl"


def add_parser(commands) -> None:
    """Add `verify`, `check-twin` and `twin` to the `meditwin` parser."""
    verify = commands.add_parser(
        "verify",
        help="run the installed twins' verification cases (installation evidence)",
        description="Run each installed twin's verification cases (published results and "
        "analytic solutions) on this installation. Exit 0 when all pass, 1 otherwise.",
    )
    verify.add_argument("twins", nargs="*", metavar="TWIN", help="twin ids (default: all)")
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.add_argument(
        "--quick",
        action="store_true",
        help="skip the heavy cases (minutes each, e.g. the cardiac tissue benchmark at 0.1 mm)",
    )
    verify.add_argument(
        "--report",
        type=Path,
        metavar="FILE.pdf",
        help="also write the verification evidence as PDF",
    )

    check = commands.add_parser(
        "check-twin",
        help="check an installed twin's conformance to the twin contract",
        description="Check metadata, parameters, outcomes, requirements, verification cases, "
        "that simulate pickles and is deterministic, and the README's sections.",
    )
    check.add_argument("name", metavar="NAME", help="twin id (see `meditwin twins`)")
    check.add_argument("--json", action="store_true", help="print JSON")

    twin = commands.add_parser("twin", help="write a new twin from the template")
    actions = twin.add_subparsers(dest="twin_command", metavar="ACTION", required=True)
    new = actions.add_parser(
        "new",
        help="write the template twin as a new package folder",
        description="Write a complete small twin (model, verification case, README, tests) "
        "as the package folder DIR/NAME, ready for `meditwin check-twin` and `verify`.",
    )
    new.add_argument("name", metavar="NAME", help="package name (lower case, digits, _)")
    new.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="existing folder to write into (default: the current one)",
    )


def _registry() -> Registry:
    registry = discover()
    for problem in registry.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return registry


def _twin(registry: Registry, name: str) -> Twin:
    try:
        return registry.get(name)
    except KeyError as error:
        raise InputError(error.args[0]) from None


# -- verify -----------------------------------------------------------------------------------


def verify_command(args: argparse.Namespace) -> int:
    """Run the verification cases; print them; write the PDF if asked."""
    from meditwin_desktop.core.output_paths import output_file
    from meditwin_desktop.core.verification import case_lines, verify_twin, write_evidence

    report = output_file(args.report, ".pdf") if args.report is not None else None
    registry = _registry()
    names = list(dict.fromkeys(args.twins)) or sorted(registry.twins)
    twins = [_twin(registry, name) for name in names]
    if not twins:
        raise InputError("No twins are installed: nothing to verify.")

    def show(result) -> None:
        if not args.json:
            print("\n".join(case_lines(result)), flush=True)

    results = []
    for twin in twins:
        if not args.json:
            print(f"{twin.id} {twin.version} — {twin.title}", flush=True)
            if not twin.verification:
                print("      declares no verification cases")
        results.append(verify_twin(twin, show, quick=args.quick))
        skipped = [c.name for c in twin.verification if c.heavy and args.quick]
        if skipped and not args.json:
            print(f"      skipped (heavy, run without --quick): {', '.join(skipped)}")
        if not args.json:
            print()
    cases = [c for r in results for c in r.cases]
    failed = [c for c in cases if not c.passed]
    if args.json:
        from meditwin_desktop.core.verification import as_json

        print(json.dumps(as_json(results), indent=2))
        for verification in results:
            for case in verification.cases:
                if case.error:
                    print(
                        f"meditwin: {verification.id}: '{case.name}' failed: {case.error}",
                        file=sys.stderr,
                    )
    else:
        print(
            f"{len(cases) - len(failed)} of {len(cases)} verification cases passed"
            + (f"; failed: {', '.join(c.name for c in failed)}" if failed else ".")
        )
    if report is not None:
        path = write_evidence(report, results, registry.problems)
        print(f"Verification evidence written to {path}", file=sys.stderr)
    unverified = [r.id for r in results if not r.cases]  # none declared, or all skipped
    if unverified:  # nothing checked is not a pass
        print(f"meditwin: not verified (no verification cases): {', '.join(unverified)}",
              file=sys.stderr)  # fmt: skip
    return 0 if not failed and not unverified else 1


# -- check-twin -------------------------------------------------------------------------------


def demo_cases() -> Iterator[tuple[str, Any]]:
    """The demo cases, those without files first (a CT or an EEG is made on first use)."""
    from meditwin_desktop.demo.case import DEMO_CASES, demo_case

    def written(name: str) -> tuple[bool, bool]:
        return bool(DEMO_CASES[name]["image"]), bool(DEMO_CASES[name].get("recordings"))

    for name in sorted(DEMO_CASES, key=written):
        yield f"demo {name}", demo_case(name)


def check_twin_command(args: argparse.Namespace) -> int:
    """Check one installed twin; print OK or its problems."""
    from meditwin_desktop.core.twin_check import check_twin

    twin = _twin(_registry(), args.name)
    report = check_twin(twin, demo_cases)
    if args.json:
        print(
            json.dumps(
                {
                    "id": report.twin_id,
                    "version": report.version,
                    "ok": report.ok,
                    "problems": report.problems,
                    "notes": report.notes,
                },
                indent=2,
            )
        )
    else:
        count = len(report.problems)
        verdict = "OK" if report.ok else f"{count} problem{'s' if count > 1 else ''}"
        print(f"{twin.id} {twin.version}: {verdict}")
        print("".join(f"  - {problem}\n" for problem in report.problems), end="")
        print("".join(f"  note: {note}\n" for note in report.notes), end="")
    return 0 if report.ok else 1


# -- twin new ---------------------------------------------------------------------------------


def template_files() -> dict[str, str]:
    """The template twin: relative path (without `.tmpl`) -> text with `{{name}}`s."""
    root = resources.files("meditwin_desktop.resources").joinpath("twin_template")
    files: dict[str, str] = {}

    def walk(folder, prefix: str) -> None:
        for item in folder.iterdir():
            if item.is_dir():
                walk(item, f"{prefix}{item.name}/")
            elif item.name.endswith(TEMPLATE_SUFFIX):
                files[prefix + item.name[: -len(TEMPLATE_SUFFIX)]] = item.read_text("utf-8")

    walk(root, "")
    return files


def package_name_problem(name: str) -> str:
    """Why `name` cannot be a new twin's package name ('' when it can)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return "must start with a lower-case letter and hold only a-z, 0-9 and _"
    if keyword.iskeyword(name) or name in sys.stdlib_module_names:
        return "is a Python keyword or standard module"
    if name in ("meditwin_desktop", "meditwin_twins", "tests", "numpy", "scipy"):
        return "is taken"
    return ""


def new_twin(name: str, out: Path | str) -> Path:
    """Write the template as the package folder out/name (refused when it exists)."""
    from meditwin_desktop.core.output_paths import output_folder

    problem = package_name_problem(name)
    if problem:
        raise InputError(f"The twin's name '{name}' {problem}.")
    folder = output_folder(out)
    target = folder / name
    if target.exists() or target.is_symlink():
        raise InputError(f"{target} already exists; choose another name or folder.")
    title = name.replace("_", " ").capitalize()
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
    try:
        for relative, text in template_files().items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                text.replace("{{name}}", name).replace("{{title}}", title), encoding="utf-8"
            )
        if target.exists():  # made meanwhile
            raise InputError(f"{target} already exists; choose another name or folder.")
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def twin_command(args: argparse.Namespace) -> int:
    """`twin new NAME`: write the template."""
    target = new_twin(args.name, args.out)
    print(f"Wrote the twin '{args.name}' to {target}")
    print(
        f"Try it: MEDITWIN_EXTRA_TWINS={args.name}:TWIN PYTHONPATH={target.parent} "
        f"meditwin check-twin {args.name}"
    )
    print(
        f'Install it: declare {args.name} = "{args.name}:TWIN" under '
        '[project.entry-points."meditwin.twins"] in your pyproject.toml (see its README).'
    )
    return 0
