"""The layer contract: who may import whom, the Bot Framework in one place, no import circles.

The layer rules see every import, wherever it stands: at module level, inside a function,
or under ``if TYPE_CHECKING:``. The circle rule sees every import that runs, function-level
ones included (a circle held together by an import inside a function is still a circle); an
import under ``TYPE_CHECKING`` never runs, and naming a type from a module that imports this
one is what it is for, so it closes no circle.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mediation", "cards", "storage", "graph", "jobs", "bot")
FRAMEWORK = frozenset({"botbuilder", "botframework", "msrest"})
# Where the Bot Framework may be imported: its one seam (moving to its successor replaces it).
FRAMEWORK_SEAM = "bot.framework"
# Packages whose import circles are being taken apart; the cycle rule skips them meanwhile.
CYCLES_BEING_REMOVED: set[str] = set()
# Fenced subpackages that lean on library internals, and the one module that may import each.
FENCES = {"storage.fast": "storage.db"}
# The verbs' modules: each exposes its routes and imports no other.
ACTIONS = frozenset(
    {
        "bot.actions",
        "bot.actions_calendar",
        "bot.actions_consultations",
        "bot.actions_feedback",
        "bot.actions_jobs",
        "bot.actions_organisations",
        "bot.actions_requests",
        "bot.actions_templates",
    }
)

# What each package may import besides the standard library and itself (None: anything).
ALLOWED: dict[str, frozenset[str] | None] = {
    "mediation": frozenset(),
    "cards": frozenset({"mediation"}),
    "storage": None,
    "graph": None,
    "jobs": None,
    "bot": None,
}
# What an adapter package must never import, whatever else it may.
FORBIDDEN: dict[str, frozenset[str]] = {
    "storage": frozenset({"bot", "graph", "jobs"}),
    "graph": frozenset({"bot", "storage", "jobs"}),
    "jobs": frozenset({"bot", "storage", "graph"}),
}


@dataclass(frozen=True)
class Import:
    """One imported module, where it is imported, and the statement that imports it."""

    file: str  # relative to the root, with forward slashes
    line: int
    module: str  # the absolute dotted name
    statement: str
    typing_only: bool = False  # under ``if TYPE_CHECKING:``

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def where(self) -> str:
        return f"{self.file}:{self.line} `{self.statement}`"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(root: Path, path: Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, with relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    package = module_name(root, path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_module(root: Path, dotted: str) -> bool:
    relative = Path(*dotted.split("."))
    return (root / relative.with_suffix(".py")).is_file() or (
        root / relative / "__init__.py"
    ).is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _typing_only_nodes(tree: ast.AST) -> set[int]:
    """The ids of the nodes inside an ``if TYPE_CHECKING:`` body."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                inside.update(id(n) for n in ast.walk(statement))
    return inside


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every import in the file, each imported module once per statement."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    file = path.relative_to(root).as_posix()
    typing_only = _typing_only_nodes(tree)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(root, path, node)
            # ``from pkg import mod`` imports the module pkg.mod when there is one.
            names = [f"{source}.{a.name}" for a in node.names if a.name != "*"]
            modules = [n for n in names if _is_module(root, n)] or [source]
        else:
            continue
        statement, hidden = ast.unparse(node), id(node) in typing_only
        found += [Import(file, node.lineno, m, statement, hidden) for m in modules]
    return sorted(found, key=lambda i: (i.line, i.module))


def package_files(root: Path, package: str) -> Iterator[Path]:
    yield from sorted((root / package).rglob("*.py"))


def _is_standard(name: str) -> bool:
    return name in sys.stdlib_module_names


def layer_violations(root: Path) -> list[str]:
    """Imports that cross a layer the wrong way, or bring the framework outside its seam."""
    problems: list[str] = []
    for package in PACKAGES:
        allowed = ALLOWED[package]
        forbidden = FORBIDDEN.get(package, frozenset())
        for path in package_files(root, package):
            for imp in imports_of(root, path):
                if imp.top == package:
                    continue
                if allowed is not None and not _is_standard(imp.top) and imp.top not in allowed:
                    may = ", ".join(sorted(allowed)) or "nothing else"
                    problems.append(
                        f"{imp.where()}: {package} imports only the standard library, "
                        f"itself and {may}, not {imp.module}"
                    )
                elif imp.top in forbidden:
                    problems.append(
                        f"{imp.where()}: {package} must not import {imp.top} "
                        f"(it reaches {imp.top} only through the domain's ports)"
                        if imp.top != "bot"
                        else f"{imp.where()}: {package} must not import bot"
                    )
            problems += _framework_violations(root, path)
            problems += _fence_violations(root, path)
            problems += _action_violations(root, path)
    return problems


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _fence_violations(root: Path, path: Path) -> list[str]:
    module = module_name(root, path)
    return [
        f"{imp.where()}: {fence} is imported only by {gate}"
        for imp in imports_of(root, path)
        for fence, gate in FENCES.items()
        if _inside(imp.module, fence) and module != gate and not _inside(module, fence)
    ]


