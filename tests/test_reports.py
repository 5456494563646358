"""The documents to hand over (issue #20): the coverage report and the sheet of a place.

* the report's figures are the coverage service's for the same request (cells parsed
  out of the HTML, compared with the service's tables formatted by ``maillage.fmt``),
  on a tiny island and on the real one (island and CAP Nord);
* the files are self-contained: no external ``src``/``href``/``<link>``/script, and a real
  browser opening them asks for nothing but ``data:``/``about:``;
* the command line writes the same bytes as the service (and as the page's button) for
  the same inputs and date;
* hostile text from the registry is escaped; the QR code is segno's for the expected URL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import finder as finder_mod
from analysis import siting
from maillage import cli, fmt, settings, tour_store
from maillage.errors import MaillageError
from maillage.finder import Finder
from maillage.services import coverage as coverage_mod
from maillage.services import documents as documents_mod
from maillage.services import report as report_mod
from maillage.services import sheet as sheet_mod
from maillage.services.coverage import CoverageRequest, CoverageService
from maillage.services.report import CoverageReportRequest, CoverageReportService
from maillage.services.sheet import SheetRequest, SheetService
from tests.coverage_fixtures import cells, lattice, lonlat, random_xy

ROOT = Path(__file__).resolve().parents[1]
MAILLAGE = Path(sys.executable).with_name("maillage")
DAY = date(2026, 12, 1)
HOSTILE = "<script>alert(1)</script> {{7*7}}"
SHARE_MEASURES = ("population", "seniors", "age_80p", "poor_households")


# ----------------------------------------------------------------------------- parsing


class _Tables(HTMLParser):
    """Every ``<table data-mode=… class=…>``: row ``data-code`` → cell ``data-col`` → text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        self._table: dict | None = None
        self._row: dict | None = None
        self._col: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-mode" in a:
            self._table = self.tables.setdefault((a["data-mode"], a.get("class", "")), {})
        elif tag == "tr" and self._table is not None and "data-code" in a:
            self._row = self._table.setdefault(a["data-code"], {})
        elif tag == "td" and self._row is not None:
            self._col, self._text = a.get("data-col"), []

    def handle_data(self, data):
        if self._col is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._col is not None:
            self._row[self._col] = "".join(self._text)
            self._col = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None


def tables_of(html_text: str) -> dict:
    p = _Tables()
    p.feed(html_text)
    return p.tables


def expected_cells(tab: pd.DataFrame, codes: list[str], minute: float) -> dict:
    """The cells the report must show, formatted here with maillage.fmt from the service's
    table (communes of ``codes``, EPCI and island rows)."""
    lab = f"{minute:g}"
    out = {}
    for _, r in tab.iterrows():
        if r["level"] == "commune" and r["code"] not in codes:
            continue
        name = {"commune": r["name"], "epci": f"Total {r['name']}",
                "island": "Martinique"}[r["level"]]
        row = {"name": name, "population": fmt.number(r["population"])}
        for m in SHARE_MEASURES:
            v = r[f"{m}_{lab}_share"]
            row[f"{m}_{lab}_share"] = "—" if not np.isfinite(v) else fmt.percent(v, 1)
        med = r["median_min"]
        row["median_min"] = (fmt.number(med, 1, "min") if np.isfinite(med)
                             else "hors de portée")
        out[str(r["code"])] = row
    return out


def assert_self_contained(text: str) -> None:
    """Nothing external can be fetched: no element that loads a resource, no ``src``, no
    CSS import or ``url()``, no link but ``tel:``/``mailto:`` (text from data is escaped,
    so a ``<`` in it never opens a tag)."""
    low = text.lower()
    for tag in ("<link", "<script", "<img", "<iframe", "<object", "<embed", "<base",
                "<image", "<use", "<foreignobject", "http-equiv"):
        assert tag not in low, tag
    assert "@import" not in low and "url(" not in low
    assert not re.search(r"<[^>]*\s(src|srcset|poster|background)\s*=", low)
    assert not re.search(r"""<[^>]*\shref\s*=(?![\s"']*(tel:|mailto:))""", low)


# ----------------------------------------------------------------------------- tiny island

COMMUNES = {"97201": ("Ouest", "EPCI-A"), "97202": ("Centre", "EPCI-A"),
            "97203": ("Est", "EPCI-B")}


