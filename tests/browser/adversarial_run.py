"""The adversarial corpus pushed in through every entry path, then every page opened in Chromium.

Used by ``tests/browser/test_adversarial.py`` (which asserts on the results) and by
``benchmarks/adversarial_report.py`` (which prints them as a table). Three steps:

1. :func:`copy_data_dir` copies a data folder prepared by the data step, and
   :func:`prepare` writes the whole corpus into its database through the product's own
   entry paths: the registry CSV import, label changes with their comments, a stops
   file read then planned, saved and published, indicator rows imported and typed, by
   an editor account whose name is hostile too;
2. :func:`server` runs Streamlit on that folder (the quote-free template payloads'
   command in its environment, see :data:`tests.adversarial.CANARY_ENV`);
3. :func:`visit_all` opens every page — a visitor and a signed-in editor at the same
   time, one browser each — and every export, and records for each *surface*: the
   JavaScript dialogs, the rendering (title shown, no Streamlit exception), the
   payloads looked for and whether each was shown literally, the elements or links
   text must never create; every request the browser makes is recorded, and the
   canary folder is checked after each surface.

:func:`summary` turns the results into the JSON written by the test and the tables of
:func:`markdown_tables`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import expect

from tests import adversarial as adv
from tests.browser.pages_walk import wait_settled

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic"]
#: The only host the pages may load anything from; tiles are requested from
#: OpenStreetMap (expected: they never load offline) and counted apart.
TILE_HOST = "tile.openstreetmap.org"
#: The hostile editor account (its name is shown in the sidebar and the label history).
EDITOR = "éditrice :red[rouge] $x$ <b>gras</b> ![x](http://127.0.0.1:9/u.png)"
#: The hostile name of the uploaded registry file and of the saved tour plan.
FILE_NAME = "lieux {{ 7*7 }} <img src=x onerror=alert(14)>.csv"
PLAN_NAME = "Plan {% raw %} ${alert(15)} `+alert(16)+` :red[x] $y$"
STREAMLIT_ERROR = "[data-testid='stException']"
_ALERT = re.compile(r"alert\((\d+)\)")


# --------------------------------------------------------------------------- prepare
@dataclass
class Corpus:
    """What :func:`prepare` wrote, for the visits to look for."""

    data_dir: Path
    canary: Path
    password: str
    places: list[tuple[int, adv.Payload, dict[str, str]]]
    stops: list[tuple[int, adv.Payload, dict[str, str]]]
    indicator_places: list[tuple[int, adv.Payload]]
    plan_pk: int
    exports: dict[str, Path] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings(self):
        return _settings_for(self.data_dir)

    def place(self, payload_id: str) -> dict[str, str]:
        """The stored row of the place carrying ``payload_id``."""
        return next(r for _, p, r in self.places if p.id == payload_id)


def copy_data_dir(prepared: Path, target: Path) -> Path:
    """A private copy of a prepared data folder (its database copied consistently)."""
    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns(
        "maillage.db", "maillage.db-*", "*.log", "*.png"))
    src, dst = sqlite3.connect(prepared / "maillage.db"), sqlite3.connect(target / "maillage.db")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def _stored_rows(s) -> dict[str, dict[str, str]]:
    from maillage.registry import store

    return {r["id"]: r for r in store.rows(s)}


def prepare(data_dir: Path, canary: Path) -> Corpus:
    """Write the corpus into ``data_dir``'s database through every entry path.

    Raises ``AssertionError`` if a path does not keep a payload exactly as given (or
    accepts what it should refuse): the visits would otherwise look for the wrong text.
    """
    import numpy as np

    from analysis import tours
    from analysis.schedule import Period
    from analysis.tours import Problem, Travel, Van
    from geo import tours_io
    from maillage import auth, db, tour_store
    from maillage.indicators import store as indicators
    from maillage.registry import store
    from maillage.registry.errors import ValidationError

    s = _settings_for(data_dir)
    canary.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16) + "Aa9!"
    try:
        actor = auth.add_user(EDITOR, "federation", password, s)
        entries: dict[str, dict[str, Any]] = {}

        # Registry: one CSV import of every accepted place, then a label change each.
        places = adv.place_rows(canary)
        result = store.import_csv(actor, adv.registry_csv([r for *_, r in places]), FILE_NAME,
                                  s)
        assert result["imported"] == len(places), result
        rows = _stored_rows(s)
        frame = store.places_frame(s)
        versions = dict(zip(frame["id"], frame["version"], strict=True))
        kept = []
        for n, p, r in places:
            got = rows[r["id"].strip()]
            assert all(got[f] == r[f].strip() for f in (*adv.PLACE_TEXT_FIELDS, "nom")), p.id
            store.change_label(actor, got["id"], "labellisé", int(versions[got["id"]]),
                               p.text(canary), s)
            kept.append((n, p, got))
        refused = [p.id for p in adv.PAYLOADS if adv.refused_in("registry", p.text(canary))]
        for pid in refused:
            try:
                store.import_csv(actor, adv.registry_csv([adv.place_row(
                    99, adv.BY_ID[pid], canary)]), "refus.csv", s)
            except ValidationError:
                continue
            raise AssertionError(f"{pid} aurait dû être refusé par le registre")
        entries["registry"] = {"accepted": len(kept), "refused": refused}

        # Tours: the stops file, planned (fixed drive times: the page plans on the real
        # roads), saved under a hostile name and published.
        accepted = adv.accepted_stops(canary)
        stops = tours_io.read_stops(adv.stops_csv(canary, accepted))
        stop_rows = []
        for (n, p), st in zip(accepted, stops, strict=True):
            v = adv.stop_values(n, p, canary)
            assert (st.name, st.address, st.key) == (v["nom"].strip(), v["adresse"].strip(),
                                                     v["id"].strip()), p.id
            stop_rows.append((n, p, {"nom": st.name, "adresse": st.address, "id": st.key}))
        today = date.today()
        start = today + timedelta(days=7 - today.weekday())
        problem = Problem(stops, [Van("Camion 1", tours_io.default_depot(s))],
                          Period.with_holidays(start, 4))
        k = problem.n_locations
        sec = np.full((k, k), 600.0)
        np.fill_diagonal(sec, 0)
        plan = tours.solve(problem, Travel(sec, np.zeros(k), np.ones(k, bool)), 3)
        pk = tour_store.save_plan(actor, problem, plan, PLAN_NAME, s)
        tour_store.publish(actor, pk, 1, s)
        stored_names = set(tour_store.visits_frame(pk, s=s)["stop_name"])
        assert stored_names <= {r["nom"] for *_, r in stop_rows}
        refused = [p.id for n, p in enumerate(adv.PAYLOADS) if (n, p) not in accepted]
        entries["tours"] = {"accepted": len(stop_rows), "visits": len(plan.visits),
                            "refused": refused}

        # Indicators: rows by place (the ids carry the payloads), imported for last month,
        # then one typed (the form's path) for the month before.
        last_month = date(today.year, today.month, 1) - timedelta(days=1)
        month_before = last_month.replace(day=1) - timedelta(days=1)
        ind_rows = adv.indicator_rows(f"{last_month:%Y-%m}", canary)
        res = indicators.import_csv(actor, adv.indicators_csv([r for *_, r in ind_rows]),
                                    FILE_NAME, s)
        assert res["added"] == len(ind_rows), res
        typed = {**ind_rows[0][2], "mois": f"{month_before:%Y-%m}"}
        indicators.save(actor, typed, None, s)
        stored_ids = set(indicators.recorded(s)["place_id"])
        assert {r["lieu"].strip() for *_, r in ind_rows} <= stored_ids
        entries["indicators"] = {"accepted": len(ind_rows), "refused": [
            p.id for n, p in adv.accepted("registry", canary)
            if adv.refused_in("indicator-place", adv.place_id(n, p, canary))]}
    finally:
        db.engine(s).dispose()
    return Corpus(data_dir, canary, password, kept, stop_rows,
                  [(n, p) for n, p, _ in ind_rows], pk, entries=entries)


def _settings_for(data_dir: Path):
    from maillage import settings

    return replace(settings.from_env(), data_dir=data_dir, database_url="")


# --------------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(data_dir: Path, canary: Path, timeout: float = 180) -> Iterator[Callable[[], str]]:
    """Start Streamlit on ``data_dir``; yields ``ready()``, which waits for it and gives its
    base URL (so the corpus can be written while the server starts)."""
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir), **adv.canary_env(canary)}
    env.pop("MAILLAGE_DATABASE_URL", None)
    log = open(data_dir / "streamlit.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()

    def ready() -> str:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Streamlit s'est arrêté (code {proc.returncode}).")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return base
            except OSError:
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"Streamlit ne répond pas sur {base}") from None
                time.sleep(0.3)

    try:
        yield ready
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# --------------------------------------------------------------------------- recording
@dataclass
class Check:
    """One payload looked for in one field of one surface."""

    payload: str
    field: str
    literal: bool
    shown: str = ""  # the start of what was shown instead, when not literal


@dataclass
class Surface:
    """What one page or export did with the corpus."""

    key: str
    title: str
    dialogs: list[str] = field(default_factory=list)
    rendered: bool = False
    checks: list[Check] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    canary: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ok(self) -> bool:
        return (self.rendered and not self.dialogs and not self.failures and not self.canary
                and all(c.literal for c in self.checks))


def flat(text: str) -> str:
    """``text`` with every run of whitespace (Unicode's) made one space: what pages lay out."""
    return " ".join(str(text).split())


class Recorder:
    """Dialogs, requests and checks, attributed to the surface being visited."""

    def __init__(self, base: str, corpus: Corpus) -> None:
        self.base = base
        self.corpus = corpus
        self.surfaces: list[Surface] = []
        self.current: Surface | None = None
        self.tiles = 0
        self.requests: list[str] = []

    # browser events
    def watch(self, context) -> None:
        context.on("request", self._request)
        context.on("page", self._page)
        for pg in context.pages:
            self._page(pg)

    def _page(self, pg) -> None:
        pg.on("dialog", self._dialog)
        pg.on("pageerror", lambda exc: self.current and self.current.js_errors.append(
            str(exc)[:300]))

    def _dialog(self, dialog) -> None:
        if self.current is not None:
            self.current.dialogs.append(f"{dialog.type}: {dialog.message}"[:200])
        with contextlib.suppress(Exception):
            dialog.dismiss()

    def _request(self, request) -> None:
        url = request.url
        self.requests.append(url)
        parsed = urlparse(url)
        if url.startswith(self.base) or parsed.scheme in ("data", "blob", "about", "file"):
            return
        if parsed.hostname == TILE_HOST and re.fullmatch(r"/\d+/\d+/\d+\.png", parsed.path):
            self.tiles += 1
            return
        if self.current is not None:
            self.current.failures.append(f"requête vers {url[:120]}")

    # surfaces
    @contextlib.contextmanager
    def surface(self, key: str, title: str) -> Iterator[Surface]:
        sf = Surface(key, title)
        self.surfaces.append(sf)
        self.current = sf
        start = time.monotonic()
        try:
            yield sf
        except Exception as exc:  # a surface that cannot be driven is a failure, not a crash
            where = traceback.extract_tb(exc.__traceback__)[-1]
            sf.failures.append(f"{type(exc).__name__} (ligne {where.lineno} de "
                               f"{Path(where.filename).name}): {str(exc)[:400]}")
        finally:
            sf.seconds = round(time.monotonic() - start, 1)
            sf.canary = [p.name for p in adv.canary_files(self.corpus.canary)]
            self.current = None

    @staticmethod
    def expect(sf: Surface, payload: str, fld: str, haystack: str | None, needle: str) -> bool:
        """Record whether ``needle`` (stored text) is shown literally in ``haystack``."""
        text = flat(haystack or "")
        literal = bool(flat(needle)) and flat(needle) in text
        sf.checks.append(Check(payload, fld, literal, "" if literal else text[:160]))
        return literal


def _rendered(pg, sf: Surface, title: str) -> None:
    """The page shows its title and no Streamlit exception."""
    pg.get_by_role("heading", name=title).first.wait_for()
    errors = pg.locator(STREAMLIT_ERROR)
    if errors.count():
        sf.failures.append("exception Streamlit : " + errors.first.inner_text()[:300])
    else:
        sf.rendered = True


#: « table » once the detail table shows the place ``t``; « reset » if the box lost it.
_DETAIL_SHOWN = """(t) => {
  const e = document.querySelector("[data-testid='stTable']");
  if (e && e.innerText.includes(t)) { return 'table'; }
  const box = document.querySelector("input[aria-label='Fiche détaillée']");
  return box && !box.value.includes(t) ? 'reset' : false;
}"""
#: Elements text from data must never create (links are checked apart).
_MARKUP = "img, svg, .katex, script, iframe, object, embed, video, audio, style"
#: The only link targets text from data may produce: http(s), e-mail, telephone.
SAFE_HREF = re.compile(r"^(https?://|mailto:|tel:)", re.IGNORECASE)


#: Links of « Trouver »: also the phone's maps app (``geo:``, the name percent-encoded).
_FINDER_LINK = re.compile(r"^(https?://|mailto:|tel:|geo:[-\d.,]+\?q=[-\d.,]+\([^\s\"'<>()]*\)$)",
                          re.IGNORECASE)
#: The finder's own http links (besides the place's web sites): the route on OpenStreetMap.
_OSM_ROUTE = "https://www.openstreetmap.org/directions?"


def _finder_link(href: str | None, expected: set[str]) -> bool:
    """A link of the finder's detail: a place's own safe web site, the route, tel/mailto/geo."""
    href = href or ""
    if not _FINDER_LINK.match(href):
        return False
    return not href.startswith("http") or href in expected or href.startswith(_OSM_ROUTE)


def _no_markup(sf: Surface, locator, where: str, allow: re.Pattern = SAFE_HREF) -> None:
    """No element created from text inside ``locator``; its links only http(s)/mailto/tel.

    Markdown's autolinks (a bare ``http://…`` or ``www.…`` becomes a link, even with
    every character escaped) are allowed: same targets as the places' own web sites.
    So are Streamlit's anchors of headings (``#…`` links with their icon).
    """
    made = locator.locator(_MARKUP).evaluate_all(
        "els => els.filter(e => !e.closest('a[href^=\"#\"]')).length")
    if made:
        sf.failures.append(f"{where} : {made} élément(s) créé(s) depuis le texte")
    for href in locator.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))"):
        if not (allow.match(href or "") or (href or "").startswith("#")):
            sf.failures.append(f"{where} : lien {str(href)[:60]!r}")


