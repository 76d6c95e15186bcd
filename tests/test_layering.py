"""The layers import only what DESIGN.md allows: Qt in ui/ alone, Numba in core/ alone,
and nothing below ui/ imports ui/. Checked on the source, so it also covers lazy imports."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "workbench"
QT = ("PySide6", "pyqtgraph", "superqt", "shiboken6")
# which top-level names each layer may import from the workbench package
ALLOWED = {
    "core": {"core"},
    "data": {"data", "config"},
    "config": {"config"},
    "diagnostics": {"diagnostics", "core", "data", "config", "run", "session"},
    "session": {"session", "core", "data", "config", "run", "diagnostics"},
    "run": {"run", "core", "data", "config", "diagnostics", "session"},
    "experiments": {"experiments", "run", "core", "data", "config", "session",
                    "diagnostics", "cli"},
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    rel_parts = path.relative_to(PKG).parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel_parts[:-1])[: len(rel_parts) - node.level]
                mod = ".".join(["workbench", *base] + ([node.module] if node.module else []))
                yield mod
            elif node.module:
                yield node.module


def _layer(path: Path) -> str:
    parts = path.relative_to(PKG).parts
    return parts[0] if len(parts) > 1 else path.stem


FILES = sorted(p for p in PKG.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PKG)) for p in FILES])
def test_layer_boundaries(path):
    layer = _layer(path)
    for mod in _imports(path):
        top = mod.split(".")[0]
        if layer != "ui":
            assert top not in QT, f"{path.name} imports {mod}: Qt belongs in workbench/ui"
        if layer != "core":
            assert top != "numba", f"{path.name} imports numba: it belongs in workbench/core"
        if top == "workbench" and layer in ALLOWED:
            sub = mod.split(".")[1] if "." in mod else ""
            # a package's commands.py is command-line glue and may use workbench.cli
            allowed = ALLOWED[layer] | {"resources"} | ({"cli"} if path.name == "commands.py" else set())
            assert sub in allowed or sub == "", \
                f"workbench/{layer} may not import workbench.{sub} ({path.name})"


def test_no_pickle_or_eval_in_the_package():
    for path in FILES:
        text = path.read_text()
        assert "import pickle" not in text and "allow_pickle=True" not in text, path
        assert "eval(" not in text.replace("evaluate(", "").replace("_eval(", ""), path
