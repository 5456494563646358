"""The Indicateurs page renders recorded figures, their plotly charts and the map, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from analysis import indicators as ind
from maillage.indicators import charts
from tests.browser.conftest import ROOT, map_frame

DOCS = ROOT / "docs" / "screenshots"


def _cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    env.pop("MAILLAGE_DATABASE_URL", None)  # the server's own database
    return subprocess.run([sys.executable, "-m", "maillage.cli", *args], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True, timeout=300)


def _figures_file(path: Path, today: date) -> Path:
    """Three months of mobile workshops and remote sessions, up to this month."""
    months = [date(today.year, m, 1) for m in range(1, today.month + 1)][-3:]
    lines = ["indicateur,mois,code_insee,lieu,dimension,valeur"]
    for k, m in enumerate(months, start=1):
        mois = f"{m:%Y-%m}"
        for code, held in (("97209", 2 + k), ("97213", k)):
            lines += [f"workshops_held,{mois},{code},,,{held}",
                      f"workshop_attendance,{mois},{code},,,{9 * held}",
                      f"workshop_attendance_seniors,{mois},{code},,,{4 * held}"]
        lines += [f"remote_sessions,{mois},,,{ch},{10 * k + j}"
                  for j, ch in enumerate(ind.CHANNELS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_indicators_page_shows_recorded_figures_and_charts(page, app_server: str,
                                                          browser_data_dir: Path,
                                                          tmp_path: Path) -> None:
    today = date.today()
    _cli(["indicators", "import", str(_figures_file(tmp_path / "chiffres.csv", today))],
         browser_data_dir)
    _cli(["indicators", "targets", "set", "workshops_held", "--year", str(today.year),
          "--value", "60"], browser_data_dir)
    summary = json.loads(_cli(["indicators", "summary", "--year", str(today.year), "--json"],
                              browser_data_dir).stdout)
    expected = {r["indicator"]: r for r in summary}
    assert expected["workshops_held"]["has_data"] and expected["remote_sessions"]["has_data"]

    remote: list[str] = []
    page.on("requestfailed", lambda r: remote.append(r.url))
    page.goto(f"{app_server}/indicateurs")
    page.get_by_text("Indicateurs des cinq solutions").wait_for()

    # The figures shown are the ones the store computes (value and target).
    spec = ind.INDICATORS["workshops_held"]
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=spec.label).first
    metric.wait_for()
    shown = metric.inner_text()
    assert charts.fmt(expected["workshops_held"]["value"], spec) in shown
    assert charts.fmt(expected["workshops_held"]["target"], spec) in shown
    assert "Aucun chiffre enregistré pour l'instant" not in page.inner_text("body")

    # The monthly trends of the three mobile-workshop indicators are drawn by plotly.
    mobile = [s for s in ind.of_solution("mobile") if expected[s.key]["has_data"]]
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(mobile)}")
    visible = page.locator(".js-plotly-plot:visible")
    assert visible.count() >= len(mobile)
    titles = page.eval_on_selector_all(
        ".js-plotly-plot .gtitle",
        "els => els.filter(e => e.getBoundingClientRect().width > 0).map(e => e.textContent)")
    for s in mobile:
        assert any(t.startswith(s.label) for t in titles), (s.label, titles)
    bars = page.locator(".js-plotly-plot:visible g.point").count()
    assert bars >= 3  # one bar per month at least for the workshops held

    # Remote support: trend and channel chart in its tab.
    page.get_by_role("tab", name=ind.SOLUTIONS["remote"].short).click()
    page.wait_for_function(
        "[...document.querySelectorAll('.js-plotly-plot .gtitle')]"
        ".some(t => t.textContent.includes('par canal'))")

    # The map shades every commune; nothing was fetched from another host.
    frame = map_frame(page)
    frame.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 34")
    assert not [u for u in remote if u.endswith((".js", ".css"))]
    DOCS.mkdir(parents=True, exist_ok=True)
    page.get_by_role("tab", name=ind.SOLUTIONS["mobile"].short).click()
    page.screenshot(path=str(DOCS / "indicateurs.png"), full_page=False)


def test_the_five_tabs_fit_on_a_phone(phone_page, app_server: str) -> None:
    """Short tab labels: all five visible side by side from 360 px wide (no sideways scroll)."""
    phone_page.goto(f"{app_server}/indicateurs")
    tabs = phone_page.get_by_role("tab")
    tabs.first.wait_for()
    assert tabs.all_inner_texts() == [s.short for s in ind.SOLUTIONS.values()]
    strip = phone_page.locator("[role='tablist']").first
    for width in (375, 360):
        phone_page.set_viewport_size({"width": width, "height": 812})
        sizes = strip.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert sizes[0] <= sizes[1], (width, sizes)
        right = strip.evaluate("el => el.getBoundingClientRect().right")
        last = tabs.last.bounding_box()
        assert last is not None and last["x"] + last["width"] <= right, (width, last, right)
