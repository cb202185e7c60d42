"""Structural rules of the package, checked on its source: imports point one way,
functions fit on a screen, and one module owns the access rule's SQL."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import kanban_api
from kanban_api.reads.boards import BOARD_FIELDS
from kanban_api.reads.cards import CARD_FIELDS
from kanban_api.schemas.board import BoardOut
from kanban_api.schemas.card import CardOut

PACKAGE = Path(kanban_api.__file__).parent
MIGRATIONS = PACKAGE / "migrations"
MAX_FUNCTION_LINES = 60
ACCESS_MODULE = PACKAGE / "access.py"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under `if TYPE_CHECKING:`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (`from a import b` counts as `a.b` when
    b is a module, else as `a`)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            graph[name].update(target for target in targets if target in modules)
        graph[name].discard(name)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any (depth-first search)."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph[node]):
            if found := visit(target):
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if found := visit(node):
            return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = _import_graph()
    assert graph["kanban_api.app"], "the import graph is empty: the walk is broken"
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_function_is_longer_than_a_screen() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        if MIGRATIONS in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({lines})")
    assert long == []


# The SQL of the access rule: what only access.py may write.
ACCESS_SQL = {
    # Locking a board row (every writer's first lock).
    "board lock": re.compile(r"select\(\s*Board\.id\s*\)[^\n]*(\n[^\n]+)*?with_for_update"),
    # Comparing a credential's version with the user's.
    "credential check": re.compile(r"credentials_version\s*[!=]="),
    # Conditions on the caller's own membership.
    "caller's membership": re.compile(
        r'bindparam\("user_id"\)|Membership\.user_id\s*==\s*(user\.id|_USER_ID|principal)'
    ),
}


def test_only_the_access_module_writes_the_access_sql() -> None:
    found: dict[str, set[str]] = {name: set() for name in ACCESS_SQL}
    for path in PACKAGE.rglob("*.py"):
        if MIGRATIONS in path.parents:
            continue
        source = path.read_text()
        for name, pattern in ACCESS_SQL.items():
            if pattern.search(source):
                found[name].add(str(path.relative_to(PACKAGE)))
    assert found == {name: {"access.py"} for name in ACCESS_SQL}


def _wire_order(model: type[CardOut] | type[BoardOut]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def test_the_hot_reads_declare_the_out_schemas_fields_in_order() -> None:
    assert [field.key for field in CARD_FIELDS] == _wire_order(CardOut)
    assert [field.key for field in BOARD_FIELDS] == _wire_order(BoardOut)
