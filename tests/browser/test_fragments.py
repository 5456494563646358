"""A section rerun alone (``st.fragment``) shows what a full run of the page shows.

The pages rerun only the section a widget belongs to (Couverture: the map and its view,
the town-hall picker, the report; Isochrones: everything under the title; Arrêts
proposés: the proposal). For each, in a real browser: change a widget inside the
fragment and read the figures on screen; rerun the whole page in the same session
(Streamlit's « R » key: same widget values, every section recomputed) and read them
again; then run the page fresh with the same values in Streamlit's AppTest (another
process' view of the same data). The three must be equal. Runs are told apart on the
websocket (``benchmarks.interactions.Probe``: a fragment run's ``new_session`` names its
fragments), so the test checks that the first change really was a fragment run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.interactions import Probe, wait_idle
from maillage import fmt, settings

ROOT = Path(__file__).resolve().parents[2]
SLOW_S = 240.0

#: The figures a visitor reads, by kind, from the page's main column (sidebar excluded:
#: it says how far the background loading got).
_FIGURES = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const txt = e => (e.innerText ?? e.textContent).replace(/\\s+/g, ' ').trim();
  const all = s => [...main.querySelectorAll(s)].map(txt);
  const part = (m, s) => { const e = m.querySelector(s); return e ? txt(e) : ''; };
  return {
    metrics: [...main.querySelectorAll('[data-testid="stMetric"]')].map(m => [
      part(m, '[data-testid="stMetricLabel"]'), part(m, '[data-testid="stMetricValue"]'),
      part(m, '[data-testid="stMetricDelta"]')]),
    legends: all('.maillage-legend'),
    captions: all('[data-testid="stCaptionContainer"]'),
    headings: all('h1, h2, h3'),
    texts: all('[data-testid="stMarkdownContainer"] p'),
    // the plotly charts' legends and axis labels (the communes' bars are in share order)
    charts: all('[data-testid="stPlotlyChart"] .legendtext, '
                + '[data-testid="stPlotlyChart"] .ytick text'),
  };
}"""


def _figures(pg) -> dict:
    return pg.evaluate(_FIGURES)


def _act(pg, probe: Probe, action: Callable[[], None]) -> tuple[int, int]:
    """Do ``action`` and wait until the page is idle; (runs, fragment runs) it started."""
    started, frags, ok = probe.runs_started, probe.fragment_runs, probe.runs_ok
    action()
    wait_idle(pg, probe, ok, SLOW_S)
    return probe.runs_started - started, probe.fragment_runs - frags


def _full_rerun(pg, probe: Probe) -> dict:
    """Rerun the whole page (key « R », as a visitor would) and read its figures."""
    def press() -> None:
        # no widget focused (Streamlit ignores the key in a field or a map's frame)
        pg.evaluate("() => { document.activeElement?.blur(); document.body.focus(); }")
        pg.keyboard.press("r")

    runs, frags = _act(pg, probe, press)
    assert runs >= 1 and frags < runs, "la touche R doit relancer toute la page"
    return _figures(pg)


def _choose(pg, label: str, option: str) -> None:
    pg.get_by_role("combobox", name=label).click()
    pg.keyboard.type(option)
    pg.get_by_role("option", name=option, exact=True).click()


def _open(pg, probe: Probe, url: str) -> None:
    probe.attach(pg)
    ok = probe.runs_ok
    pg.goto(url)
    wait_idle(pg, probe, ok, SLOW_S)


@pytest.fixture()
def fresh(browser_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """A fresh run of a page in AppTest, on the server's data, with some session values."""
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(browser_data_dir))
    settings.get.cache_clear()

    def run(page: str, state: dict | None = None,
            widgets: Callable[[AppTest], None] | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=SLOW_S)
        at.run()
        at.switch_page(f"pages/{page}")
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
        if widgets is not None:
            widgets(at)
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield run
    settings.get.cache_clear()


def _metrics(at: AppTest) -> list[list[str]]:
    """The metrics of an AppTest run as the browser shows them (label, value, delta)."""
    return [[m.label, m.value, m.delta or ""] for m in at.metric]


def _normalise(metrics: list[list[str]]) -> list[list[str]]:
    return [[" ".join(x.split()) for x in m] for m in metrics]


