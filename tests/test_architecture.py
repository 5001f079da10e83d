"""Architecture checks on the import graph of contest/, viral/ and rules/.

The graph is read statically with ``ast`` from the source files; nothing is imported.
An import is an edge from the importing module to the most specific first-party module it
names: ``import a.b.c`` -> ``a.b.c``; ``from a.b import c`` -> ``a.b.c`` when ``c`` is a
module, else ``a.b``; relative imports are resolved against the importing module's package.
Every import counts, at module level or inside a function, except the body of
``if TYPE_CHECKING:``, which never runs and so is listed apart instead.
The implicit import of a parent package (``import a.b`` runs ``a/__init__.py``) is not an
edge: otherwise every package re-exporting its submodules would be a cycle with them.
Imports by strings (``importlib.import_module``) are not seen.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("contest", "viral", "rules")

# Source folders that are not part of the import graph.
EXCLUDED_DIRS = (
    "contest/alembic/",  # migration scripts, loaded by Alembic from their files, not imported
)

# Modules allowed to import contest.web and starlette: they assemble the application.
ASSEMBLY_POINTS = frozenset(
    {
        "contest.app",  # builds the Starlette application from the contest.web routes
        "contest.cli",  # the command line starts the web server
    }
)

# Files allowed to import first-party modules inside functions.
FUNCTION_IMPORT_EXEMPT = frozenset(
    {
        "contest/cli.py",  # lazy imports keep the command line fast to start
    }
)

ImportNode = ast.Import | ast.ImportFrom


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module, absolute
    path: str  # the importing file, relative to the project root
    line: int
    in_function: bool
    type_only: bool  # under ``if TYPE_CHECKING:``

    def describe(self) -> str:
        note = " [TYPE_CHECKING]" if self.type_only else ""
        return f"{self.source} imports {self.target} ({self.path}:{self.line}){note}"


def top_level(module: str) -> str:
    return module.partition(".")[0]


def is_first_party(module: str) -> bool:
    return top_level(module) in FIRST_PARTY


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def source_files() -> dict[str, Path]:
    """Every first-party module, by name."""
    files: dict[str, Path] = {}
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not path.relative_to(ROOT).as_posix().startswith(EXCLUDED_DIRS):
                files[module_name(path)] = path
    return files


def is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def walk_imports(
    nodes: Iterable[ast.AST], in_function: bool = False, type_only: bool = False
) -> Iterator[tuple[ImportNode, bool, bool]]:
    """Every import statement with whether it is inside a function and under TYPE_CHECKING."""
    for node in nodes:
        if isinstance(node, ImportNode):
            yield node, in_function, type_only
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            yield from walk_imports(node.body, in_function, True)
            yield from walk_imports(node.orelse, in_function, type_only)
        else:
            nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk_imports(ast.iter_child_nodes(node), in_function or nested, type_only)


def resolve(node: ImportNode, module: str, is_package: bool) -> list[str]:
    """The absolute modules one import statement names, without duplicates."""
    if isinstance(node, ast.Import):
        return list(dict.fromkeys(alias.name for alias in node.names))
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = ".".join(package[: len(package) - node.level + 1])
        base = f"{anchor}.{base}" if base else anchor
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.append(submodule if submodule in source_files() else base)
    return list(dict.fromkeys(targets))


@cache
def all_imports() -> tuple[Import, ...]:
    found = []
    for module, path in source_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(ROOT).as_posix()
        is_package = path.name == "__init__.py"
        for node, in_function, type_only in walk_imports(tree.body):
            for target in resolve(node, module, is_package):
                found.append(Import(module, target, relative, node.lineno, in_function, type_only))
    return tuple(found)


def graph_node(target: str) -> str | None:
    """The first-party module an import lands on: the longest known prefix of its name."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in source_files():
            return candidate
    return None


def runtime_edges() -> list[Import]:
    """Imports that run, between two distinct first-party modules."""
    return [
        imp
        for imp in all_imports()
        if not imp.type_only and graph_node(imp.target) not in (None, imp.source)
    ]


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; each component sorted, in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> tuple[str, Iterator[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(sorted(graph[node]))

    for root in sorted(graph):
        if root in index:
            continue
        work = [visit(root)]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    work.append(visit(child))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    components.append(sorted(component))
    return components


def report(title: str, lines: Iterable[str]) -> str:
    return "\n".join([title, *(f"  {line}" for line in lines)])


def test_the_graph_sees_every_package() -> None:
    modules = source_files()
    for package in FIRST_PARTY:
        assert package in modules, f"{package}/__init__.py not found under {ROOT}"
    assert not any(is_within(module, "contest.alembic") for module in modules)
    assert runtime_edges(), "no import between first-party modules was found"


def test_strongly_connected_components_of_a_small_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"f"}}
    components = sorted(strongly_connected_components(graph))
    assert components == [["a", "b", "c"], ["d", "e"], ["f"]]


def test_rules_imports_only_the_standard_library_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"rules"}
    violations = [
        imp.describe()
        for imp in all_imports()
        if is_within(imp.source, "rules") and top_level(imp.target) not in allowed
    ]
    assert not violations, report("rules/ must only import the standard library:", violations)


def test_only_the_web_layer_imports_contest_web_and_starlette() -> None:
    def is_checked(module: str) -> bool:
        if is_within(module, "viral"):
            return True
        return (
            is_within(module, "contest")
            and not is_within(module, "contest.web")
            and module not in ASSEMBLY_POINTS
        )

    def is_forbidden(target: str) -> bool:
        return is_within(target, "contest.web") or is_within(target, "starlette")

    violations = [
        imp.describe()
        for imp in all_imports()
        if is_checked(imp.source) and is_forbidden(imp.target)
    ]
    assert not violations, report(
        "Only contest/web/, contest/app.py and contest/cli.py may import contest.web or starlette:",
        violations,
    )


def test_no_import_cycles() -> None:
    edges = runtime_edges()
    graph: dict[str, set[str]] = {module: set() for module in source_files()}
    for imp in edges:
        graph[imp.source].add(graph_node(imp.target) or imp.target)
    cycles = [c for c in strongly_connected_components(graph) if len(c) > 1]

    sections = []
    for number, component in enumerate(cycles, 1):
        members = set(component)
        inside = [
            f"{imp.source} -> {graph_node(imp.target)} ({imp.path}:{imp.line})"
            + (" [in function]" if imp.in_function else "")
            for imp in edges
            if imp.source in members and graph_node(imp.target) in members
        ]
        sections.append(report(f"cycle {number}: {', '.join(component)}", inside))
    type_only = [
        imp.describe() for imp in all_imports() if imp.type_only and is_first_party(imp.target)
    ]
    sections.append(report("TYPE_CHECKING imports (not runtime edges, not counted):", type_only))
    assert not cycles, "Import cycles between modules:\n" + "\n".join(sections)


def test_no_first_party_imports_inside_functions() -> None:
    violations = [
        imp.describe()
        for imp in all_imports()
        if imp.in_function and is_first_party(imp.target) and imp.path not in FUNCTION_IMPORT_EXEMPT
    ]
    assert not violations, report(
        "First-party imports inside functions (they usually hide a cycle):", violations
    )
