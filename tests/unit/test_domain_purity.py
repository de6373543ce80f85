"""The domain imports nothing of Teams, Graph, SQL or HTTP."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "mediation"
ALLOWED_THIRD_PARTY: set[str] = set()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "the domain package is missing"
    for path in files:
        foreign = {
            name
            for name in _imports(path)
            if name != "mediation"
            and name not in sys.stdlib_module_names
            and name not in ALLOWED_THIRD_PARTY
        }
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_the_check_would_catch_an_adapter_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom botbuilder.core import TurnContext\n")
    assert {"sqlalchemy", "botbuilder"} <= _imports(bad)