def _communes(dem: pd.DataFrame) -> gpd.GeoDataFrame:
    """Commune outlines: the union of each commune's 200 m cells (EPSG:4326)."""
    rows = []
    for code, part in dem.groupby("code_insee"):
        squares = shapely.box(part["x"] - 100, part["y"] - 100, part["x"] + 100,
                              part["y"] + 100)
        name, epci = COMMUNES[code]
        rows.append({"code_insee": code, "nom": name, "epci_court": epci,
                     "epci_nom": f"Communauté {epci}", "epci_siren": f"2000{code}",
                     "geometry": shapely.union_all(squares)})
    return gpd.GeoDataFrame(rows, crs="EPSG:5490").to_crs("EPSG:4326")


@pytest.fixture()
def tiny(monkeypatch):
    """A coverage service and a Finder on the test lattice (no registry, no store)."""
    g = lattice(oneway_every=3)
    dem = cells(g, COMMUNES, seed=4)
    grid = dem.drop(columns=["commune", "epci", "weight"]).copy()
    communes = _communes(dem)
    xy = random_xy(g, 3, seed=9)
    ll = lonlat(xy)
    places = gpd.GeoDataFrame({
        "place_id": ["p1", "p2", "p3"], "name": ["Un", HOSTILE, "Trois"],
        "commune": ["Ouest", "Centre", "Est"], "code_insee": ["97201", "97202", "97203"],
        "kind": "lieu fixe", "label_status": "", "services": [()] * 3,
        "source": "registre"}, geometry=gpd.points_from_xy(ll[:, 0], ll[:, 1]),
        crs="EPSG:4326")
    monkeypatch.setattr(coverage_mod, "_registry_revision", lambda _s: "fixe")
    s = replace(settings.from_env(), public_url="https://maillage.example.org")
    cov = CoverageService(s, grid, communes, places, "fixe", graph=lambda _mode: g)
    (x0, y0), (x1, y1) = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    land = shapely.box(x0 - 500, y0 - 500, x1 + 500, y1 + 500)
    monkeypatch.setattr(cov, "land", lambda: land)  # the lattice is all land
    public = pd.DataFrame({c: "" for c in _public_columns()}, index=range(3))
    public["id"] = ["p1", "p<2>", "p3"]
    public["nom"] = ["Un", HOSTILE, "Trois"]
    public["adresse"] = ["1 rue A", "<img src=x onerror=alert(1)>", "3 rue C"]
    public["code_postal"], public["commune"] = "97200", ["Ouest", "Centre", "Est"]
    public["telephone"] = ["", "0596 12 34 56", ""]
    public["services"] = ["", "Aide aux démarches|<b>gras</b>", ""]
    public["site_web"] = ["", "javascript:alert(1)", ""]
    public["presentation_resume"] = ["", "{{ 7*7 }} ${x} `y`", ""]
    public["lon"], public["lat"] = ll[:, 0], ll[:, 1]
    nets = {m: finder_mod.prepare(g, ll, m) for m in finder_mod.MODES}
    fnd = Finder(index=None, places=public, nets=nets, land=None)
    return cov, fnd, communes, s, g


def _public_columns():
    from geo import public_places

    return public_places.PUBLIC_COLUMNS


def _report_request(scope: str | None, **kw) -> CoverageReportRequest:
    return CoverageReportRequest(scope=scope, minutes=3, drive_minutes=2, date=DAY, **kw)


@pytest.mark.parametrize("scope", [None, "EPCI-A", "communauté epci-b"])
def test_report_figures_are_the_coverage_service_figures(tiny, scope) -> None:
    cov, *_ = tiny
    res = CoverageReportService(cov).run(_report_request(scope))
    tables = tables_of(res.html)
    epci = {None: None, "EPCI-A": "EPCI-A", "communauté epci-b": "EPCI-B"}[scope]
    codes = [c for c, (_, e) in COMMUNES.items() if epci is None or e == epci]
    for mode, minute in (("walk", 3.0), ("drive", 2.0)):
        service = cov.run(CoverageRequest(mode=mode, minutes=(minute,), by_commune=True))
        tab = service.tables
        if epci is not None:  # the territory's communes, its EPCI and the island
            tab = tab[(tab["level"] != "epci") | (tab["code"] == epci)]
        assert tables[(mode, "couverture")] == expected_cells(tab, codes, minute)
        # the white zones listed are the service's zones of the territory, in its order
        zones = service.zone_table()
        if epci is not None:
            zones = zones[zones["epci"] == epci]
        rows = _zone_rows(res.html, mode)
        assert [row["zone"] for row in rows] == [str(z) for z in zones["zone"].head(10)]
        for row, z in zip(rows, zones.itertuples(), strict=False):
            assert row["population"] == fmt.number(z.population)
            assert row["seniors"] == fmt.number(z.seniors)
            assert row["poor_households"] == fmt.number(z.poor_households)
    assert res.scope_label == (epci or "Martinique")


