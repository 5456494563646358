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

#: The page has a title and its script has stopped; nothing is « Chargement… », no spinner
#: turns and no element is dimmed as stale (Streamlit fades the previous run's elements
#: while a run is on: measured then, their contrast would be wrong).
_SETTLED = """() => [
    document.querySelector('[data-testid="stMain"] h1') !== null
      && ['notRunning', 'compilationError'].includes(document.querySelector(
             '[data-testid="stApp"]')?.getAttribute('data-test-script-state'))
      && !document.querySelector('[data-testid="stStatusWidget"]')
      && !document.querySelector('[data-testid="stSpinner"]')
      && !document.querySelector('[data-stale="true"]')
      && !document.body.innerText.includes('Chargement'),
    document.querySelectorAll('[data-testid="stMain"] *').length]"""


def wait_settled(pg, timeout_ms: int = 180_000, calm_ms: int = 1_000) -> None:
    """Wait until the page is settled (:data:`_SETTLED`) and its main area has not changed
    size for ``calm_ms`` (the browser may still be drawing what the script sent)."""
    step = 200
    calm, last, waited = 0, None, 0
    while waited < timeout_ms:
        settled, size = pg.evaluate(_SETTLED)
        calm = calm + step if settled and size == last else 0
        last = size
        if calm >= calm_ms:
            return
        pg.wait_for_timeout(step)
        waited += step
    raise AssertionError(f"La page {pg.url} ne s'est pas stabilisée en {timeout_ms // 1000} s.")


def open_page(pg, base: str, path: str) -> None:
    """Go to ``path`` and wait until Streamlit has drawn it completely."""
    pg.goto(f"{base}/{path}")
    pg.wait_for_selector('[data-testid="stMain"] h1', timeout=180_000)
    wait_settled(pg)
