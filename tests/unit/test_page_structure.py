"""Issue 14: "no page file mixes state management, drawing and layout" for the Train, Distill, Data sets and Runs
pages. Each page's session state (and the address bar: ``st.query_params``, where a started run is kept) is written
only in its one ``views/_<page>_state.py``; its other helper modules and the shared result views only read it.

Static checks (ast), so they cost no Streamlit run: a write is an assignment, augmented assignment or ``del`` on a
subscript or attribute of ``st.session_state`` / ``st.query_params`` (or a module alias of them, like
``ss = st.session_state``), or a call of a mutating method on them (``pop``, ``setdefault``, ``update``,
``clear``, ``__setitem__``, ``__delitem__``, ``from_dict``).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIEWS = ROOT / "views"
PAGES = {"train": "_train_", "distill": "_distill_", "datasets": "_datasets_", "runs": "_runs_"}
SHARED = ("_results.py", "_storage.py")  # result and storage views used by several of these pages
STATE_OBJECTS = ("st.session_state", "st.query_params")
MUTATORS = {"pop", "setdefault", "update", "clear", "__setitem__", "__delitem__", "from_dict"}
MAX_PAGE_LINES = 250


def _aliases(tree: ast.Module) -> set[str]:
    """``st.session_state`` / ``st.query_params`` and every name the module binds to one of them."""
    names = set(STATE_OBJECTS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.value) in STATE_OBJECTS:
            names |= {ast.unparse(t) for t in node.targets if isinstance(t, ast.Name)}
    return names


def state_writes(source: str) -> list[str]:
    """The statements of ``source`` that write session state or query parameters, as source text."""
    tree = ast.parse(source)
    names = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target])
            for t in targets:
                for part in (t.elts if isinstance(t, ast.Tuple) else [t]):
                    if isinstance(part, (ast.Subscript, ast.Attribute)) and ast.unparse(part.value) in names:
                        found.append(ast.unparse(node).splitlines()[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS \
                and ast.unparse(node.func.value) in names:
            found.append(ast.unparse(node))
    return found


def _page_files(page: str) -> list[Path]:
    return [VIEWS / f"{page}.py", *sorted(VIEWS.glob(f"{PAGES[page]}*.py"))]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_session_state_is_written_only_in_the_pages_state_module(page):
    state_module = VIEWS / f"{PAGES[page]}state.py"
    assert state_module.is_file(), f"views/{state_module.name} holds the {page} page's session state"
    offenders = {p.name: w for p in _page_files(page) if p != state_module
                 and (w := state_writes(p.read_text(encoding="utf-8")))}
    assert offenders == {}


def test_shared_result_views_write_no_session_state():
    offenders = {name: w for name in SHARED if (w := state_writes((VIEWS / name).read_text(encoding="utf-8")))}
    assert offenders == {}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_files_stay_short(page):
    lines = len((VIEWS / f"{page}.py").read_text(encoding="utf-8").splitlines())
    assert lines < MAX_PAGE_LINES, f"views/{page}.py: {lines} lines; move state or drawing into its helpers"


def test_the_check_sees_every_kind_of_write():
    """The walk must flag what the old pages did (else the tests above pass on anything)."""
    src = ("import streamlit as st\nss = st.session_state\n"
           "ss['a'] = 1\nss['b'] += 1\nst.session_state['c'] = 2\nss['d'], x = 1, 2\ndel ss['e']\n"
           "ss.pop('f', None)\nst.query_params['run'] = 'x'\nst.session_state.g = 3\n"
           "v = ss.get('h')\ny = ss['i']\n")
    assert len(state_writes(src)) == 8
    assert state_writes("import streamlit as st\nv = st.session_state.get('a')\nst.write(st.query_params['b'])\n") \
        == []


# Every page of the app, not only the four above: a page file lays out widgets, calls core and renders.
ALL_PAGES = sorted(p.name for p in VIEWS.glob("*.py") if not p.name.startswith("_"))
# Modules that may write session state besides the pages' _*_state.py: the browser identity (?u=), param_widget's
# seeding of a widget's default, and the image input's upload bookkeeping.
SHARED_STATE_WRITERS = {"_identity.py", "_params.py", "_widgets.py"}
DRAWING = ("plotly", "PIL", "numpy", "torch", "matplotlib", "skimage")


def test_every_page_is_listed():
    assert {"app.py"} | set(ALL_PAGES) >= {"explain.py", "architectures.py", "receptive_fields.py", "augmentation.py",
                                          "lesson_depth.py", "lesson_knn.py", "lesson_fc_conv.py",
                                          "lesson_shortcut.py", "train.py", "distill.py", "datasets.py", "runs.py"}


@pytest.mark.parametrize("name", sorted(p.name for p in VIEWS.glob("*.py")))
def test_only_state_modules_write_session_state(name):
    if name.endswith("_state.py") or name in SHARED_STATE_WRITERS:
        return
    assert state_writes((VIEWS / name).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", ALL_PAGES)
def test_pages_draw_nothing_themselves_and_stay_short(name):
    """Pictures and figures come from core (core/*/figures.py, core.runs.results); a page imports no drawing or
    array library and stays under MAX_PAGE_LINES."""
    tree = ast.parse((VIEWS / name).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & set(DRAWING), sorted(imported & set(DRAWING))
    lines = len((VIEWS / name).read_text(encoding="utf-8").splitlines())
    assert lines < MAX_PAGE_LINES, f"views/{name}: {lines} lines"
