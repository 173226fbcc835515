"""The tree the pipeline reads off: no import cycle among feedwatch's modules, one module for
the Redis key names, and the files a wheel must carry."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = ("worker", "tasks")
KEY_NAME = re.compile(r"feedwatch:\S")
"""How every Redis key name begins (a message "feedwatch: ..." does not)."""


def module_names() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``name`` imports, anywhere in it (inside functions too)."""
    is_package = path.name == "__init__.py"
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                wanted.add(submodule if submodule in modules else base)
    found = {m for m in wanted if m in modules}
    return {m for m in found | {p for m in found for p in parents(m)}
            if m != name and m not in parents(name)} & modules.keys()


def parents(name: str) -> list[str]:
    """The packages whose ``__init__`` runs before a module: importing ``a.b.c`` runs ``a``
    and ``a.b`` first."""
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, if there is one."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_module_imports_one_that_imports_it_back() -> None:
    """Importing a module runs its packages' ``__init__`` first, so an import of
    ``worker.normalize.dateline`` counts as one of ``worker.normalize`` too (but not from
    inside ``worker.normalize``); imports inside functions count like the others."""
    modules = module_names()
    graph = {name: imports(path, name, modules) for name, path in modules.items()}
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_redis_key_names_are_written_in_one_module_only() -> None:
    """A key name spelled out anywhere but :mod:`worker.keys` (docstrings aside) is a second
    place to change, and a way to rename a key by accident."""
    spelled = []
    for name, path in module_names().items():
        if name == "worker.keys":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        spelled += [f"{name}:{node.lineno}" for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and KEY_NAME.match(node.value) and id(node) not in docstrings]
    assert spelled == []


def test_the_wheel_carries_the_lua_scripts_and_the_story_schema(tmp_path: Path) -> None:
    """The Dockerfile installs with ``pip install .``: what it gets is this wheel."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, cwd=tmp_path)
    [wheel] = tmp_path.glob("feedwatch-*.whl")
    carried = set(zipfile.ZipFile(wheel).namelist())
    wanted = {str(p.relative_to(ROOT)) for p in (ROOT / "worker").rglob("*.lua")}
    wanted.add("worker/story/schema/message.json")
    wanted.add("worker/web/status.html")
    assert len(wanted) > 5 and wanted <= carried, sorted(wanted - carried)