def _settle(pg) -> None:
    """Wait until Streamlit has finished the current run and drawn it (the status
    widget's « Running » is put into French by the theme: no test of its text)."""
    pg.wait_for_timeout(300)  # let the run the last action asked for start
    wait_settled(pg, 180_000, calm_ms=600)


def pick(pg, box, text: str, attempts: int = 3) -> None:
    """Choose the option containing ``text`` in a select box (typed to filter it).

    A rerun of the page closes an open list: then the list is opened again.
    """
    for attempt in range(attempts):
        box.click()
        box.fill(text)
        option = pg.get_by_role("option").filter(has_text=text).first
        try:
            option.click(timeout=20_000)
            return
        except Exception:  # the list closed under a rerun: open it again
            if attempt == attempts - 1:
                raise
            pg.keyboard.press("Escape")
            _settle(pg)


def download(pg, button) -> bytes:
    """The file a download button gives (the page settled first: a rerun replaces the
    files being served, which cancels a download started just before)."""
    for _ in range(2):
        _settle(pg)
        with contextlib.suppress(Exception):  # canceled: try again once the page settled
            with pg.expect_download() as dl:
                button.click()
            return Path(dl.value.path()).read_bytes()
    _settle(pg)
    with pg.expect_download() as dl:
        button.click()
    return Path(dl.value.path()).read_bytes()


