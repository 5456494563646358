"""An anonymous visitor who opens every page and clicks every button writes nothing, reads
French everywhere and meets no axe-core violation.

One walk through the dashboard on a desktop makes three checks on each page (one visit
per page: the walks were the longest part of the suite):

* **axe-core** (WCAG 2.0/2.1 A and AA, :data:`tests.browser.pages_walk.AXE_OPTIONS`) on
  the page as first drawn;
* **French**: no English nor raw missing value in the text, the screen-reader labels and a
  multiselect's dropdown (:func:`tests.browser.pages_walk.french_problems`), as first
  drawn and again after every button was clicked (messages, opened sections); the phone
  makes the same check in ``test_french_everywhere.py``;
* **nothing written**, as follows.

The server of the test session runs on a data folder prepared once by the data step.
Before, between and after the pages, the test takes a snapshot of that folder (sha256 of
every file) and of the database (every row of every table, read through
:func:`maillage.db.dump`): they must stay identical. The SQLite files themselves are
compared through their rows, not their bytes (a checkpoint of the WAL journal rewrites
the file without changing its content). The only file left out is listed in
:data:`NOT_DATA` with the reason.

On each page of ``app.py``'s ``PAGES`` (desktop 1280 × 900, signed out) every expander
is opened, then every visible, enabled button of the main area is clicked once (the
Streamlit buttons, download and form buttons first, then the others: number steps…),
tab after tab, waiting after each click until the script has finished; at most
:data:`MAX_CLICKS` clicks and about :data:`PAGE_BUDGET_S` seconds of clicking per page.
The sidebar (navigation, sign-in form) is left alone, and so are the toolbars Streamlit
draws over tables and charts (full screen, search, CSV of the shown table: handled in the
browser, they never reach the server).
"""

from __future__ import annotations

import ast
import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from maillage import db, settings
from tests.browser.conftest import ROOT, _local_only
from tests.browser.pages_walk import axe_violations, french_problems, wait_settled

#: Most button clicks on one page.
MAX_CLICKS = 25
#: Seconds of clicking on one page (the first load of a page is waited for apart).
PAGE_BUDGET_S = 60.0
#: Longest wait for a page's first run (the first visit builds the shared caches).
FIRST_LOAD_MS = 240_000
#: Files of the data folder that are not data, with the reason.
NOT_DATA = {
    "streamlit.log": "journal du serveur de test lui-même (fixture app_server)",
}
#: Database files, compared through their rows (db.dump), not their bytes.
DB_FILES = ("maillage.db", "maillage.db-wal", "maillage.db-shm", "maillage.db-journal")

MAIN = "[data-testid='stMain']"
WIDGETS = ("[data-testid='stButton'], [data-testid='stDownloadButton'], "
           "[data-testid='stFormSubmitButton']")
TOOLBAR = "[data-testid='stElementToolbar']"


def _pages() -> list[str]:
    """The page files of ``app.py``'s ``PAGES``, in menu order."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PAGES"
                                                 for t in node.targets)):
            return [elt.elts[0].value for elt in node.value.elts]
    raise AssertionError("PAGES introuvable dans app.py")


def _files(data_dir: Path) -> dict[str, str]:
    out = {}
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir).as_posix()
        if not path.is_file() or rel in NOT_DATA or path.name in DB_FILES:
            continue
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _snapshot(data_dir: Path) -> tuple[dict[str, str], dict[str, list[tuple]]]:
    s = replace(settings.from_env(), data_dir=data_dir, database_url="")
    try:
        return _files(data_dir), db.dump(s)
    finally:
        db.engine(s).dispose()


def _diff(before, after) -> str:
    files0, rows0 = before
    files1, rows1 = after
    lines = [f"fichier ajouté : {f}" for f in sorted(files1.keys() - files0.keys())]
    lines += [f"fichier supprimé : {f}" for f in sorted(files0.keys() - files1.keys())]
    lines += [f"fichier modifié : {f}" for f in sorted(files0.keys() & files1.keys())
              if files0[f] != files1[f]]
    lines += [f"table {t} : {len(rows0.get(t, []))} → {len(rows1.get(t, []))} lignes"
              for t in sorted(rows0.keys() | rows1.keys()) if rows0.get(t) != rows1.get(t)]
    return "\n".join(lines)


def _idle(pg, timeout_s: float) -> None:
    """Wait until the page's script has finished (state ``notRunning``) and the main area
    has stopped changing (the browser may still be drawing what the script sent)."""
    deadline = time.monotonic() + timeout_s
    calm, last = 0, None
    while time.monotonic() < deadline:
        state = pg.evaluate("""() => [
            document.querySelector("[data-testid='stApp']")
                ?.getAttribute("data-test-script-state"),
            document.querySelectorAll("[data-testid='stMain'] *").length,
            document.querySelectorAll("[data-testid='stSpinner']").length]""")
        still = state[0] in ("notRunning", "compilationError") and not state[2]
        calm = calm + 1 if still and state[1] == last else 0
        last = state[1]
        if calm >= 4:
            return
        pg.wait_for_timeout(200)


def _name(button) -> str:
    return (button.get_attribute("aria-label") or button.inner_text() or "").strip()


def _next_button(pg, clicked: set[tuple[str, int]]):
    """The first visible, enabled button of the main area not clicked yet (or None);
    Streamlit's buttons (plain, download, form) come before the others."""
    found = pg.locator(MAIN).get_by_role("button")
    widgets, others = [], []
    seen: dict[str, int] = {}
    for i in range(found.count()):
        b = found.nth(i)
        try:
            if not b.is_visible() or not b.is_enabled():
                continue
            where = b.evaluate(f"""e => e.closest("{TOOLBAR}") ? "toolbar"
                                   : e.closest("{WIDGETS}") ? "widget" : "other" """)
            name = _name(b)
        except PlaywrightError:  # the element went away with a rerun
            continue
        if where == "toolbar":
            continue
        key = (name, seen.get(name, 0))
        seen[name] = key[1] + 1
        if key not in clicked:
            (widgets if where == "widget" else others).append((key, b))
    return (widgets + others)[0] if widgets or others else None


