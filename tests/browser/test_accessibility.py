"""axe-core (WCAG 2.0/2.1 A and AA) finds no violation on any page of the dashboard.

The rules come from axe-core itself (``axe_playwright_python``); what the project had to
change to pass them, and any rule left out, is written in ``docs/interface.md``.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from tests.browser.pages_walk import PATHS, open_page

OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}


def _summary(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): " + "; ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in violations]


def test_every_page_has_no_axe_violation(page, app_server: str) -> None:
    axe = Axe()
    found = {}
    for path in PATHS:
        open_page(page, app_server, path)
        violations = axe.run(page, options=OPTIONS).response["violations"]
        if violations:
            found[path or "accueil"] = _summary(violations)
    assert found == {}
