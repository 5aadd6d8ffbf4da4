"""CNN Playground core: all the logic behind the app, usable from notebooks and the CLI.

This package never imports Streamlit (``tests/unit/test_boundaries.py`` enforces it).
"""

__all__ = ["PlaygroundError"]

from core.errors import PlaygroundError  # noqa: E402
