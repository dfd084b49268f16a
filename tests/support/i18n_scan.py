"""Find user-visible English text that does not go through `tr` (static, by the syntax tree).

Flags a string literal or f-string that is given to a Qt text setter or widget, to a
matplotlib label, to the report's text functions, or to an error the user reads
(`raise InputError(...)`), unless it is wrapped in `tr(...)`, `tr_n(...)` or `N_(...)`,
and `tr(f"...")` (a template must be a literal). Text with no word in it ("—", "%", "×")
and unit symbols pass. Run on files: `python -m tests.support.i18n_scan FILE...`.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

TRANSLATORS = {"tr", "tr_n", "N_"}
# methods whose string arguments the user reads
SETTERS = {
    "setText", "setToolTip", "setWindowTitle", "setPlaceholderText", "setStatusTip",
    "setTitle", "addTab", "insertTab", "setTabText", "setTabToolTip", "addAction", "addMenu",
    "setHorizontalHeaderLabels", "setVerticalHeaderLabels", "setHeaderLabels", "setHeaderLabel",
    "addItem", "addItems", "insertItem", "showMessage", "setLabelText", "setSuffix", "setPrefix",
    "setSpecialValueText", "setWhatsThis", "information", "warning", "critical", "question",
    "about", "getOpenFileName", "getSaveFileName", "getExistingDirectory", "getOpenFileNames",
    "getText", "getItem", "getInt", "getDouble", "setInformativeText", "setDetailedText",
    "addButton", "setButtonText", "set_xlabel", "set_ylabel", "set_title", "suptitle",
    "setWindowIconText", "addRow", "setAccessibleName", "setDisplayFormat", "show_message",
    "set_message", "setFormat", "setCheckBoxText", "add_section", "paragraph", "heading",
}
# widgets and objects whose constructor's string arguments the user reads
WIDGETS = {
    "QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QAction", "QToolButton",
    "QMenu", "QDockWidget", "QMessageBox", "QTableWidgetItem", "QListWidgetItem",
    "QTreeWidgetItem", "QStandardItem", "QCommandLinkButton", "QProgressDialog",
}
KEYWORDS = {
    "label", "title", "text", "tooltip", "tool_tip", "caption", "placeholder", "message",
    "warnings", "notes", "note", "reason", "absent", "xlabel", "ylabel",
}
# declarations translated where they are shown (`tr(parameter.label)`): checked from the
# twins themselves (tests/unit/test_translations.py), not here
DECLARATIONS = {
    "Parameter", "Outcome", "ClinicalField", "Twin", "Target", "VerificationCase",
    "Requirement", "Reference",
}
# lists and dicts of what the user reads: `warnings.append("...")`, `notes["x"] = "..."`
COLLECTIONS = re.compile(r"warn|note|message|problem|reason|caveat|explain", re.IGNORECASE)
ERRORS = {"InputError", "LibraryError", "CaseFileError", "DicomError", "UserError", "ImportProblem"}
# symbols and units that read the same in French and English
NEUTRAL = {
    "mm", "cm", "ml", "mL", "l", "L", "hu", "HU", "mmhg", "mmHg", "ms", "s", "µm", "um", "px",
    "kg", "g", "m", "mg", "dl", "dL", "mmol", "µmol", "min", "bpm", "w", "W", "j", "J", "°c",
    "hz", "Hz", "µv", "µV", "db", "dB", "x", "y", "z", "i", "k", "r", "a", "p", "ok",
    "id", "ct", "mr", "mri", "pet", "dicom", "pdf", "csv", "json", "png", "edf", "lps", "ras",
    "ecg", "eeg", "ldl", "hdl", "spo", "bmi", "bsa", "meditwin", "desktop", "n", "sd", "iqr",
    "nifti", "nii", "gz", "dcm", "jpg", "jpeg", "tif", "tiff", "svg", "url", "ae", "ii", "iii",
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text[:70]!r}"


def _is_linguistic(text: str) -> bool:
    words = re.findall(r"[A-Za-zÀ-ÿ]+", re.sub(r"\{[^}]*\}", " ", text))
    return any(word.lower() not in {n.lower() for n in NEUTRAL} for word in words)


def _literal_text(node: ast.AST) -> str | None:
    """The text of a literal (or f-string, concatenation) that a user would read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _is_linguistic(node.value) else None
    if isinstance(node, ast.JoinedStr):
        parts = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return parts if _is_linguistic(parts) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _literal_text(node.left) or _literal_text(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) or _literal_text(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        for item in node.elts:
            found = _literal_text(item)
            if found:
                return found
    return None


def _is_log_call(func: ast.AST) -> bool:
    """`log.warning(...)`, `logging.info(...)`: logs stay English (engineers read them)."""
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id.lower().strip("_") in {"log", "logger", "logging"})


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def scan_source(source: str, path: str = "<string>") -> list[Finding]:
    """Every untranslated user-visible literal in `source`."""
    findings: list[Finding] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in TRANSLATORS:
                for arg in node.args:
                    if isinstance(arg, ast.JoinedStr):
                        findings.append(Finding(path, node.lineno, "tr(f-string): use a template"))
                continue
            if name in DECLARATIONS or _is_log_call(node.func):
                continue
            reads = name in SETTERS or name in WIDGETS or name in ERRORS
            collects = name in {"append", "extend", "insert"} and bool(COLLECTIONS.search(
                ast.unparse(node.func.value) if isinstance(node.func, ast.Attribute) else ""))
            candidates = list(node.args) if reads or collects else []
            candidates += [k.value for k in node.keywords if k.arg in KEYWORDS]
            for arg in candidates:
                text = _literal_text(arg)
                if text:
                    findings.append(Finding(path, node.lineno, text))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and COLLECTIONS.search(ast.unparse(t.value))
            for t in node.targets
        ):
            text = _literal_text(node.value)
            if text:
                findings.append(Finding(path, node.lineno, text))
    return findings


def scan_files(paths: list[Path]) -> list[Finding]:
    findings: list[Finding] = []
    for path in paths:
        findings += scan_source(path.read_text(encoding="utf-8"), str(path))
    return findings


if __name__ == "__main__":
    results = scan_files([Path(p) for p in sys.argv[1:]])
    for finding in results:
        print(finding)
    print(f"{len(results)} untranslated", file=sys.stderr)
    sys.exit(1 if results else 0)