def _zone_rows(html_text: str, mode: str) -> list[dict[str, str]]:
    """The rows of the white-zone table of ``mode`` (cell ``data-col`` → text)."""
    m = re.search(rf'<table data-mode="{mode}" class="zones">(.*?)</table>', html_text, re.S)
    if m is None:
        return []
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S):
        cells_ = dict(re.findall(r'<td data-col="([^"]+)"[^>]*>(.*?)</td>', tr, re.S))
        if cells_:
            rows.append(cells_)
    return rows


def test_report_whatif_gain_and_hostile_point_name(tiny) -> None:
    cov, *_, g = tiny
    g_ll = lonlat(random_xy(g, 1, seed=3))[0]
    req = _report_request("EPCI-A", added=((g_ll[0], g_ll[1], HOSTILE),), removed=("p1",))
    res = CoverageReportService(cov).run(req)
    text = res.html
    assert HOSTILE not in text and "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}" in text
    for mode, minute in (("walk", 3.0), ("drive", 2.0)):
        direct = cov.run(CoverageRequest(mode=mode, minutes=(minute,), by_commune=True,
                                         added=req.added, removed=req.removed))
        lab = f"{minute:g}"
        d = direct.whatif.delta
        row = d[(d["level"] == "epci") & (d["code"] == "EPCI-A")].iloc[0]
        shown = tables_of(text)[(mode, "hypothese")]["EPCI-A"]
        assert shown[f"population_gain_{lab}"] == fmt.number(row[f"population_gain_{lab}"])
        assert shown[f"population_loss_{lab}"] == fmt.number(row[f"population_loss_{lab}"])
        after = direct.whatif.tables
        after = after[(after["level"] == "epci") & (after["code"] == "EPCI-A")].iloc[0]
        assert shown[f"population_{lab}_share_after"] == fmt.percent(
            after[f"population_{lab}_share"], 1)


def test_report_is_self_contained_and_printable(tiny) -> None:
    cov, *_ = tiny
    text = CoverageReportService(cov).run(_report_request(None)).html
    assert_self_contained(text)
    assert "@page{size:A4" in text and ".saut{break-before:page}" in text
    assert text.count("<svg viewBox") >= 2  # one map per mode
    assert "Rapport du mardi 1 décembre 2026" in text
    assert "OpenStreetMap" in text and "Filosofi" in text


def test_report_requests_are_refused_in_french(tiny) -> None:
    cov, *_ = tiny
    with pytest.raises(MaillageError, match=r"Territoire inconnu.*EPCI-A, EPCI-B"):
        CoverageReportService(cov).run(_report_request("Nulle part"))
    with pytest.raises(MaillageError, match="Durée à pied invalide"):
        CoverageReportRequest(minutes=0).validated()
    with pytest.raises(MaillageError, match="Durée en voiture invalide"):
        CoverageReportRequest(drive_minutes=float("nan")).validated()
    with pytest.raises(MaillageError, match="hors de la Martinique"):
        CoverageReportRequest(added=((2.35, 48.85, "Paris"),)).validated()


def test_same_request_same_bytes_cli_page_service(tiny, monkeypatch, tmp_path,
                                                   capsys) -> None:
    from ui import coverage as coverage_ui

    cov, *_ = tiny
    monkeypatch.setattr(CoverageReportService, "load", classmethod(
        lambda cls, s=None: cls(cov)))
    out = tmp_path / "rapport.html"
    code = cli.main(["report", "coverage", "--epci", "EPCI-A", "--minutes", "3",
                     "--drive-minutes", "2", "--date", "2026-12-01", "--out", str(out)])
    assert code == 0
    req = _report_request("EPCI-A")
    service_bytes = CoverageReportService(cov).run(req).html.encode("utf-8")
    assert out.read_bytes() == service_bytes
    assert coverage_ui.report_bytes(cov, req.validated(cov.communes)) == service_bytes
    assert report_mod.file_name(req) == "rapport-couverture-epci-a-2026-12-01.html"
    # --json prints the service's figures (and writes the same file)
    capsys.readouterr()
    out.unlink()
    assert cli.main(["report", "coverage", "--epci", "epci-a", "--minutes", "3",
                     "--drive-minutes", "2", "--date", "2026-12-01", "--out", str(out),
                     "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    figures = json.loads(json.dumps(CoverageReportService(cov).run(req).to_json(),
                                    ensure_ascii=False, default=str))
    assert printed == {**figures, "fichier": str(out)}
    assert [r["code"] for r in printed["walk"]["rows"]] == ["97202", "97201", "EPCI-A", "972"]
    assert out.read_bytes() == service_bytes


