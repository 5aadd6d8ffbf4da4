"""Issue 14: no function-level import without a reason, in the whole app (core/, views/, app.py).

An import belongs at the top of its module. Inside a function it must say why it waits: the heavy or optional
dependency it defers (torch in a module a queued worker imports, captum, timm, scipy, huggingface_hub) or the
import cycle it avoids (which modules). Every import block (consecutive import lines) inside a function carries a
``#`` comment, on its lines or in the comment paragraph directly above it, and the comment is a reason, not
boilerplate: once lint markers (``noqa``, ``type: ignore``, ``pragma``) are removed, it has at least three words
and names what is deferred or avoided (:data:`REASON`: a project module, a heavy library, "cycle", "heavy",
"optional", "lazy", "only when", a measured cost such as "~1 s", or "see <where the reason is written>").
``# noqa: PLC0415`` or ``# import here`` fails, and so does no comment at all.

Gotcha: a reason may take two lines; write it right above the import block, with no blank line in between.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FILES = sorted(str(p.relative_to(ROOT)) for p in [*ROOT.glob("core/**/*.py"), *ROOT.glob("views/**/*.py"),
                                                   ROOT / "app.py"])

HEAVY = r"torch|torchvision|timm|captum|plotly|PIL|scipy|skimage|safetensors|huggingface_hub|numpy|tqdm"
REASON = re.compile(
    rf"""\b(heavy|cycle|circular|optional|lazy|lazily|defer\w*|slow|light)\b
       | \bonly\s+(when|if|once|now|for|by|on|where|in)\b
       | ~\s?\d[\d.]*\s?(s|ms|MB|GB)\b
       | \bsee\s+\S
       | \b(core|views)\.\w+ | [\w/]+\.py\b
       | \b({HEAVY})\b""",
    re.IGNORECASE | re.VERBOSE,
)
LINT = re.compile(r"""\bnoqa\b(:\s*[A-Z]+\d+(\s*,\s*[A-Z]+\d+)*)? | \btype:\s*ignore(\[[^\]]*\])?
                     | \bpragma:\s*no\s+(cover|branch) | \b(pylint|fmt|isort):\s*\S+""", re.IGNORECASE | re.VERBOSE)


def import_blocks(source: str) -> list[tuple[int, str]]:
    """``[(first line, comment text)]`` for each block of function-level imports: the ``#`` parts of its lines and
    the comment lines directly above it. Blocks as in the import-graph test: imports separated by blank lines
    only."""
    lines = source.splitlines()
    tree = ast.parse(source)
    inside = sorted({node.lineno for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                     for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))})
    blocks: list[list[int]] = []
    for line in inside:
        if blocks and all(not lines[i - 1].strip() for i in range(blocks[-1][-1] + 1, line)):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    out = []
    for block in blocks:
        text = [lines[i - 1].split("#", 1)[1] for i in block if "#" in lines[i - 1]]
        above = block[0] - 1
        while above >= 1 and lines[above - 1].strip().startswith("#"):
            text.insert(0, lines[above - 1].strip()[1:])
            above -= 1
        out.append((block[0], " ".join(t.strip() for t in text)))
    return out


def is_reason(comment: str) -> bool:
    text = LINT.sub(" ", comment)
    return len(re.findall(r"[A-Za-z~]\S*", text)) >= 3 and bool(REASON.search(text))


def test_the_reason_rule_tells_reasons_from_boilerplate():
    for good in ["heavy: see core/cli/__init__.py",
                 "here: a cycle (core.runs imports core.train, which imports core.models)",
                 "here: only when \"auto\" must be decided; this module stays light",
                 "heavy (~1 s): scipy.stats, only for the sanity check's rank correlation",
                 "noqa: PLC0415 - timm costs a second at import"]:
        assert is_reason(good), good
    for bad in ["", "noqa", "noqa: PLC0415", "type: ignore[import]", "import here", "here", "see above",
                "lazy", "pragma: no cover"]:
        assert not is_reason(bad), bad
    src = ("def f():\n    # torch here: a queued worker stays small\n    # (see core/runs/worker.py)\n    import torch\n\n"
           "    import os  # noqa: PLC0415\n\ndef g():\n    import json\n")
    assert import_blocks(src) == [(4, "torch here: a queued worker stays small (see core/runs/worker.py) noqa: PLC0415"),
                                  (9, "")]


def test_every_function_level_import_comment_is_a_reason():
    weak = [f"{rel}:{line}: #{text or ' (none)'}" for rel in FILES
            for line, text in import_blocks((ROOT / rel).read_text(encoding="utf-8")) if not is_reason(text)]
    assert weak == [], "function-level imports whose comment says no reason:\n" + "\n".join(weak)