def map_frame(pg, index: int = 0):
    """The frame of the ``index``-th streamlit-folium map, once Leaflet has drawn it."""
    pg.wait_for_selector("iframe[title*='streamlit_folium']", state="attached")
    handles = pg.query_selector_all("iframe[title*='streamlit_folium']")
    frame = handles[index].content_frame()
    frame.wait_for_selector(".leaflet-container")
    frame.wait_for_function("() => Object.values(window).some(v => v instanceof L.Map)")
    return frame


#: Opens every feature's popup and tooltip of the map in turn (Leaflet's own calls, the
#: code a click or a hover runs) and returns what was shown as text, with any element
#: that text must never create.
_OPEN_ALL = """(opts) => {
  const m = Object.values(window).find(v => v instanceof L.Map);
  const out = [];
  const bad = 'img,script,svg,iframe,object,embed,style,link,video,audio';
  m.eachLayer(l => {
    if (!l.feature || (opts.points && l.feature.geometry.type !== 'Point')) { return; }
    const rec = {props: l.feature.properties || {}};
    const at = l.getLatLng ? l.getLatLng() : undefined;
    if (l.getPopup && l.getPopup()) {
      l.openPopup(at);
      const el = l.getPopup().getElement();
      const c = el && el.querySelector('.leaflet-popup-content');
      rec.popup = c ? c.innerText : null;
      rec.bad = c ? c.querySelectorAll(bad).length : 0;
      l.closePopup();
    }
    if (l.getTooltip && l.getTooltip()) {
      l.openTooltip(at);
      const el = l.getTooltip().getElement();
      rec.tooltip = el ? el.innerText : null;
      rec.bad = (rec.bad || 0) + (el ? el.querySelectorAll(bad).length : 0);
      l.closeTooltip();
    }
    out.push(rec);
  });
  return out;
}"""


#: Centres the map on the marker named ``nom`` (closest zoom) and marks its element, for
#: a real click on it.
_CENTRE_ON = """(nom) => {
  const m = Object.values(window).find(v => v instanceof L.Map);
  let found = null;
  m.eachLayer(l => { if (l.feature && l.feature.properties.nom === nom) { found = l; } });
  m.closePopup();
  m.setView(found.getLatLng(), 18, {animate: false});
  found.bringToFront();
  found._path.setAttribute('data-adversarial', 'cible');
}"""


def open_all(frame, points: bool = True) -> list[dict]:
    """Every feature's popup/tooltip text on the map of ``frame`` (see :data:`_OPEN_ALL`)."""
    return frame.evaluate(_OPEN_ALL, {"points": points})


def _tag_of(text: str) -> str | None:
    m = re.search(r"\badv(\d\d)\b", text or "")
    return m.group(0) if m else None