def test_cli_refuses_before_loading(monkeypatch, tmp_path, capsys) -> None:
    def boom(*_a, **_k):
        raise AssertionError("rien ne doit être chargé pour une requête refusée")

    monkeypatch.setattr(CoverageReportService, "load", boom)
    monkeypatch.setattr(SheetService, "load", boom)
    out = str(tmp_path / "r.html")
    assert cli.main(["report", "coverage", "--minutes", "0", "--out", out]) == cli.EXIT_USAGE
    assert "Durée à pied invalide" in capsys.readouterr().err
    assert cli.main(["report", "coverage", "--date", "1/12/2026", "--out", out]) == 2
    assert "Date illisible" in capsys.readouterr().err
    assert cli.main(["report", "coverage", "--out", str(tmp_path / "r.docx")]) == 2
    assert "doit finir par .html ou .pdf" in capsys.readouterr().err
    assert cli.main(["report", "place", "x", "--at", "2.35,48.85", "--out", out]) == 2
    assert "hors de la Martinique" in capsys.readouterr().err


# ----------------------------------------------------------------------------- stops wording


def _solution(status: str, objective: float, bound: float | None, model: str = "mclp"):
    gap = None if bound is None else abs(bound - objective) / objective
    return siting.Solution(model, "highs", np.array([0]), np.array([objective]), objective,
                           objective, bound, gap, status, 0.0, 100.0, 100.0)


@pytest.mark.parametrize(("sol", "text"), [
    (_solution("optimal", 50.0, 50.0), "solution optimale"),
    (_solution("time_limit", 90.0, 100.0), "bonne solution, au plus 10,0\u202f% sous l'optimum"),
    (_solution("heuristic", 90.0, None), "bonne solution, sans garantie d'optimalité "
                                         "(méthode gloutonne)"),
    (_solution("time_limit", 12.0, 10.0, "lscp"),
     "bonne solution, au plus 20,0\u202f% au-dessus de l'optimum"),
])
def test_stops_status_in_plain_french(sol, text) -> None:
    class Res:
        best = sol

    assert report_mod.stops_status(Res()) == text


# ----------------------------------------------------------------------------- sheet