def _action_violations(root: Path, path: Path) -> list[str]:
    module = module_name(root, path)
    if module not in ACTIONS:
        return []
    return [
        f"{imp.where()}: {module} imports another verbs' module ({imp.module})"
        for imp in imports_of(root, path)
        if imp.module in ACTIONS and imp.module != module
    ]


def _framework_violations(root: Path, path: Path) -> list[str]:
    module = module_name(root, path)
    if module == FRAMEWORK_SEAM or module.startswith(FRAMEWORK_SEAM + "."):
        return []
    return [
        f"{imp.where()}: the Bot Framework ({imp.top}) is imported only under "
        f"{FRAMEWORK_SEAM.replace('.', '/')}/"
        for imp in imports_of(root, path)
        if imp.top in FRAMEWORK
    ]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of the graph, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_violations(root: Path, exempt: set[str] = CYCLES_BEING_REMOVED) -> list[str]:
    """Import circles between the modules of each package, with the imports that close them."""
    problems: list[str] = []
    for package in PACKAGES:
        if package in exempt:
            continue
        for cycle in package_cycles(root, package):
            problems.append(f"{package}: an import circle: " + "; ".join(cycle))
    return problems


def package_cycles(root: Path, package: str) -> list[list[str]]:
    """Each circle as the imports (file, line, statement) that hold it together."""
    graph: dict[str, set[str]] = {}
    edges: dict[tuple[str, str], Import] = {}
    for path in package_files(root, package):
        source = module_name(root, path)
        graph.setdefault(source, set())
        for imp in imports_of(root, path):
            if imp.top == package and imp.module != source and not imp.typing_only:
                graph[source].add(imp.module)
                edges.setdefault((source, imp.module), imp)
    cycles = []
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        members = set(component)
        held_by = [
            imp.where()
            for (source, target), imp in sorted(edges.items(), key=lambda e: (e[1].file, e[1].line))
            if source in members and target in members
        ]
        cycles.append(held_by)
    return cycles


# -- the code as it is ------------------------------------------------------------------------


def test_the_packages_are_where_the_contract_expects_them() -> None:
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py").is_file(), f"{package}/ is missing"


def test_every_import_respects_the_layers() -> None:
    problems = layer_violations(ROOT)
    assert not problems, "\n".join(problems)


def test_no_package_has_an_import_circle() -> None:
    problems = cycle_violations(ROOT)
    assert not problems, "\n".join(problems)


def test_the_packages_exempt_from_the_cycle_rule_still_need_it() -> None:
    healed = [p for p in sorted(CYCLES_BEING_REMOVED) if not package_cycles(ROOT, p)]
    assert not healed, f"{healed} have no import circle left: take them out of CYCLES_BEING_REMOVED"


# -- the checks themselves, on small made-up trees --------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for parent in path.relative_to(root).parents:
            if parent != Path("."):
                (root / parent / "__init__.py").touch()
    return root


def test_a_domain_module_importing_sqlalchemy_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "mediation/rules.py": "import datetime\nfrom mediation import model\n",
            "mediation/model.py": "def f():\n    from sqlalchemy import select\n",
        },
    )
    (problem,) = layer_violations(root)
    assert problem.startswith("mediation/model.py:2 `from sqlalchemy import select`")
    assert "mediation imports only the standard library" in problem


def test_an_import_under_type_checking_counts(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "cards/case.py": (
                "from typing import TYPE_CHECKING\n"
                "from mediation.views import CaseSummary\n"
                "if TYPE_CHECKING:\n"
                "    from storage.models import CaseRow\n"
            ),
            "mediation/views.py": "",
            "storage/models.py": "",
        },
    )
    (problem,) = layer_violations(root)
    assert problem.startswith("cards/case.py:4 `from storage.models import CaseRow`")
    assert "cards imports only the standard library, itself and mediation" in problem


def test_jobs_importing_storage_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "jobs/retention.py": "from mediation.ports import UnitOfWork\n"
            "from storage.repositories import SqlCaseRepository\n",
            "mediation/ports.py": "",
            "storage/repositories.py": "",
        },
    )
    (problem,) = layer_violations(root)
    assert problem.startswith(
        "jobs/retention.py:2 `from storage.repositories import SqlCaseRepository`"
    )
    assert "jobs must not import storage" in problem