# --------------------------------------------------------------------------- visits
@dataclass
class Visit:
    """One run over every surface (see the module doc)."""

    base: str
    corpus: Corpus
    work: Path
    rec: Recorder = field(init=False)

    def __post_init__(self) -> None:
        self.rec = Recorder(self.base, self.corpus)
        self.by_tag = {adv.tag(n): (p, r) for n, p, r in self.corpus.places}
        self.stops_by_tag = {adv.tag(n): (p, r) for n, p, r in self.corpus.stops}

    def context(self, browser):
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR",
                                       accept_downloads=True)
        ctx.route("**/*", _local_only)
        self.rec.watch(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        return ctx, pg

    # ----------------------------------------------------------------- public pages
    def simple_page(self, pg, path: str, key: str, title: str, heading: str,
                    ready: str | None = None, places_on_map: bool | None = None) -> None:
        """Open a page; with ``places_on_map`` set, check the names on its map (True: the
        corpus' places must be there)."""
        with self.rec.surface(key, title) as sf:
            pg.goto(f"{self.base}/{path}")
            _rendered(pg, sf, heading)
            if ready:
                pg.get_by_text(ready).first.wait_for()
            _settle(pg)
            if places_on_map is not None:
                self._map_names(map_frame(pg), sf, "infobulle")
                if places_on_map and not sf.checks:
                    sf.failures.append("aucun lieu du corpus sur la carte")

    def _map_names(self, frame, sf: Surface, what: str) -> None:
        """Check every feature naming a place of the corpus shows that name literally."""
        for feat in open_all(frame):
            text = feat.get("tooltip") or feat.get("popup") or ""
            if feat.get("bad"):
                sf.failures.append(f"élément HTML créé dans une {what} : {text[:80]}")
            tag = _tag_of(text)
            if tag in self.by_tag:
                p, r = self.by_tag[tag]
                self.rec.expect(sf, p.id, f"nom ({what})", text, r["nom"])

    def places_public(self, pg) -> None:
        with self.rec.surface("points-public", "Points numériques (public)") as sf:
            pg.goto(f"{self.base}/points_numeriques")
            _rendered(pg, sf, "Points numériques")
            pg.get_by_text("lieux affichés").wait_for()
            frame = map_frame(pg)
            self._popups(frame, sf)
            self._real_click(frame, sf)
            for pid in ("md-image", "st-colour"):
                self._detail(pg, sf, pid, editor=False)
        with self.rec.surface("export-registre-csv", "Export CSV du registre (public)") as sf:
            self._registry_csv(sf, download(pg, pg.get_by_role(
                "button", name="Télécharger le registre (CSV, standard national)")))

    def _popups(self, frame, sf: Surface) -> None:
        seen = set()
        for feat in open_all(frame):
            text = feat.get("popup") or ""
            if feat.get("bad"):
                sf.failures.append(f"élément HTML créé dans une fiche : {text[:80]}")
            tag = _tag_of(feat.get("props", {}).get("nom", ""))
            if tag not in self.by_tag:
                continue
            seen.add(tag)
            p, r = self.by_tag[tag]
            for fld in ("nom", "adresse", "commune"):
                self.rec.expect(sf, p.id, f"{fld} (fiche de la carte)", text,
                                r[fld].replace("|", ", "))
            self.rec.expect(sf, p.id, "nom (infobulle)", feat.get("tooltip"), r["nom"])
        missing = sorted(set(self.by_tag) - seen)
        if missing:
            sf.failures.append(f"lieux absents de la carte : {', '.join(missing)}")

    def _real_click(self, frame, sf: Surface) -> None:
        """One real click on a marker of the corpus: the popup opens, as text."""
        _, p, r = self.corpus.places[0]
        popup = frame.locator(".leaflet-popup-content").filter(has_text=adv.tag(0)).last
        for attempt in range(3):  # Leaflet now and then takes the click for a drag
            frame.evaluate(_CENTRE_ON, r["nom"])
            frame.wait_for_timeout(300)  # let the map finish drawing at the new zoom
            frame.locator("path[data-adversarial='cible']").click(force=True)
            try:
                popup.wait_for(timeout=10_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        self.rec.expect(sf, p.id, "nom (clic sur la carte)", popup.inner_text(), r["nom"])

    def _detail(self, pg, sf: Surface, pid: str, editor: bool) -> None:
        """Choose the place of ``pid`` in « Fiche détaillée »: its table, shown literally."""
        r = self.corpus.place(pid)
        tag = _tag_of(r["nom"])
        box = pg.get_by_label("Fiche détaillée")
        for _ in range(2):  # a place added since the last run resets the box once
            pick(pg, box, tag)
            _settle(pg)
            shown = pg.wait_for_function(_DETAIL_SHOWN, arg=tag)
            if shown.json_value() == "table":
                break
        table = pg.locator("[data-testid='stTable']")
        text = table.inner_text()
        _no_markup(sf, table, f"{pid} (fiche détaillée)")
        fields = ["nom", "adresse", "presentation_detail", "structure_parente"]
        fields += ["notes", "origin"] if editor else []
        for fld in fields:
            self.rec.expect(sf, pid, f"{fld} (fiche détaillée)", text, r[fld].replace("|", ", "))
        if editor:
            history = pg.get_by_text("Historique du label")
            _no_markup(sf, history, f"{pid} (historique du label)")
            text = history.inner_text()
            self.rec.expect(sf, pid, "commentaire (historique du label)", text,
                            self._payload(pid))
            self.rec.expect(sf, "compte", "auteur (historique du label)", text, EDITOR)
            self.rec.expect(sf, "fichier", "nom du fichier importé (historique)", text,
                            FILE_NAME)

    def _payload(self, pid: str) -> str:
        return adv.stored(adv.BY_ID[pid].text(self.corpus.canary))

    def _registry_csv(self, sf: Surface, data: bytes) -> None:
        from maillage.registry import csvio

        sf.rendered = True
        back = {r["id"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8")))}
        for _, p, r in self.corpus.places:
            got = back.get(csvio.escape_cell(r["id"]))
            if got is None:
                sf.failures.append(f"{p.id} absent de l'export")
                continue
            for fld in ("nom", "adresse", "presentation_detail", "site_web"):
                cell = got[fld]
                if cell[:1] in adv.FORMULA_START and not cell.startswith("'"):
                    sf.failures.append(f"{p.id} : cellule {fld} non neutralisée")
                self.rec.expect(sf, p.id, f"{fld} (CSV)", csvio.unescape_cell(cell), r[fld])

    def finder(self, pg) -> None:
        with self.rec.surface("trouver", "Trouver un point numérique") as sf:
            pg.goto(f"{self.base}/trouver")
            _rendered(pg, sf, "Trouver un point numérique")
            # A real search by name: the suggestions are buttons (markdown labels).
            _, r = self.by_tag["adv29"]
            box = pg.get_by_role("searchbox", name="Votre adresse")
            box.fill(flat(r["nom"]))
            pg.get_by_text("Touchez la bonne adresse").wait_for()
            buttons = pg.locator(".st-key-trouver-sugg button")
            buttons.first.wait_for()
            for text in buttons.all_inner_texts():
                tag = _tag_of(text)
                if tag in self.by_tag:
                    q, s = self.by_tag[tag]
                    self.rec.expect(sf, q.id, "nom (suggestion)", text, flat(s["nom"]))
            # Around the corpus: every card, the details, the links, the van visits.
            for pid in ("url-javascript", "html-attr"):
                self._finder_place(pg, sf, pid)

    def _finder_place(self, pg, sf: Surface, pid: str) -> None:
        from geo import public_places

        r = self.corpus.place(pid)
        tag = _tag_of(r["nom"])
        pg.goto(f"{self.base}/trouver?at={r['longitude']},{r['latitude']}")
        pg.locator(".trouver-card").first.wait_for()
        _settle(pg)
        cards = pg.locator("[class*='st-key-trouver-result-']")
        mine = cards.filter(has_text=tag)
        if not mine.count():
            sf.failures.append(f"{pid} : absent des lieux les plus proches de sa position")
            return
        for card in pg.locator(".trouver-card").all_inner_texts():
            t = _tag_of(card)
            if t in self.by_tag:
                q, s = self.by_tag[t]
                self.rec.expect(sf, q.id, "nom (carte de résultat)", card, s["nom"])
                self.rec.expect(sf, q.id, "adresse (carte de résultat)", card, s["adresse"])
        mine.first.get_by_role("button", name="Voir le détail et l'itinéraire").click()
        detail = mine.first.locator(".trouver-detail")
        detail.last.locator("dl").wait_for()
        _settle(pg)
        text = " ".join(detail.all_inner_texts())
        self.rec.expect(sf, pid, "présentation (détail)", text, r["presentation_resume"])
        expected = {public_places.safe_url(r[f]) for f in adv.PLACE_LINK_FIELDS} - {""}
        hrefs = detail.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
        wrong = [h for h in hrefs if not _finder_link(h, expected)]
        sf.failures += [f"{pid} : lien {h[:60]!r}" for h in wrong]
        sf.checks.append(Check(pid, "liens (détail : http(s), tel, mailto, geo seulement)",
                               not wrong, " ".join(wrong)[:160]))
        for part in (".trouver-card", ".trouver-detail"):
            _no_markup(sf, pg.locator(part), f"{pid} ({part})", allow=_FINDER_LINK)
        for item in pg.locator("[data-testid='stMarkdownContainer'] li").all_inner_texts():
            t = _tag_of(item)
            if t in self.stops_by_tag and "Arrêt" in item:
                q, s = self.stops_by_tag[t]
                self.rec.expect(sf, q.id, "nom d'arrêt (prochains passages)", item, s["nom"])

    # ----------------------------------------------------------------- signed in
    def sign_in(self, pg) -> None:
        side = pg.locator("[data-testid='stSidebar']")
        form = side.locator("[data-testid='stForm']").filter(has_text="Mot de passe").first
        form.get_by_label("Compte", exact=True).fill(EDITOR)
        form.get_by_label("Mot de passe", exact=True).fill(self.corpus.password)
        form.get_by_role("button", name="Se connecter").click()
        side.get_by_text("Connecté").first.wait_for()

    def places_editor(self, pg) -> None:
        with self.rec.surface("points-editeur", "Points numériques (éditeur)") as sf:
            pg.goto(f"{self.base}/points_numeriques")
            _rendered(pg, sf, "Points numériques")
            self.sign_in(pg)
            side = pg.locator("[data-testid='stSidebar']").get_by_text("Connecté").first
            _no_markup(sf, side, "barre latérale")
            self.rec.expect(sf, "compte", "nom du compte (barre latérale)", side.inner_text(),
                            EDITOR)
            self._typed_place(pg, sf)
            for pid in ("latex-inline", "blank-lines"):
                self._detail(pg, sf, pid, editor=True)
            frame = map_frame(pg)
            typed = [f for f in open_all(frame) if f["props"].get("nom") == TYPED_NAME]
            self.rec.expect(sf, "saisie", "nom saisi (fiche de la carte)",
                            typed[0].get("popup") if typed else "", TYPED_NAME)

    def _typed_place(self, pg, sf: Surface) -> None:
        """A place typed in the real form: saved, then read back exactly from the store."""
        from maillage.registry import store

        pg.get_by_role("tab", name="Ajouter / modifier").click()
        form = pg.locator("[data-testid='stForm']").filter(has_text="SIRET ou RNA ou RIDET")
        values = {"Nom": TYPED_NAME, "Adresse": TYPED_NAME,
                  "SIRET ou RNA ou RIDET": "21972213900017", "Code postal": "97200",
                  "Latitude": "14.6005", "Longitude": "-61.0810"}
        for label, value in values.items():
            form.get_by_label(label, exact=True).fill(value)
        for label, option in (("Commune", "Fort-de-France"),
                              ("Services", "Aide aux démarches administratives")):
            box = form.get_by_label(label, exact=True)
            box.click()
            box.fill(option)
            pg.get_by_role("option", name=option, exact=True).first.click()
            box.press("Escape")
        expect(form.get_by_role("combobox", name="Commune", exact=True)).to_have_value(
            "Fort-de-France")
        form.get_by_role("button", name="Enregistrer").click()
        saved = pg.get_by_text("Fiche enregistrée").first
        refused = pg.locator("[data-testid='stAlertContentError']").first
        saved.or_(refused).wait_for()
        assert not refused.count(), refused.inner_text()  # the form said why: shown
        got = next((r for r in store.rows(self.corpus.settings()) if r["nom"] == TYPED_NAME
                    and r["id"].startswith("fed-")), None)
        literal = got is not None and got["nom"] == TYPED_NAME and got["adresse"] == TYPED_NAME
        sf.checks.append(Check("saisie", "nom et adresse saisis (registre)", literal,
                               "" if literal else str(got)[:160]))

    def tours_editor(self, pg) -> None:
        downloads: dict[str, bytes] = {}
        with self.rec.surface("tournees-editeur", "Tournées (éditeur : plan et carte)") as sf:
            pg.locator("[data-testid='stSidebar']").get_by_role("link", name="Tournées").click()
            _rendered(pg, sf, "Tournées des ateliers mobiles")
            stops = self.work / "arrets-adverses.csv"
            stops.write_bytes(adv.stops_csv(self.corpus.canary, [(n, p) for n, p, _ in
                                                                 self.corpus.stops]))
            pg.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(stops))
            pg.get_by_text(stops.name).wait_for()
            pg.get_by_label("Camions").fill("1")
            pg.get_by_label("Semaines").fill("1")
            pg.get_by_label("Temps de calcul (s)").fill("5")
            pg.get_by_role("button", name="Calculer les tournées").click()
            pg.get_by_text("Visites planifiées").wait_for(timeout=240_000)
            _settle(pg)
            if pg.locator(STREAMLIT_ERROR).count():
                sf.failures.append("exception Streamlit après le calcul")
            frame = map_frame(pg)
            shown = {}
            for feat in open_all(frame):
                text = feat.get("tooltip") or ""
                if feat.get("bad"):
                    sf.failures.append(f"élément HTML créé dans une infobulle : {text[:80]}")
                shown[_tag_of(text)] = text
            for n, p, r in self.corpus.stops:
                self.rec.expect(sf, p.id, "nom d'arrêt (infobulle)", shown.get(adv.tag(n)),
                                r["nom"])
            # The week's timeline (plotly reads a subset of HTML): hover its workshops.
            bars = pg.locator(".js-plotly-plot .barlayer path")
            for k in range(min(bars.count(), 12)):
                bars.nth(k).hover(force=True)
            hover = " ".join(pg.locator(".js-plotly-plot .hovertext").evaluate_all(
                "els => els.map(e => e.textContent || '')"))
            if pg.locator(".js-plotly-plot .hovertext a, .js-plotly-plot image").count():
                sf.failures.append(f"lien ou image dans le survol du calendrier : {hover[:80]}")
            for key, label in (("feuille", "Feuille imprimable (.html)"),
                               ("ics", "Calendrier (.ics)"), ("csv", "Tableau (.csv)")):
                downloads[key] = download(pg, pg.get_by_role("button", name=label).first)
        with self.rec.surface("export-tournees-ics", "Export iCalendar des tournées") as sf:
            self._ics(sf, downloads.get("ics", b""))
        with self.rec.surface("export-tournees-csv", "Export CSV des tournées") as sf:
            self._plan_csv(sf, downloads.get("csv", b""))
        if "feuille" in downloads:
            sheet = self.work / "feuille.html"
            sheet.write_bytes(downloads["feuille"])
            self.corpus.exports["feuille"] = sheet
        with self.rec.surface("tournees-plans", "Tournées (plans enregistrés, présence)") as sf:
            pg.get_by_role("tab", name="Plans enregistrés et présence").click()
            plan = pg.get_by_label("Plan", exact=True)
            plan.wait_for()
            sf.rendered = True
            self.rec.expect(sf, "plan", "nom du plan (liste des plans)", plan.input_value(),
                            PLAN_NAME)
            # Attendance of a hostile stop's visit: the confirmation quotes its name.
            n, p, r = next(x for x in self.corpus.stops if x[1].id == "md-image")
            panel = pg.get_by_role("tabpanel").filter(has_text="Présence aux ateliers")
            visit = panel.get_by_label(re.compile(r"^Visite"))
            visit.click()
            visit.fill(adv.tag(n))
            pg.get_by_role("option").filter(has_text=adv.tag(n)).first.wait_for()
            visit.press("Enter")
            _settle(pg)
            panel.get_by_label("Présents", exact=True).fill("7")
            panel.get_by_label("dont 65 ans et plus", exact=True).fill("3")
            panel.get_by_role("button", name="Enregistrer la présence").click()
            done = pg.locator("[data-testid='stAlertContentSuccess']").filter(
                has_text="Présence enregistrée")
            done.wait_for()
            _no_markup(sf, done, "confirmation de présence")
            self.rec.expect(sf, p.id, "nom d'arrêt (confirmation de présence)",
                            done.inner_text(), r["nom"])

    def _ics(self, sf: Surface, data: bytes) -> None:
        from icalendar import Calendar

        cal = Calendar.from_ical(data)
        sf.rendered = True
        summaries = [str(e.get("summary")) for e in cal.walk("VEVENT")]
        locations = [str(e.get("location")) for e in cal.walk("VEVENT")]
        for n, p, r in self.corpus.stops:
            tag = f"Arrêt {adv.tag(n)}"
            mine = [s for s in summaries if s.endswith(tag)]
            if mine:
                self.rec.expect(sf, p.id, "nom d'arrêt (SUMMARY)", mine[0],
                                f"Atelier numérique mobile – {r['nom']}")
                self.rec.expect(sf, p.id, "adresse (LOCATION)", " ".join(locations),
                                r["adresse"])

    def _plan_csv(self, sf: Surface, data: bytes) -> None:
        from maillage.registry import csvio

        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        sf.rendered = bool(rows)
        by_name = {csvio.unescape_cell(r["arret"]): r for r in rows}
        for _, p, r in self.corpus.stops:
            got = by_name.get(r["nom"])
            if got is None:
                continue
            for col, fld in (("arret", "nom"), ("adresse", "adresse"), ("id", "id")):
                if got[col][:1] in adv.FORMULA_START and not got[col].startswith("'"):
                    sf.failures.append(f"{p.id} : cellule {col} non neutralisée")
                self.rec.expect(sf, p.id, f"{fld} (CSV)", csvio.unescape_cell(got[col]), r[fld])

    def indicators_editor(self, pg) -> None:
        with self.rec.surface("indicateurs-editeur", "Indicateurs (éditeur)") as sf:
            pg.locator("[data-testid='stSidebar']").get_by_role("link", name="Indicateurs"
                                                                ).click()
            _rendered(pg, sf, "Indicateurs des cinq solutions")
            pg.get_by_text("Saisir des chiffres").first.wait_for()
            _settle(pg)
            entry = pg.locator("[data-testid='stExpander']").filter(has_text="Un chiffre")
            pick(pg, entry.get_by_label("Indicateur", exact=True), "Personnes accompagnées")
            _settle(pg)
            place = entry.get_by_label("Lieu labellisé")
            for pid in ("html-img", "tpl-open-expr", "st-icon"):
                r = self.corpus.place(pid)
                tag = _tag_of(r["nom"])
                place.click()
                place.fill(tag)
                option = pg.get_by_role("option").filter(has_text=tag).first
                self.rec.expect(sf, pid, "nom (liste des lieux labellisés)",
                                option.inner_text(), r["nom"])
                pg.keyboard.press("Escape")
            # A refused import quotes the file's text in its message: shown literally.
            refused = self.work / "chiffres-refuses.csv"
            refused.write_bytes(adv.indicators_csv([{
                "indicateur": adv.BY_PLACE, "mois": "2025-01", "code_insee": "97209",
                "lieu": REFUSED_PLACE, "dimension": "", "valeur": "1"}]))
            pg.get_by_text("Importer un fichier CSV").click()
            pg.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
                str(refused))
            pg.get_by_role("button", name="Importer", exact=True).click()
            alert = pg.locator("[data-testid='stAlertContentError']").filter(
                has_text="absent du registre")
            alert.wait_for()
            self.rec.expect(sf, "import-refuse", "lieu cité (message de refus)",
                            alert.inner_text(), REFUSED_PLACE)
            _no_markup(sf, alert, "message de refus")
            # The yearly report, downloaded as a visitor would.
            year = date.today().year
            pg.get_by_role("button", name=f"Préparer le rapport {year} (HTML)").click()
            report = self.work / "rapport.html"
            report.write_bytes(download(pg, pg.get_by_role(
                "button", name=f"Télécharger le rapport {year}")))
            self.corpus.exports["rapport"] = report

    # ----------------------------------------------------------------- exports
    def open_file(self, pg, key: str, title: str, path: Path,
                  check: Callable[[Surface, str], None]) -> None:
        with self.rec.surface(key, title) as sf:
            pg.goto(path.as_uri())
            pg.wait_for_load_state("load")
            pg.wait_for_timeout(500)
            sf.rendered = pg.locator("h1").count() > 0
            check(sf, pg.locator("body").inner_text())

    def _sheet(self, sf: Surface, text: str) -> None:
        for n, p, r in self.corpus.stops:
            if f"Arrêt {adv.tag(n)}" in text:
                self.rec.expect(sf, p.id, "nom d'arrêt (feuille)", text, r["nom"])
        if not sf.checks:
            sf.failures.append("aucun arrêt du corpus dans la feuille")

    def geojson(self) -> None:
        from maillage.registry import csvio, store

        with self.rec.surface("export-registre-geojson", "Export GeoJSON du registre") as sf:
            doc = json.loads(csvio.write_geojson(store.rows(self.corpus.settings()),
                                                 private=False))
            sf.rendered = True
            props = {f["properties"]["id"]: f["properties"] for f in doc["features"]}
            for _, p, r in self.corpus.places:
                for fld in ("nom", "adresse", "site_web"):
                    got = props.get(r["id"], {}).get(fld, "")
                    sf.checks.append(Check(p.id, f"{fld} (GeoJSON)", got == r[fld],
                                           "" if got == r[fld] else got[:160]))

    def indicators_csv(self) -> None:
        from maillage.indicators import store

        with self.rec.surface("export-indicateurs-csv", "Export CSV des indicateurs") as sf:
            from maillage.registry import csvio

            data = store.export_csv(self.corpus.settings())
            sf.rendered = True
            ids = {csvio.unescape_cell(r["lieu"]) for r in
                   csv.DictReader(io.StringIO(data.decode("utf-8")))}
            for n, p in self.corpus.indicator_places:
                pid = adv.stored(adv.place_id(n, p, self.corpus.canary))
                sf.checks.append(Check(p.id, "lieu (CSV)", pid in ids))

    # ----------------------------------------------------------------- the run
    def public_flow(self, browser) -> None:
        """Every page as the public sees it, one after the other."""
        ctx, pg = self.context(browser)
        try:
            self.simple_page(pg, "", "accueil", "Accueil",
                             "Maillage — la médiation numérique de proximité en Martinique")
            self.simple_page(pg, "couverture", "couverture", "Couverture", "Couverture",
                             ready="Zones blanches aujourd'hui", places_on_map=True)
            self.simple_page(pg, "isochrones", "isochrones", "Isochrones", "Isochrones")
            self.places_public(pg)
            self.simple_page(pg, "arrets_proposes", "arrets", "Arrêts proposés",
                             "Arrêts proposés pour les ateliers mobiles",
                             ready="Réponse immédiate", places_on_map=False)
            self.simple_page(pg, "tournees", "tournees-public", "Tournées (public)",
                             "Tournées des ateliers mobiles", ready="Prochains passages")
            self.finder(pg)
            self.simple_page(pg, "indicateurs", "indicateurs-public", "Indicateurs (public)",
                             "Indicateurs des cinq solutions")
        finally:
            ctx.close()

    def editor_flow(self, browser) -> None:
        """The signed-in editor's pages, then the exports opened in the browser."""
        ctx, pg = self.context(browser)
        try:
            self.places_editor(pg)
            self.tours_editor(pg)
            self.indicators_editor(pg)
            if "feuille" in self.corpus.exports:
                self.open_file(pg, "feuille", "Feuille de route imprimable (HTML)",
                               self.corpus.exports["feuille"], self._sheet)
            if "rapport" in self.corpus.exports:
                self.open_file(pg, "rapport", "Rapport annuel des indicateurs (HTML)",
                               self.corpus.exports["rapport"], lambda sf, text: None)
        finally:
            ctx.close()


def visit_all(browser, base: str, corpus: Corpus, work: Path) -> tuple[list[Surface], int]:
    """Every surface: the public and the editor visit at the same time (two visitors,
    two browsers: Playwright's sync API wants one per thread); then the files.

    Returns the surfaces in a fixed order and the number of map tiles requested.
    """
    public = Visit(base, corpus, work)
    editor = Visit(base, corpus, work)
    failure: list[str] = []

    def editor_thread() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                       headless=True, args=LAUNCH_ARGS)
                try:
                    editor.editor_flow(b)
                finally:
                    b.close()
        except BaseException:  # reported below, in the main thread
            failure.append(traceback.format_exc(limit=4))

    worker = threading.Thread(target=editor_thread, name="adversarial-editor")
    worker.start()
    try:
        public.public_flow(browser)
    finally:
        worker.join()
    if failure:
        with editor.rec.surface("editeur", "Parcours de l'éditeur") as sf:
            sf.failures.append(failure[0][-1500:])
    public.geojson()
    public.indicators_csv()
    return public.rec.surfaces[:-2] + editor.rec.surfaces + public.rec.surfaces[-2:], (
        public.rec.tiles + editor.rec.tiles)


#: A place typed in the form of « Points numériques » (every kind of syntax at once).
TYPED_NAME = ("{{ 7*7 }} <img src=x onerror=alert(17)> ${alert(18)} $x$ :red[x] "
              "![x](http://127.0.0.1:9/form.png) Lieu saisi")
#: A ``lieu`` absent from the registry: the refusal message quotes it (whole: < 40 chars).
REFUSED_PLACE = ":red[x] $x$ ![i](http://127.0.0.1:9/r)"


def _local_only(route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "file:")):
        route.continue_()
    else:
        route.abort()