@pytest.fixture()
def visits(monkeypatch):
    """Two published visits near everything, one with a hostile stop name."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Martinique")
    seen = {}

    def fake(after=None, *, near=None, radius_m=5000.0, limit=3, **_):
        seen["after"] = after
        return pd.DataFrame({
            "stop_key": ["a", "b"], "stop_name": ["<b>Bourg</b>", "Mairie"],
            "address": ["", "1 rue X"], "lon": [-61.07, -61.069], "lat": [14.6, 14.601],
            "starts_at": [pd.Timestamp("2026-12-03 09:00", tz=tz),
                          pd.Timestamp("2026-12-02 14:30", tz=tz)],
            "ends_at": [pd.Timestamp("2026-12-03 12:00", tz=tz),
                        pd.Timestamp("2026-12-02 16:00", tz=tz)],
            "distance_m": [120.0, 340.0]})

    monkeypatch.setattr(tour_store, "next_visits", fake)
    return seen


def test_sheet_escapes_hostile_registry_text(tiny, visits) -> None:
    _, fnd, communes, s, _ = tiny
    res = SheetService(fnd, communes, s).run(SheetRequest("p<2>", date=DAY))
    text = res.html
    assert_self_contained(text)
    for raw in (HOSTILE, "<script", "<img", "<b>gras</b>", "<b>Bourg</b>", "javascript:"):
        assert raw not in text, raw
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}</h1>" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "Aide aux démarches, &lt;b&gt;gras&lt;/b&gt;" in text
    assert "Horaires non renseignés : appelez le 05 96 12 34 56 avant de venir." in text
    # the visits: soonest first, from the sheet's day, in French
    assert visits["after"].isoformat() == "2026-12-01T00:00:00-04:00"
    assert text.index("mercredi 2 décembre à 14h30") < text.index("jeudi 3 décembre à 9h00")
    assert "&lt;b&gt;Bourg&lt;/b&gt;" in text
    assert "Fiche éditée le mardi 1 décembre 2026" in text
    assert "@page{size:A4" in text and "@media (max-width:640px)" in text


def test_sheet_qr_is_segnos_code_of_the_place_url(tiny, visits) -> None:
    import segno

    _, fnd, communes, s, _ = tiny
    res = SheetService(fnd, communes, s).run(SheetRequest("p<2>", date=DAY))
    lon, lat = fnd.places.loc[1, ["lon", "lat"]]
    url = f"https://maillage.example.org/trouver?at={lon:.6f},{lat:.6f}&lieu=p%3C2%3E"
    assert res.url == url
    expected = segno.make(url, error="m", micro=False).svg_inline(**sheet_mod.QR_SVG)
    assert expected in res.html
    assert res.html.count('<svg viewBox="0 0 ') >= 2 and 'class="qr"' in expected


def test_sheet_times_are_the_finders(tiny, visits) -> None:
    _, fnd, communes, s, g = tiny
    origin = tuple(lonlat(random_xy(g, 1, seed=21))[0])
    res = SheetService(fnd, communes, s).run(SheetRequest("p3", origin, "12 rue <X>", DAY))
    # what the Trouver page shows for the same place from the same point
    found = {p["id"]: p for p in fnd.results(fnd.answer(*origin, k=3))}["p3"]
    assert res.trips == {"walk": found["a_pied"], "drive": found["en_voiture"]}
    walk = f"À pied : {fmt.minutes(found['a_pied']['minutes'])}"
    assert walk in res.html and "Depuis 12 rue &lt;X&gt;" in res.html
    assert "Trajet à pied depuis votre adresse" in res.html


def test_sheet_cli_is_the_service_file(tiny, visits, monkeypatch, tmp_path) -> None:
    from ui import sheets

    _, fnd, communes, s, g = tiny
    svc = SheetService(fnd, communes, s)
    monkeypatch.setattr(SheetService, "load", classmethod(lambda cls, _s=None: svc))
    origin = tuple(lonlat(random_xy(g, 1, seed=21))[0])
    out = tmp_path / "fiche.html"
    code = cli.main(["report", "place", "p1", "--at", f"{origin[0]},{origin[1]}",
                     "--date", "2026-12-01", "--out", str(out)])
    assert code == 0
    req = SheetRequest("p1", origin, "le point choisi", DAY)
    assert out.read_bytes() == svc.run(req).html.encode("utf-8")
    assert out.read_bytes() == sheets.sheet_bytes(svc, req)
    with pytest.raises(MaillageError, match="n'est plus dans l'annuaire"):
        svc.run(SheetRequest("inconnu", date=DAY))


# ----------------------------------------------------------------------------- PDF

#: A4 in CSS pixels (96 per inch), as WeasyPrint lays pages out.
A4_PX = (210 / 25.4 * 96, 297 / 25.4 * 96)


def _pages(html_text: str) -> list:
    from weasyprint import HTML

    return HTML(string=html_text, url_fetcher=documents_mod._no_fetch).render().pages


def test_report_and_sheet_as_pdf_are_a4_and_written_by_the_cli(tiny, visits, monkeypatch,
                                                               tmp_path, capsys) -> None:
    """``--out x.pdf`` writes the service's document as PDF: A4 pages, several for the
    report (its page breaks), no resource fetched; an unknown extension is refused."""
    cov, fnd, communes, s, _ = tiny
    assert documents_mod.pdf_available()  # WeasyPrint and Pango, as the project installs
    monkeypatch.setattr(CoverageReportService, "load", classmethod(
        lambda cls, s=None: cls(cov)))
    out = tmp_path / "rapport.pdf"
    assert cli.main(["report", "coverage", "--minutes", "3", "--drive-minutes", "2",
                     "--date", "2026-12-01", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    report_html = CoverageReportService(cov).run(_report_request(None)).html
    pages = _pages(report_html)
    assert len(pages) >= 2
    for page in pages:
        assert page.width == pytest.approx(A4_PX[0], abs=0.5)
        assert page.height == pytest.approx(A4_PX[1], abs=0.5)

    svc = SheetService(fnd, communes, s)
    monkeypatch.setattr(SheetService, "load", classmethod(lambda cls, _s=None: svc))
    sheet = tmp_path / "fiche.pdf"
    assert cli.main(["report", "place", "p<2>", "--date", "2026-12-01",
                     "--out", str(sheet)]) == 0
    assert sheet.read_bytes().startswith(b"%PDF-")
    html_sheet = svc.run(SheetRequest("p<2>", date=DAY)).html
    assert {(round(p.width), round(p.height)) for p in _pages(html_sheet)} == {
        (round(A4_PX[0]), round(A4_PX[1]))}
    # a hostile URL in the data is never fetched while laying out
    with pytest.raises(ValueError, match="ressource externe refusée"):
        documents_mod._no_fetch("http://127.0.0.1:9/x.png")
    capsys.readouterr()
    assert cli.main(["report", "place", "p1", "--out", str(tmp_path / "fiche.docx")]) == 2
    assert "doit finir par .html ou .pdf" in capsys.readouterr().err
    assert not (tmp_path / "fiche.docx").exists()


# ----------------------------------------------------------------------------- browser


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("MAILLAGE_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium introuvable.")
        pytest.skip("Chromium introuvable : installez le paquet Debian « chromium ».")
    return path


def test_documents_make_no_request_in_a_real_browser(tiny, visits) -> None:
    from playwright.sync_api import sync_playwright

    cov, fnd, communes, s, g = tiny
    origin = tuple(lonlat(random_xy(g, 1, seed=21))[0])
    docs = [CoverageReportService(cov).run(_report_request("EPCI-A", added=(
                (origin[0], origin[1], HOSTILE),))).html,
            SheetService(fnd, communes, s).run(SheetRequest("p<2>", origin, HOSTILE, DAY)).html]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])
        try:
            for text in docs:
                page = browser.new_page()
                asked: list[str] = []
                dialogs: list[str] = []
                page.on("request", lambda r, asked=asked: asked.append(r.url))
                page.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message),
                                                               d.dismiss()))
                page.set_content(text, wait_until="load")
                page.emulate_media(media="print")
                assert page.evaluate("document.scripts.length") == 0
                assert page.evaluate("document.querySelectorAll('svg').length") >= 2
                assert all(u.startswith(("data:", "about:")) for u in asked), asked
                assert dialogs == []
                page.close()
        finally:
            browser.close()


# ----------------------------------------------------------------------------- real island


@pytest.fixture(scope="module")
def real_env(prepared_data_dir: Path):
    mp = pytest.MonkeyPatch()
    mp.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    settings.get.cache_clear()
    yield settings.get()
    settings.get.cache_clear()
    mp.undo()
    settings.get.cache_clear()


@pytest.fixture(scope="module")
def real_coverage(real_env) -> CoverageService:
    return CoverageService.load(real_env)


@pytest.mark.slow
@pytest.mark.parametrize("scope", [None, "CAP Nord"])
def test_real_report_figures_are_the_service_figures(real_coverage, scope) -> None:
    res = CoverageReportService(real_coverage).run(
        CoverageReportRequest(scope=scope, minutes=15, date=DAY))
    tables = tables_of(res.html)
    comm = real_coverage.communes
    codes = sorted(comm.loc[comm["epci_court"] == scope, "code_insee"] if scope
                   else comm["code_insee"])
    assert len(codes) == (18 if scope else 34)
    for mode in ("walk", "drive"):
        tab = real_coverage.run(CoverageRequest(mode=mode, minutes=(15,),
                                                by_commune=True)).tables
        if scope:
            tab = tab[(tab["level"] != "epci") | (tab["code"] == scope)]
        expected = expected_cells(tab, codes, 15.0)
        assert tables[(mode, "couverture")] == expected
        assert len(expected) == len(codes) + (1 if scope else 3) + 1
    assert_self_contained(res.html)


@pytest.mark.slow
def test_real_cli_page_and_service_write_the_same_bytes(real_coverage, real_env,
                                                        prepared_data_dir, tmp_path) -> None:
    from ui import coverage as coverage_ui

    out = tmp_path / "rapport.html"
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(prepared_data_dir)}
    proc = subprocess.run([str(MAILLAGE), "report", "coverage", "--epci", "CAP Nord",
                           "--minutes", "15", "--date", "2026-12-01", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    req = CoverageReportRequest(scope="CAP Nord", minutes=15, date=DAY)
    expected = CoverageReportService(real_coverage).run(req).html.encode("utf-8")
    assert out.read_bytes() == expected
    page = CoverageService(real_env, real_coverage.grid, real_coverage.communes,
                           real_coverage.places(), None)
    assert coverage_ui.report_bytes(page, req.validated(page.communes)) == expected