def _open_expanders(pg) -> None:
    closed = pg.locator(f"{MAIN} details:not([open]) > summary")
    for _ in range(closed.count()):
        try:
            closed.first.click(timeout=5_000)
        except PlaywrightError:
            break


@dataclass
class Visit:
    """What one page showed: buttons clicked, axe-core's violations, English found."""

    clicked: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    english: list[str] = field(default_factory=list)
    multiselect: bool = False


def _visit(pg, url: str) -> Visit:
    """Open the page, check it as first drawn (axe-core, French), click everything,
    check its French again."""
    pg.goto(url)
    pg.locator(f"{MAIN} h1").first.wait_for(timeout=FIRST_LOAD_MS)
    wait_settled(pg, FIRST_LOAD_MS)
    visit = Visit(axe=axe_violations(pg))
    visit.english, visit.multiselect = french_problems(pg)
    visit.clicked = _click_everything(pg, url)
    wait_settled(pg, FIRST_LOAD_MS)
    again, _ = french_problems(pg)
    visit.english = sorted(set(visit.english) | set(again))
    return visit


def _click_everything(pg, url: str) -> list[str]:
    """Click each button of the page once (tab after tab); the names clicked."""
    deadline = time.monotonic() + PAGE_BUDGET_S
    clicked: set[tuple[str, int]] = set()
    names: list[str] = []
    tabs_done = 0
    while len(names) < MAX_CLICKS and time.monotonic() < deadline:
        _open_expanders(pg)
        nxt = _next_button(pg, clicked)
        if nxt is None:
            tabs = pg.locator(f"{MAIN} [role='tab']")
            if tabs_done >= tabs.count():
                break
            tabs.nth(tabs_done).click()
            tabs_done += 1
            _idle(pg, 10)
            continue
        key, button = nxt
        clicked.add(key)
        try:
            button.click(timeout=10_000)
        except PlaywrightError:  # covered or gone after a rerun: next one
            continue
        names.append(key[0])
        pg.wait_for_timeout(300)  # let the rerun start
        _idle(pg, max(5.0, deadline - time.monotonic()))
        pg.keyboard.press("Escape")  # close a menu, dialog or full-screen view
        if pg.url.split("?")[0] != url:  # a button led elsewhere: come back
            pg.goto(url)
            _idle(pg, 60)
    return names


@pytest.fixture()
def desktop(browser, app_server: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                  accept_downloads=True)
    context.route("**/*", _local_only)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def test_anonymous_visitor_clicking_everything_writes_nothing_in_french_and_accessibly(
        desktop, app_server: str, browser_data_dir: Path) -> None:
    start = _snapshot(browser_data_dir)
    assert start[1].get("places"), "le registre de la session de test est vide"
    before = start
    report: dict[str, Visit] = {}
    for file in _pages():
        url = f"{app_server}/{file.removesuffix('.py')}"
        report[file] = _visit(desktop, url)
        after = _snapshot(browser_data_dir)
        assert after == before, f"la page {file} a écrit :\n{_diff(before, after)}"
        before = after
    print("\n".join(f"{f} : {len(v.clicked)} clic(s) : {', '.join(v.clicked) or '—'}"
                    for f, v in report.items()))
    assert sum(len(v.clicked) for v in report.values()) > 0, "aucun bouton cliqué"
    assert _snapshot(browser_data_dir) == start
    assert {f: v.axe for f, v in report.items() if v.axe} == {}
    assert {f: v.english for f, v in report.items() if v.english} == {}
    assert any(v.multiselect for v in report.values()), (
        "aucune liste à choix multiples ouverte : le contrôle du français ne lit plus rien")
