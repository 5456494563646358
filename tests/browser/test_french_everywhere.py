"""Every page, on a desktop and on a phone, shows no English nor raw missing values.

What Streamlit writes itself is put into French by ``ui/theme.py``; what stays English
is listed in ``docs/interface.md``. The check reads the visible text, the screen-reader
labels (``aria-label``) and the dropdown of a multiselect once opened.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import _local_only
from tests.browser.pages_walk import PATHS, open_page

#: Desktop and phone, as the issue asks.
VIEWPORTS = {
    "bureau": {"viewport": {"width": 1280, "height": 900}},
    "telephone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True,
                  "has_touch": True, "device_scale_factor": 2},
}

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


def _offending(pg) -> list[str]:
    """What is still English once the page has settled (the French texts are put in by a
    script as Streamlit draws: a label may read English for a moment, so look twice)."""
    for _ in range(2):
        bad = sorted({m.group(0) + " « " + line.strip()[:80] + " »"
                      for line in pg.evaluate(_TEXTS).splitlines()
                      for m in [FORBIDDEN.search(line)] if m})
        if not bad:
            break
        pg.wait_for_timeout(1000)
    return bad


def _open_first_multiselect(pg) -> bool:
    box = pg.locator("[data-testid='stMultiSelect'] input[role='combobox']").first
    if not box.count() or not box.is_visible():
        # Expanders draw their content only once opened: open them all (their text is
        # then checked too).
        closed = pg.locator("[data-testid='stExpander'] details:not([open]) > summary")
        for _ in range(closed.count()):
            closed.first.click()
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


def _walk(pg, base: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    opened = 0
    for path in PATHS:
        open_page(pg, base, path)
        bad = _offending(pg)
        if _open_first_multiselect(pg):
            opened += 1
            bad += _offending(pg)
            pg.keyboard.press("Escape")
        if bad:
            found[path or "accueil"] = sorted(set(bad))
    assert opened, "aucune liste à choix multiples ouverte : le test ne vérifie plus rien"
    return found


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_no_english_nor_raw_missing_values(screen: str, browser, app_server: str) -> None:
    context = browser.new_context(locale="fr-FR", **VIEWPORTS[screen])
    context.route("**/*", _local_only)
    try:
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        assert _walk(pg, app_server) == {}
    finally:
        context.close()
