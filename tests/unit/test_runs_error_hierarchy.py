"""Issue 14.6: one error hierarchy (core/errors.py) and one rule for what pages catch (core.errors.PAGE_ERRORS)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.data.folders import DatasetLayoutError
from core.errors import PlaygroundError
from core.images import ImageError

ROOT = Path(__file__).resolve().parents[2]

# Exceptions that are not a user's error but a signal between two functions of one module (never shown).
SIGNALS = {"PreparationCancelled", "_Untraceable", "_Stop"}


def _classes() -> dict[str, tuple[str, list[str]]]:
    """Every exception-like class defined in core/: name -> (file, base names)."""
    out = {}
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                         for b in node.bases]
                out[node.name] = (str(path.relative_to(ROOT)), bases)
    return out


def test_every_error_class_in_core_descends_from_playground_error():
    classes = _classes()

    def typed(name: str, seen=()) -> bool:
        if name == "PlaygroundError":
            return True
        if name not in classes or name in seen:
            return False
        return any(typed(b, (*seen, name)) for b in classes[name][1])

    builtin = {"Exception", "RuntimeError", "ValueError", "TypeError", "OSError", "KeyError", "BaseException"}
    errors = {n for n, (_, bases) in classes.items() if any(b in builtin or b.endswith("Error") for b in bases)}
    assert errors >= {"AugmentError", "TrainError", "DataError", "RunError", "QueueFull"}  # the walk sees them
    untyped = sorted(f"{n} ({classes[n][0]})" for n in errors - SIGNALS if not typed(n))
    assert untyped == []


def test_the_hierarchy_is_defined_once_and_re_exported():
    import core.errors as e
    from core import budget
    from core.augment.errors import AugmentError
    from core.data.errors import DataError, DatasetNotFound, DatasetUnavailable
    from core.runs import launcher, owners, store
    from core.train.errors import TrainError

    assert (AugmentError, DataError, DatasetNotFound, DatasetUnavailable, TrainError) == (
        e.AugmentError, e.DataError, e.DatasetNotFound, e.DatasetUnavailable, e.TrainError)
    assert (store.RunError, launcher.WeightsMissing, owners.NotYourRun) == (e.RunError, e.WeightsMissing, e.NotYourRun)
    assert (budget.QueueFull, budget.DiskBudgetExceeded, budget.NotEnoughMemory, budget.StorageError,
            budget.OutOfMemory) == (e.QueueFull, e.DiskBudgetExceeded, e.NotEnoughMemory, e.StorageError,
                                    e.OutOfMemory)
    for cls in (e.AugmentError, e.DataError, e.TrainError, e.RunError, e.WeightsMissing, e.NotYourRun,
                e.QueueFull, e.StorageError, e.OutOfMemory):
        assert cls.__module__ == "core.errors" and issubclass(cls, e.PlaygroundError)
        assert cls.__name__ in e.__doc__  # the tree in the docstring names every class
    assert issubclass(e.AugmentError, ValueError) and issubclass(e.NotEnoughMemory, e.InputError)


def _caught(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every exception class named in an ``except`` clause of ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ExceptHandler):
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            out += [(node.lineno, t.id if isinstance(t, ast.Name) else getattr(t, "attr", "?"))
                    for t in types if t is not None]
            if node.type is None:
                out.append((node.lineno, "bare except"))
    return out


# One rule for what pages catch (core/errors.py's docstring): PAGE_ERRORS, or one specific PlaygroundError subclass
# a page handles differently (a zip's layout report, an image the user must replace) before it; plus the one
# framework exception a page may meet (Streamlit's, around a widget it cannot redraw) and a file-system probe.
SPECIFIC_OK = {"DatasetLayoutError", "ImageError", "StreamlitAPIException", "OSError"}


@pytest.mark.parametrize("page", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "views").glob("*.py")))
def test_pages_catch_page_errors_not_runtime_errors(page):
    bad = [(line, name) for line, name in _caught(ROOT / page)
           if name in ("RuntimeError", "Exception", "BaseException", "bare except")]
    assert bad == []  # heavy torch work is wrapped in core.budget.memory_guard (CPU allocator failures)


@pytest.mark.parametrize("page", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "views").glob("*.py")))
def test_pages_catch_one_tuple_of_errors(page):
    """Issue 14.6: not ``PlaygroundError`` here, ``(PlaygroundError, OSError)`` there: a page's error handler
    catches ``PAGE_ERRORS`` (so a full disk or an allocator failure gets its message everywhere)."""
    caught = _caught(ROOT / page)
    assert [(line, name) for line, name in caught if name not in SPECIFIC_OK | {"PAGE_ERRORS"}] == []
    for cls in (DatasetLayoutError, ImageError):  # the specific ones are PlaygroundErrors, handled first
        assert issubclass(cls, PlaygroundError) and cls.__name__ in SPECIFIC_OK


def test_page_errors_are_what_show_error_handles():
    from core import budget
    from core.errors import PAGE_ERRORS, PlaygroundError

    assert PAGE_ERRORS == (PlaygroundError, OSError, MemoryError)
    import errno

    full = OSError(errno.ENOSPC, "No space left on device", "/x/y")
    assert isinstance(full, PAGE_ERRORS) and budget.is_storage_error(full)
    assert isinstance(MemoryError(), PAGE_ERRORS) and budget.is_out_of_memory(MemoryError())
    assert not isinstance(RuntimeError("a bug"), PAGE_ERRORS)
