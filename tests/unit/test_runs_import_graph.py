"""Issue 14.4: no import cycle between core packages (core.train <-> core.runs above all), and no function-level
import without a reason.

A tiny import-graph walk over core/ (module-level imports, plus the parent packages every import runs) must find no
cycle; fresh interpreters import core.train and core.runs in both orders; core.train imports core.runs nowhere, not
even inside a function (the run-folder format is core.runfiles). That every function-level import says why is
tests/unit/test_function_imports.py.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in CORE.rglob("*.py")}


def _targets(node: ast.AST) -> list[str]:
    """Project modules an import statement loads, with the parent packages Python runs first."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                 for a in node.names]
    out = []
    for n in names:
        parts = n.split(".")
        out += [".".join(parts[:i]) for i in range(2, len(parts) + 1) if ".".join(parts[:i]) in MODULES]
    return out


def _imports(path: Path) -> tuple[set[str], list[tuple[str, int, ast.AST]]]:
    """(module-level targets, [(target, line, statement)] of imports inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {t for node in tree.body for t in _targets(node)}
    inner = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                inner += [(t, node.lineno, node) for t in _targets(node)]
    return top, inner


def _graph() -> dict[str, set[str]]:
    """Module -> the project modules its module-level imports run. A module's own ancestor packages are left out:
    Python has always started them before the module itself."""
    return {m: {t for t in _imports(p)[0] if t != m and not m.startswith(t + ".")} for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walk_finds_a_cycle_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    # the walk sees the parent package an import runs
    assert "core.train" in _targets(ast.parse("from core.train.config import TrainConfig").body[0])


def test_no_module_level_import_cycle_in_core():
    assert _cycles(_graph()) == []


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])  # core.train.loop -> core.train; core.params -> core.params


def test_no_import_cycle_between_core_packages():
    """Issue 14: the packages of core/ form layers (core.augment -> core.params must not lead back through
    core.train -> core.augment). Module-level imports, collapsed to their package."""
    packages: dict[str, set[str]] = {}
    for m, targets in _graph().items():
        src = _package(m)
        packages.setdefault(src, set())
        packages[src] |= {_package(t) for t in targets if _package(t) != src}
    for ts in list(packages.values()):
        for t in ts:
            packages.setdefault(t, set())
    assert _cycles(packages) == []


def test_core_runs_needs_core_train_not_the_other_way_at_import_time():
    graph = _graph()
    train_to_runs = sorted((m, t) for m, ts in graph.items() if m.startswith("core.train") for t in ts
                           if t.startswith("core.runs"))
    assert train_to_runs == []


def _functions_importing(prefix_from: str, prefix_to: str) -> set[tuple[str, str]]:
    found = set()
    for m, p in MODULES.items():
        if not m.startswith(prefix_from):
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                direct = [n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
                if any(t.startswith(prefix_to) for n in direct for t in _targets(n)):
                    found.add((m, fn.name))
    return found


def test_the_function_level_scan_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    mod = tmp_path / "probe.py"
    mod.write_text("def f():\n    from core.runs import store\n    return store\n")
    monkeypatch.setitem(MODULES, "core.train.probe", mod)
    assert ("core.train.probe", "f") in _functions_importing("core.train", "core.runs")


def test_core_train_never_imports_core_runs_not_even_inside_a_function():
    """Issue 14.4: the run-folder format is core.runfiles, which both import at module level; the loop writes to
    the writer it is given (core.train.state.RunWriter; the worker passes core.runfiles.RunFolder). No import of
    core.runs is left for core.train to dodge."""
    assert _functions_importing("core.train", "core.runs") == set()


def test_the_run_folder_format_depends_on_neither_training_nor_the_run_store():
    graph = _graph()
    for m, targets in graph.items():
        if m.startswith("core.runfiles"):
            assert not {t for t in targets if t.startswith(("core.train", "core.runs"))}, m
    assert _functions_importing("core.runfiles", "core.train") == set()
    assert _functions_importing("core.runfiles", "core.runs") == set()


@pytest.mark.slow
@pytest.mark.parametrize("order", [("core.train.loop", "core.runs.worker", "core.runs.launcher"),
                                   ("core.runs.worker", "core.runs.launcher", "core.train.loop"),
                                   ("core.runs.store", "core.train"), ("core.train", "core.runs.store"),
                                   ("core.runs.results", "core.train.estimate"),
                                   ("core.train.estimate", "core.runs.results")])
def test_fresh_interpreter_imports_both_orders(order):
    code = "; ".join(f"import {m}" for m in order)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]


PACKAGES = sorted(m for m in MODULES if m.count(".") == 1 and not m.endswith("__main__"))


@pytest.mark.slow
@pytest.mark.parametrize("first", PACKAGES)
def test_each_core_module_imports_first_in_a_fresh_interpreter(first):
    """Imported first (then every other core module), nothing meets a half-initialised module."""
    rest = [m for m in sorted(MODULES) if m != first and not m.endswith("__main__")]
    code = f"import {first}\n" + "".join(f"import {m}\n" for m in rest)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