# --------------------------------------------------------------------------- results
#: Checks on text that is not one of the corpus' payloads (the account, the file name…).
OTHER = "Autres entrées (compte, fichier, plan, saisie)"
#: Short column headings of the results table, by category.
SHORT = {adv.HTML: "HTML", adv.URL: "URL", adv.TEMPLATE: "Jinja", adv.JS: "JS/JSON",
         adv.MARKDOWN: "Markdown", adv.DIRECTIVES: "LaTeX/directives",
         adv.FORMULA: "Formules", adv.LONG: "Long", adv.SCRIPTS: "Écritures",
         adv.CONTROL: "Contrôles", adv.NEWLINES: "Sauts de ligne", adv.CSV_DELIMS: "CSV",
         OTHER: "Autres"}


def _category(payload_id: str) -> str:
    p = adv.BY_ID.get(payload_id)
    return p.category if p is not None else OTHER


def _alert_owner() -> dict[str, str]:
    """alert(N) number → id of the payload (or other entry) that carries it."""
    owners = {m: p.id for p in adv.PAYLOADS for m in _ALERT.findall(p.raw)}
    for name, text in (("fichier", FILE_NAME), ("plan", PLAN_NAME), ("saisie", TYPED_NAME)):
        owners.update({m: name for m in _ALERT.findall(text)})
    return owners


