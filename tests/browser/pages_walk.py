"""Shared by the whole-dashboard browser tests: every page's URL, a wait until it is
drawn, and what every visit checks (French text, axe-core)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

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


# ----------------------------------------------------------------------------- checks
# What every visit of a page checks, whichever walk makes it (signed out, on a desktop in
# tests/browser/test_anonymous_readonly.py, on a phone in test_french_everywhere.py).

_MONTHS = ("January|February|March|April|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun"
#: Words no visitor should read (``May`` is left out: « mai » never reads as it).
FORBIDDEN = re.compile(
    r"Select all|Help for|Drag and drop|Browse files|MB per file|\bKB\b|\d(?:KB|MB)\b"
    r"|\bNone\b|\bnan\b|\bNaN\b"
    rf"|\b(?:{_MONTHS})\b|\b(?:{_DAYS})\b")

_TEXTS = """() => {
  const out = [document.body.innerText];
  for (const el of document.querySelectorAll('[aria-label]'))
    out.push(el.getAttribute('aria-label'));
  return out.join('\\n');
}"""


def offending(pg) -> list[str]:
    """What is still English (or a raw missing value) in the visible text and the
    screen-reader labels once the page has settled (the French texts are put in by a
    script as Streamlit draws: a label may read English for a moment, so look twice)."""
    bad: list[str] = []
    for _ in range(2):
        bad = sorted({m.group(0) + " « " + line.strip()[:80] + " »"
                      for line in pg.evaluate(_TEXTS).splitlines()
                      for m in [FORBIDDEN.search(line)] if m})
        if not bad:
            break
        pg.wait_for_timeout(1000)
    return bad


def open_first_multiselect(pg) -> bool:
    """Open the first multiselect's dropdown (its options are text too); False if the
    page has none. Expanders draw their content only once opened: they are opened."""
    box = pg.locator("[data-testid='stMultiSelect'] input[role='combobox']").first
    if not box.count() or not box.is_visible():
        closed = pg.locator("[data-testid='stExpander'] details:not([open]) > summary")
        for _ in range(closed.count()):
            try:  # an expander under an open dialog is inert: leave it
                closed.first.click(timeout=5_000)
            except PlaywrightError:
                break
            pg.wait_for_timeout(300)
        try:
            box.wait_for(state="visible", timeout=15_000)
        except PlaywrightTimeout:
            return False
    box.scroll_into_view_if_needed()
    box.click()
    pg.wait_for_selector("[role='listbox']", timeout=20_000)
    pg.wait_for_timeout(300)
    return True


def french_problems(pg) -> tuple[list[str], bool]:
    """:func:`offending` on the page, then with its first multiselect open (closed
    again); and whether there was one to open."""
    bad = offending(pg)
    opened = open_first_multiselect(pg)
    if opened:
        bad += offending(pg)
        pg.keyboard.press("Escape")
    return sorted(set(bad)), opened


#: axe-core's rules: WCAG 2.0 and 2.1, levels A and AA (what was changed to pass them,
#: and any rule left out, is written in docs/interface.md).
AXE_OPTIONS = {"runOnly": {"type": "tag",
                           "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}


def axe_violations(pg) -> list[str]:
    """axe-core's violations on the page as it is (one line each, three targets)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(pg, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']} ({v['impact']}): " + "; ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in found]