def test_adapters_never_import_each_other_or_the_bot(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "graph/sync.py": "import storage.calendar\n",
            "storage/calendar.py": "from graph import local\n",
            "graph/local.py": "from bot.app import create_app\n",
            "bot/app.py": "import storage.calendar\nimport graph.sync\nimport jobs.base\n",
            "jobs/base.py": "",
        },
    )
    problems = layer_violations(root)
    assert problems == [
        "storage/calendar.py:1 `from graph import local`: storage must not import graph "
        "(it reaches graph only through the domain's ports)",
        "graph/local.py:1 `from bot.app import create_app`: graph must not import bot",
        "graph/sync.py:1 `import storage.calendar`: graph must not import storage "
        "(it reaches storage only through the domain's ports)",
    ]


def test_the_bot_framework_is_imported_only_in_its_seam(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/framework/handler.py": "from botbuilder.core import TurnContext\nimport msrest\n",
            "bot/teams.py": "from botbuilder.schema import Activity\n",
            "storage/botstore.py": "from botbuilder.schema import ConversationReference\n",
        },
    )
    assert layer_violations(root) == [
        "storage/botstore.py:1 `from botbuilder.schema import ConversationReference`: "
        "the Bot Framework (botbuilder) is imported only under bot/framework/",
        "bot/teams.py:1 `from botbuilder.schema import Activity`: "
        "the Bot Framework (botbuilder) is imported only under bot/framework/",
    ]


def test_a_fenced_package_is_imported_only_by_its_gate(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "storage/db.py": "from storage.fast import sqlite\n",
            "storage/fast/sqlite.py": "from storage.fast import pool\n",
            "storage/fast/pool.py": "",
            "storage/uow.py": "from storage.fast.sqlite import InlineConnection\n",
        },
    )
    assert layer_violations(root) == [
        "storage/uow.py:1 `from storage.fast.sqlite import InlineConnection`: "
        "storage.fast is imported only by storage.db"
    ]


def test_a_verbs_module_importing_another_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/actions.py": "",
            "bot/actions_calendar.py": "from bot.actions import CaseActions\n",
            "bot/bootstrap.py": "import bot.actions\nimport bot.actions_calendar\n",
        },
    )
    assert layer_violations(root) == [
        "bot/actions_calendar.py:1 `from bot.actions import CaseActions`: "
        "bot.actions_calendar imports another verbs' module (bot.actions)"
    ]


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "graph/sub/a.py": "from ..b import x\nfrom . import c\n",
            "graph/b.py": "",
            "graph/sub/c.py": "",
        },
    )
    found = imports_of(root, root / "graph/sub/a.py")
    assert [i.module for i in found] == ["graph.b", "graph.sub.c"]


def test_a_circle_is_reported_with_the_imports_that_close_it(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "graph/a.py": "from graph import b\n",
            "graph/b.py": "def later():\n    import graph.c\n",
            "graph/c.py": "from graph.a import thing\n",
            "graph/d.py": "import graph.a\n",
        },
    )
    (problem,) = cycle_violations(root, exempt=set())
    assert problem == (
        "graph: an import circle: graph/a.py:1 `from graph import b`; "
        "graph/b.py:2 `import graph.c`; graph/c.py:1 `from graph.a import thing`"
    )


def test_a_package_init_that_re_exports_its_modules_is_no_circle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "mediation/calendar/__init__.py": "from mediation.calendar.booking import book\n",
            "mediation/calendar/booking.py": "from mediation.calendar.rules import rule\n",
            "mediation/calendar/rules.py": "",
        },
    )
    assert cycle_violations(root, exempt=set()) == []
    (root / "mediation/calendar/rules.py").write_text("from mediation.calendar import book\n")
    (problem,) = cycle_violations(root, exempt=set())
    assert "mediation/calendar/rules.py:1 `from mediation.calendar import book`" in problem


def test_an_import_for_type_checking_only_closes_no_circle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "mediation/errors.py": (
                "import typing\n"
                "if typing.TYPE_CHECKING:\n"
                "    from mediation.views import CaseSummary\n"
            ),
            "mediation/views.py": "from mediation import errors\n",
        },
    )
    (found,) = [i for i in imports_of(root, root / "mediation/errors.py") if i.typing_only]
    assert found.module == "mediation.views"
    assert cycle_violations(root, exempt=set()) == []
    (root / "mediation/errors.py").write_text("from mediation.views import CaseSummary\n")
    assert len(cycle_violations(root, exempt=set())) == 1


def test_an_exempt_package_is_skipped_by_the_cycle_rule_only(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/framework/a.py": "import bot.framework.b\n",
            "bot/framework/b.py": "import bot.framework.a\nimport msrest\n",
        },
    )
    assert cycle_violations(root, exempt={"bot"}) == []
    assert len(cycle_violations(root, exempt=set())) == 1
    assert layer_violations(root) == []
