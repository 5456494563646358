"""Shared by the whole-dashboard browser tests: every page's URL and a wait until it is drawn."""

from __future__ import annotations

import ast
from pathlib import Path

_APP = Path(__file__).resolve().parents[2] / "app.py"


def _paths() -> list[str]:
    """URL paths of ``app.py``'s ``PAGES`` (read, not imported: importing runs the app)."""
    for node in ast.parse(_APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            files = [row[0] for row in ast.literal_eval(node.value)]
            return [""] + [f.removesuffix(".py") for f in files[1:]]
    raise AssertionError("PAGES introuvable dans app.py")


#: URL path of every page (the first, the home page, is served at ``/``).
PATHS = _paths()

#: The page has finished running: a title, no « Chargement… », no running indicator.
_DRAWN = ("document.querySelector('[data-testid=\"stMain\"] h1') !== null"
          " && !document.body.innerText.includes('Chargement')"
          " && !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def open_page(pg, base: str, path: str) -> None:
    """Go to ``path`` and wait until Streamlit has drawn it completely."""
    pg.goto(f"{base}/{path}")
    pg.wait_for_function(_DRAWN, timeout=180_000)
    pg.wait_for_timeout(800)  # let the last deltas and the French texts settle
    pg.wait_for_function(_DRAWN, timeout=180_000)