def test_couverture_sections_rerun_alone_show_the_full_run_figures(page, app_server: str,
                                                                   fresh) -> None:
    probe = Probe()
    _open(page, probe, f"{app_server}/couverture")
    today = _figures(page)
    assert today["metrics"] and today["legends"] and today["charts"]
    assert page.locator("[data-testid='stPlotlyChart']").count() == 2

    # the map's view is a fragment: only the map and its legend change
    runs, frags = _act(page, probe, lambda: page.locator("[data-testid='stRadio']").filter(
        has_text="Carte").get_by_text("Carreaux : temps de trajet", exact=True).click())
    assert runs == frags == 1
    cells = _figures(page)
    assert cells["metrics"] == today["metrics"] and cells["charts"] == today["charts"]
    assert cells["legends"] != today["legends"]
    assert any(x.startswith("Temps jusqu'au lieu le plus proche à pied") for x in
               cells["legends"])
    assert _full_rerun(page, probe) == cells

    # picking a town hall reruns the picker alone, nothing else moves
    hall = "Mairie de Sainte-Luce"
    runs, frags = _act(page, probe, lambda: _choose(page, "Ajouter une mairie comme point",
                                                    hall))
    assert runs == frags == 1
    assert _figures(page) == cells

    # adding it changes every figure: the picker's run, then the whole page's
    runs, frags = _act(page, probe, lambda: page.get_by_role(
        "button", name="Ajouter ce point").click())
    assert runs == 2 and frags == 1
    added = _figures(page)
    assert "Effet des hypothèses" in added["headings"]
    assert added["metrics"] != cells["metrics"]
    assert any(t.startswith("Points ajoutés : " + hall) for t in added["captions"])
    assert _full_rerun(page, probe) == added

    # a fresh run of the page with the same point and view shows the same figures
    from geo import supply

    halls = supply.mairies(settings.get())
    row = halls[halls["name"] == hall].iloc[0]
    at = fresh("couverture.py", {
        "cov_points": [(float(row.geometry.x), float(row.geometry.y), hall)],
        "cov_view": "Carreaux : temps de trajet"})
    assert _normalise(_metrics(at)) == _normalise(added["metrics"])
    gain = [m.value for m in at.markdown if "nouvellement couverts" in m.value]
    shown = [t for t in added["texts"] if "nouvellement couverts" in t]
    assert len(gain) == len(shown) == 1
    assert re.sub(r"\*\*", "", " ".join(gain[0].split())) == shown[0]


def test_isochrones_section_rerun_alone_shows_the_full_run_bands(page, app_server: str,
                                                                 fresh) -> None:
    probe = Probe()
    _open(page, probe, f"{app_server}/isochrones")

    def geojson() -> list[dict]:
        with page.expect_download() as dl:
            page.get_by_role("button", name="Télécharger (GeoJSON)").click()
        doc = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        return [f["properties"] for f in doc["features"]]

    runs, frags = _act(page, probe, lambda: _choose(page, "Ou partir d'une mairie",
                                                    "Saint-Joseph"))
    assert runs == frags == 1
    runs, frags = _act(page, probe, lambda: page.locator("[data-testid='stRadio']").filter(
        has_text="Mode").get_by_text("En voiture", exact=True).click())
    assert runs == frags == 1
    alone, bands = _figures(page), geojson()
    assert alone["legends"] and bands
    assert _full_rerun(page, probe) == alone
    assert geojson() == bands

    # a fresh run with the same town hall and mode: the same bands, the same table
    def choose(at: AppTest) -> None:
        next(r for r in at.radio if r.label == "Mode").set_value("En voiture")
        at.selectbox(key="iso_hall").set_value("Saint-Joseph")

    at = fresh("isochrones.py", widgets=choose)
    table = at.dataframe[0].value
    assert list(table["Habitants dans la bande"]) == [fmt.number(b["population"])
                                                      for b in bands]
    assert list(table["Habitants cumulés"]) == [fmt.number(b["population_cum"])
                                                for b in bands]
    legend = alone["legends"][0]  # « Temps de trajet 0 à 10 min 10 à 20 min … »
    assert [legend.find(t) for t in table["Temps"]] == sorted(
        legend.find(t) for t in table["Temps"]) and all(t in legend for t in table["Temps"])


def test_arrets_proposes_section_rerun_alone_shows_the_full_run_figures(
        page, app_server: str, fresh) -> None:
    probe = Probe()
    _open(page, probe, f"{app_server}/arrets_proposes")
    first = _figures(page)

    def twelve() -> None:
        box = page.get_by_label("Nombre d'arrêts", exact=True)
        box.fill("12")
        box.press("Enter")

    runs, frags = _act(page, probe, twelve)
    assert runs == frags == 1
    alone = _figures(page)
    assert alone["metrics"] != first["metrics"]
    assert any("Avec les 12 arrêts" in m[0] for m in alone["metrics"])
    assert _full_rerun(page, probe)["metrics"] == alone["metrics"]

    at = fresh("arrets_proposes.py", widgets=lambda at: next(
        n for n in at.number_input if n.label == "Nombre d'arrêts").set_value(12))
    assert _normalise(_metrics(at)) == _normalise(alone["metrics"])
