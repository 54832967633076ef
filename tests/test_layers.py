"""Dependencies point one way: the package ranks of docs/architecture.md, no import cycles,
and the few rules a rank cannot say (the API never imports the console, auth knows no web
framework). Read from the source with `ast`, so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "outreach"

# A package may import its own modules and packages of a lower rank, never one of its rank
# or above. docs/architecture.md lists the same table.
RANKS: dict[str, int] = {
    "vocabulary": 0,
    "clock": 0,
    "masking": 0,
    "links": 1,
    "metrics": 0,
    "collector": 0,
    "csv_export": 0,
    "compliance": 1,
    "config": 2,
    "db": 3,
    "actions": 4,
    "channels": 4,
    "sandbox": 4,
    "render": 5,
    "pipeline": 6,
    "inbound": 8,
    "queries": 8,
    "portfolio": 8,
    "auth": 8,
    "services": 9,
    "runtime": 10,
    "simulation": 11,
    "web": 11,
    "cli": 12,
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(module, line) for every outreach module the file imports, at any depth."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("outreach"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            submodules = [n for n in names if n in MODULES]
            # `from pkg import submodule` imports the submodule (and the package's
            # __init__, which the check of that __init__ covers).
            for target in submodules or [node.module]:
                yield target, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("outreach"):
                    yield alias.name, node.lineno


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def _third_party(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
    return roots


def test_every_package_has_a_rank() -> None:
    packages = {_package(m) for m in MODULES if m != "outreach"}
    assert packages <= set(RANKS), f"give these a rank: {sorted(packages - set(RANKS))}"


def test_imports_point_down_the_ranks() -> None:
    wrong = []
    for module, path in MODULES.items():
        if module == "outreach":
            continue
        here = _package(module)
        for target, line in _imports(path):
            there = _package(target)
            if there != here and there in RANKS and RANKS[there] >= RANKS[here]:
                rel = path.relative_to(PACKAGE.parent)
                wrong.append(f"{rel}:{line}: {here} (rank {RANKS[here]}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for target, _ in _imports(path):
            if target in MODULES and target != module:
                graph[module].add(target)
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(sorted(c)) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
                found.append(component)

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_the_api_does_not_import_the_console() -> None:
    api = [m for m in MODULES if m.startswith("outreach.web.api")]
    assert api, "the JSON API package moved: update this test"
    for module in api:
        for target, line in _imports(MODULES[module]):
            assert not target.startswith("outreach.web.console"), f"{module}:{line} {target}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("compliance", {"sqlalchemy", "httpx", "aiohttp", "twilio", "aiosmtplib", "fastapi"}),
        ("auth", {"fastapi", "starlette"}),
        ("actions", {"fastapi", "starlette"}),
        ("services", {"fastapi", "starlette"}),
    ],
)
def test_layers_without_io_or_web_framework(package: str, forbidden: set[str]) -> None:
    for module, path in MODULES.items():
        if _package(module) == package:
            assert not (_third_party(path) & forbidden), f"{module} imports {forbidden}"


def test_no_module_over_400_lines() -> None:
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"split these: {long}"
