"""Plain-text tables for the human-readable (non ``--json``) output of CLI commands."""
from __future__ import annotations

from typing import Any, Callable, Sequence

Column = tuple[str, Callable[[dict[str, Any]], Any], str]  # (header, value getter, "<" or ">" alignment)


def fmt_count(n: int | None) -> str:
    """12345678 -> '12.35 M' (parameters, MACs)."""
    if n is None:
        return "—"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return str(n)


def fmt_opt(v: Any, spec: str = "") -> str:
    return "—" if v is None else format(v, spec)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    cells = [[str(get(r)) for _, get, _ in columns] for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (h, _, _) in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if align == ">" else v.ljust(w) for v, w, (_, _, align) in zip(values, widths, columns)
        ).rstrip()

    out = [line([h for h, _, _ in columns]), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return "\n".join(out)