def summary(surfaces: list[Surface], corpus: Corpus, tiles: int = 0) -> dict[str, Any]:
    """JSON-ready results: payloads, entry paths, surfaces × checks, totals."""
    owners = _alert_owner()
    by_cat: dict[str, dict[str, list[int]]] = {}
    dialogs_by_cat: dict[str, int] = {}
    for sf in surfaces:
        for c in sf.checks:
            cell = by_cat.setdefault(_category(c.payload), {}).setdefault(sf.key, [0, 0])
            cell[0] += c.literal
            cell[1] += 1
        for d in sf.dialogs:
            m = _ALERT.search(d) or re.search(r"(\d+)$", d)
            cat = _category(owners.get(m.group(1), "")) if m else OTHER
            dialogs_by_cat[cat] = dialogs_by_cat.get(cat, 0) + 1
    canary = sorted({f for sf in surfaces for f in sf.canary}
                    | {p.name for p in adv.canary_files(corpus.canary)})
    checks = [c for sf in surfaces for c in sf.checks]
    return {
        "payloads": [{"id": p.id, "category": p.category, "length": len(p.raw)}
                     for p in adv.PAYLOADS],
        "entries": corpus.entries,
        "surfaces": [{"key": sf.key, "title": sf.title, "rendered": sf.rendered,
                      "dialogs": sf.dialogs, "failures": sf.failures,
                      "js_errors": sf.js_errors, "canary": sf.canary,
                      "seconds": sf.seconds, "ok": sf.ok(),
                      "checks": [vars(c) for c in sf.checks]} for sf in surfaces],
        "by_category": by_cat,
        "dialogs_by_category": dialogs_by_cat,
        "totals": {"payloads": len(adv.PAYLOADS), "surfaces": len(surfaces),
                   "checks": len(checks), "literal": sum(c.literal for c in checks),
                   "payload_field_pairs": len({(c.payload, c.field) for c in checks}),
                   "dialogs": sum(len(sf.dialogs) for sf in surfaces),
                   "canary": canary,
                   "failed_renders": sum(not sf.rendered for sf in surfaces),
                   "failures": sum(len(sf.failures) for sf in surfaces),
                   "tiles_requested": tiles},
    }


