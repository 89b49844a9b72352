"""The shape of the code: no import cycles in `arena/`, and the drawing primitives import no env."""

from __future__ import annotations

import ast
from pathlib import Path

import arena

PACKAGE = Path(arena.__file__).parent


def _modules() -> dict[str, Path]:
    """Every module of the package by name: its source, or a compiled module's stub (which imports nothing)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")) + sorted(PACKAGE.rglob("*.pyi")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the arena modules it imports, counting every import statement (in functions and under
    TYPE_CHECKING too). Importing `a.b.c` is an edge to `a.b.c` (the longest arena module a name resolves to)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = resolve(name)
                if target and target != module and target.startswith("arena"):
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_arena() -> None:
    assert cycles(import_graph()) == []


def test_drawing_primitives_import_no_env() -> None:
    graph = import_graph()
    render = [m for m in graph if m == "arena.render" or m.startswith("arena.render.")]
    assert render
    for module in render:
        assert not {t for t in graph[module] if t.startswith("arena.envs")}, module


def test_errors_and_specs_are_leaves() -> None:
    """The vocabulary modules depend on nothing of arena but each other, so everything can import them."""
    graph = import_graph()
    assert graph["arena.errors"] == set()
    assert graph["arena.specs"] <= {"arena.errors"}