def markdown_tables(result: dict[str, Any]) -> str:
    """The results as two markdown tables (French headings): surfaces × categories, then
    categories with their refusals."""
    cats = [c for c in (*adv.CATEGORIES, OTHER) if c in result["by_category"]]
    head = ["Surface", *[SHORT[c] for c in cats], "Alertes JS", "Évaluations", "Rendu"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sf in result["surfaces"]:
        cells = []
        for c in cats:
            ok, n = result["by_category"][c].get(sf["key"], (0, 0))
            cells.append(f"{ok}/{n}" if n else "—")
        rendered = "oui" if sf["rendered"] and not sf["failures"] else "**non**"
        lines.append(f"| {sf['title']} | " + " | ".join(cells)
                     + f" | {len(sf['dialogs'])} | {len(sf['canary'])} | {rendered} |")
    t = result["totals"]
    lines.append("| **Total** | " + " | ".join(
        f"{sum(v[0] for v in result['by_category'][c].values())}/"
        f"{sum(v[1] for v in result['by_category'][c].values())}" for c in cats)
        + f" | {t['dialogs']} | {len(t['canary'])} | {t['failed_renders']} en échec |")
    refused = {}
    for path, entry in result["entries"].items():
        for pid in entry.get("refused", []):
            refused.setdefault(_category(pid), []).append(path)
    paths = {"registry": "registre", "tours": "arrêts", "indicators": "indicateurs"}
    lines += ["", "| Catégorie | Charges | Vérifications littérales | Alertes JS | "
              "Refus à bon droit (entrée) |", "|---|---|---|---|---|"]
    for c in cats:
        n = sum(1 for p in result["payloads"] if p["category"] == c)
        v = result["by_category"][c].values()
        why = ", ".join(f"{paths.get(k, k)} × {m}" for k, m in sorted(
            {k: refused.get(c, []).count(k) for k in set(refused.get(c, []))}.items()))
        lines.append(f"| {c} | {n or '—'} | {sum(x[0] for x in v)}/{sum(x[1] for x in v)} | "
                     f"{result['dialogs_by_category'].get(c, 0)} | {why or '—'} |")
    return "\n".join(lines)


def run_all(browser, prepared: Path, work: Path) -> dict[str, Any]:
    """Copy ``prepared``, write the corpus, run a server on it, visit everything."""
    data = copy_data_dir(prepared, work / "data")
    canary = work / "canary" / "canary"
    with server(data, canary) as ready:
        corpus = prepare(data, canary)
        surfaces, tiles = visit_all(browser, ready(), corpus, work)
    return summary(surfaces, corpus, tiles)
