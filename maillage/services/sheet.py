"""The printable sheet of one place of help: one HTML file for paper (A4) and for a phone.

One service for ``maillage report place`` and the pages' download buttons (« Trouver un
point numérique », « Points numériques »); see the package docstring for the pattern.
:class:`SheetRequest` names the place (and, optionally, the searched address it is
reached from); :meth:`SheetService.run` answers with a :class:`SheetResult` whose
:attr:`~SheetResult.html` is the document: name, address, a static map (commune outlines,
roads, the place, the start point and the walk there, drawn as SVG by
:mod:`geo.static_map`), hours (or whom to call), services, publics, access conditions,
the next visits of the mobile workshop nearby (:func:`maillage.finder.van_visits`), the
walking and driving times from the searched address (the Finder's own routing), and a QR
code (:mod:`segno`, inline SVG) to the place's page on the dashboard.

The document is self-contained (inline CSS and SVG, no script, no external file) and
depends on nothing but the request: the date it prints, and from which the visits are
listed, is the request's. Every text from the registry is escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np

from maillage import fmt
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.finder import Finder, van_visits
from maillage.services import documents
from maillage.services.documents import esc
from maillage.settings import Settings

MODES = ("walk", "drive")
MODE_TITLE = {"walk": "À pied", "drive": "En voiture"}
#: How far around the place the mobile workshop's visits are listed (metres).
VISITS_RADIUS_M = 5000.0
#: Smallest side of the map around the place (metres).
MAP_MIN_M = 1200.0
#: QR code: error correction (15 % of the code may be damaged) and drawing options.
QR_MAKE = {"error": "m", "micro": False}
QR_SVG = {"scale": 4, "border": 4, "dark": "#000", "light": "#fff", "omitsize": True,
          "svgclass": "qr", "lineclass": None, "title": "QR code de la page du lieu"}
#: Datasets a sheet's content comes from (credits).
SOURCES = ("hub_antilles", "france_services", "cnfs_lieux", "communes_geo")


def place_url(s: Settings, place_id: str, lon: float, lat: float) -> str:
    """The place's page on the dashboard: « Trouver » from the place itself, detail open.

    ``pages/trouver.py`` opens a place's detail (``lieu``) among the answers around a
    starting point (``at=LON,LAT``, or ``q``); starting from the place's own position, it
    is the first answer. The searched address of the sheet never goes into the link.
    """
    base = (s.public_url or "http://localhost:8501").rstrip("/")
    return f"{base}/trouver?at={lon:.6f},{lat:.6f}&lieu={quote(str(place_id), safe='')}"


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline ``<svg>`` (segno)."""
    try:
        import segno
    except ImportError:  # pragma: no cover - a dependency of the project
        raise MaillageError("Le module segno (QR codes) n'est pas installé : lancez "
                            "« uv sync » pour installer les dépendances du projet.") from None
    return segno.make(url, **QR_MAKE).svg_inline(**QR_SVG)


@dataclass(frozen=True)
class SheetRequest:
    """One sheet: the place ``place_id``, reached (optionally) from ``origin`` (lon, lat)
    called ``origin_label`` (the searched address), printed on ``date`` (today when None),
    the workshop's visits listed from that day on."""

    place_id: str
    origin: tuple[float, float] | None = None
    origin_label: str = ""
    date: date | None = None

    def validated(self) -> SheetRequest:
        """The same request checked (French errors) before anything is loaded."""
        from analysis import snap

        pid = str(self.place_id or "").strip()
        if not pid:
            raise MaillageError("Donnez l'identifiant du lieu (voir « maillage places list »).")
        origin = None
        if self.origin is not None:
            try:
                lon, lat = (float(v) for v in self.origin)
            except (TypeError, ValueError):
                raise MaillageError("Point de départ illisible : donnez une adresse ou "
                                    "LON,LAT.") from None
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise MaillageError("Point de départ illisible : donnez une adresse ou "
                                    "LON,LAT.")
            snap.check_in_martinique(lon, lat, label="Le point de départ")
            origin = (lon, lat)
        day = self.date or date.today()
        if isinstance(day, datetime):
            day = day.date()
        if not isinstance(day, date):
            raise MaillageError(f"Date de la fiche illisible : « {self.date} » "
                                "(écrivez-la AAAA-MM-JJ).")
        label = " ".join(str(self.origin_label or "").split())
        return replace(self, place_id=pid, origin=origin, origin_label=label, date=day)


@dataclass(frozen=True)
class SheetResult:
    """The answer to a :class:`SheetRequest` (``place``: the public details of
    :func:`geo.public_places.details`; ``trips``: by mode, minutes and metres or None
    when out of reach, None without a start point; ``visits``: None when the tours
    cannot be read)."""

    request: SheetRequest
    place: dict[str, Any]
    hours: str
    trips: dict[str, dict[str, int | None]] | None
    visits: list[dict] | None
    url: str
    qr: str
    map_svg: str
    map_legend: str
    walk_kmh: float

    @property
    def html(self) -> str:
        """The sheet as one self-contained HTML document."""
        return render(self)

    def file_name(self) -> str:
        """The download's name (:func:`file_name`)."""
        return file_name(self.place["id"])

    def to_json(self) -> dict[str, Any]:
        """What ``maillage report place --json`` prints (plain text, not escaped)."""
        p = self.place
        r = self.request
        return {
            "id": p["id"], "nom": p["nom"], "adresse": p["adresse"], "commune": p["commune"],
            "telephone": p["telephone"], "horaires": p["horaires"], "horaires_fr": self.hours,
            "services": p["services"], "publics": p["publics_specifiquement_adresses"],
            "date": r.date.isoformat(),
            "depart": None if r.origin is None else {
                "libelle": r.origin_label, "lon": round(r.origin[0], 6),
                "lat": round(r.origin[1], 6)},
            "trajets": self.trips, "passages_atelier_mobile": self.visits, "url": self.url,
        }


def file_name(place_id: str) -> str:
    """``fiche-<id>.html`` with the id made safe for a file name (ASCII letters, digits,
    ``-`` and ``_``)."""
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-"
                   for c in str(place_id))
    return f"fiche-{safe[:80] or 'lieu'}.html"


def _minutes(seconds: float) -> int | None:
    """Whole minutes, at least 1 (the finder's rule); None when out of reach."""
    return max(1, math.ceil(seconds / 60.0)) if np.isfinite(seconds) else None


def hours_text(p: dict[str, Any]) -> str:
    """The hours in French, or whom to call when they are not known."""
    from geo import public_places

    text = public_places.hours_fr(p.get("horaires") or "")
    if text:
        return text
    if p.get("telephone"):
        return f"Horaires non renseignés : appelez le {p['telephone']} avant de venir."
    return "Horaires non renseignés."


class SheetService:
    """The sheets of the places the Finder knows (located places of the registry)."""

    def __init__(self, finder: Finder, communes: gpd.GeoDataFrame, s: Settings | None = None):
        self.finder = finder
        self.communes = communes
        self.settings = s or settings_mod.get()

    @classmethod
    def load(cls, s: Settings | None = None) -> SheetService:
        """The Finder of the island and the commune outlines."""
        from geo import communes as communes_mod

        s = s or settings_mod.get()
        return cls(Finder.load(s), communes_mod.load(s), s)

    def origin_of(self, text: str) -> tuple[float, float, str]:
        """The point and label of a searched address (the Finder's search, French error)."""
        hit = self.finder.locate(text)
        return hit.lon, hit.lat, hit.label

    def run(self, request: SheetRequest) -> SheetResult:
        """Answer ``request`` (checked first)."""
        from zoneinfo import ZoneInfo

        from analysis import snap
        from analysis.schedule import TIMEZONE
        from geo import public_places

        req = request.validated()
        f = self.finder
        row = f.row_of(req.place_id)
        place = public_places.details(f.places.iloc[row])
        lon, lat = place["lon"], place["lat"]
        trips = route = None
        if req.origin is not None:
            answer = f.answer(req.origin[0], req.origin[1], k=1)
            trips = {}
            for mode in MODES:
                r = f.route(answer, row, mode)
                trips[mode] = {"minutes": _minutes(r.seconds),
                               "metres": round(r.metres) if np.isfinite(r.metres) else None}
                if mode == "walk" and np.isfinite(r.seconds):
                    route = r.lonlat
        start = datetime.combine(req.date, datetime.min.time(), ZoneInfo(TIMEZONE))
        visits = van_visits(lon, lat, start, radius_m=VISITS_RADIUS_M)
        url = place_url(self.settings, place["id"], lon, lat)
        xy = snap.to_xy(np.array([[lon, lat]]))[0]
        svg, legend = self._map(place, xy, req, route)
        return SheetResult(req, place, hours_text(place), trips, visits, url, qr_svg(url),
                           svg, legend, self.settings.walk_kmh)

    def _map(self, place: dict, xy: np.ndarray, req: SheetRequest, route: np.ndarray | None
             ) -> tuple[str, str]:
        import shapely

        from analysis import snap
        from geo import static_map as sm

        pts = [shapely.Point(xy)]
        if req.origin is not None:
            pts.append(shapely.Point(snap.to_xy(np.array([req.origin]))[0]))
        if route is not None and len(route) >= 2:
            pts.append(shapely.LineString(snap.to_xy(np.asarray(route))))
        extent = sm.extent_of(pts, pad=0.12, min_size_m=MAP_MIN_M)
        # a little wider than high: reads well on paper and on a phone
        x0, y0, x1, y1 = extent
        if (x1 - x0) < 1.6 * (y1 - y0):
            grow = (1.6 * (y1 - y0) - (x1 - x0)) / 2
            extent = (x0 - grow, y0, x1 + grow, y1)
        layers = [sm.layer(self.communes, sm.Style(fill=sm.LAND, stroke="#777", width=1.0,
                                                   dash="5 3"), "Limites de communes")]
        net = self.finder.nets.get("drive")
        if net is not None:
            layers.append(sm.layer(sm.graph_lines(net.graph, extent),
                                   sm.Style(stroke=sm.ROAD, width=1.6), "Routes"))
        if route is not None and len(route) >= 2:
            layers.append(sm.line(route, sm.Style(stroke=sm.ROUTE, width=3.5),
                                  "Trajet à pied depuis votre adresse"))
        if req.origin is not None:
            layers.append(sm.points([req.origin], sm.Style(fill=sm.ORIGIN, stroke="#fff",
                                                           width=1.5, marker="square",
                                                           radius=6), "Votre point de départ"))
        layers.append(sm.points([(place["lon"], place["lat"])],
                                sm.Style(fill=sm.PLACE, stroke="#fff", width=2, marker="star",
                                         radius=9), place["nom"] or "Le lieu"))
        title = f"Plan d'accès : {place['nom']}"
        svg = sm.render(layers, extent, title=title, width=480, max_height=300, simplify_px=0.3)
        return svg, sm.legend_html(layers)


# =============================================================================== HTML

_CSS = """
.fiche{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:0 1.4rem}
figure.plan{margin:.4rem 0 .6rem}
.fiche h2{font-size:1.1rem;margin:.9rem 0 .3rem}
dl{margin:0} dt{font-weight:700;margin-top:.45rem} dd{margin:0 0 .1rem 0}
.adresse{font-size:1.1rem;margin:.1rem 0 .5rem}
.trajets{font-size:1.1rem;font-weight:600}
.qr-bloc{display:flex;gap:.8rem;align-items:center;margin-top:.8rem;break-inside:avoid}
.qr-bloc svg.qr{width:34mm;height:34mm;flex:none}
.lien{word-break:break-all;font-size:.85em}
.pied{margin-top:1rem;border-top:1px solid var(--trait);padding-top:.4rem}
@media (max-width:640px){
body{font-size:19px;padding:.8rem}
h1{font-size:1.7rem}
.fiche{display:block}
.qr-bloc svg.qr{width:40vw;height:40vw}
}
@media print{
body{font-size:10pt;line-height:1.3}
h1{font-size:16pt;margin:0 0 1mm}
.adresse{font-size:11pt;margin:0 0 2mm}
.fiche{grid-template-columns:1fr 1fr}
.fiche h2{font-size:11.5pt;margin:3mm 0 1mm}
dt{margin-top:1.5mm}
.trajets{font-size:11pt}
figure.plan{margin:0 0 2mm}
figure.plan svg.carte{max-height:80mm;width:auto;max-width:100%;margin:0 auto}
.qr-bloc{margin-top:3mm}
.qr-bloc svg.qr{width:30mm;height:30mm}
.pied{margin-top:3mm;font-size:7.5pt}
}
"""


def _list(values: list[str]) -> str:
    return esc(", ".join(values))


def _when(iso: str) -> str:
    return fmt.when(datetime.fromisoformat(iso))


def _links(p: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    if p["telephone"]:
        tel = p["tel"]
        text = esc(p["telephone"])
        rows.append(("Téléphone", f'<a href="{esc(tel)}">{text}</a>' if tel else text))
    if p["courriels"]:
        rows.append(("Courriel", _list(p["courriels"])))
    if p["site_web"]:
        rows.append(("Site web", f'<span class="lien">{esc(p["site_web"])}</span>'))
    if p["prise_rdv"]:
        rows.append(("Prendre rendez-vous", f'<span class="lien">{esc(p["prise_rdv"])}</span>'))
    return rows


def render(res: SheetResult) -> str:
    """The sheet as one self-contained HTML document (see the module docstring)."""
    p = res.place
    req = res.request
    info: list[tuple[str, str]] = [("Horaires", esc(res.hours))]
    info += _links(p)
    if p["presentation"]:
        info.append(("Présentation", esc(" ".join(str(p["presentation"]).split()))))
    info.append(("Services", _list(p["services"]) or "non renseignés"))
    if p["publics_specifiquement_adresses"]:
        info.append(("Publics accueillis", _list(p["publics_specifiquement_adresses"])))
    if p["prise_en_charge_specifique"]:
        info.append(("Prise en charge spécifique", _list(p["prise_en_charge_specifique"])))
    if p["modalites_acces"]:
        info.append(("Conditions d'accès", _list(p["modalites_acces"])))
    if p["modalites_accompagnement"]:
        info.append(("Accompagnement", _list(p["modalites_accompagnement"])))
    if p["frais_a_charge"]:
        info.append(("Tarif", _list(p["frais_a_charge"])))
    if p["fiche_acces_libre"]:
        info.append(("Accessibilité", f'fiche Accèslibre : <span class="lien">'
                                      f'{esc(p["fiche_acces_libre"])}</span>'))
    details = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in info)

    trip = ""
    if res.trips is not None:
        parts = []
        for mode in MODES:
            t = res.trips[mode]
            dist = f" ({fmt.distance(t['metres'])})" if t["metres"] is not None else ""
            parts.append(f"{MODE_TITLE[mode]} : {fmt.minutes(t['minutes'])}{dist}")
        trip = (f'<h2>Depuis {esc(req.origin_label or "votre adresse")}</h2>'
                f'<p class="trajets" data-trajets="1">{esc(" ; ".join(parts))}</p>'
                '<p class="note">Temps estimés sur le réseau routier (marche à '
                f"{esc(fmt.number(res.walk_kmh, 1, 'km/h'))} ; voiture sans "
                "embouteillages).</p>")

    if res.visits is None:
        visits = "<p>Calendrier de l'atelier mobile indisponible pour le moment.</p>"
    elif not res.visits:
        visits = (f"<p>Aucun passage prévu à moins de {esc(fmt.distance(int(VISITS_RADIUS_M)))}"
                  f" à partir du {esc(fmt.day_long(req.date))}.</p>")
    else:
        items = []
        for v in res.visits:
            where = ", ".join(x for x in (v["lieu"], v["adresse"]) if x)
            items.append(f"<li><b>{esc(_when(v['debut']))}</b> — {esc(where)} (à "
                         f"{esc(fmt.distance(v['distance_m']))})</li>")
        visits = f"<ul>{''.join(items)}</ul>"

    body = (
        f"<header><h1>{esc(p['nom'])}</h1>"
        f'<p class="adresse">{esc(p["adresse"])}</p></header>'
        f'<figure class="plan">{res.map_svg}<figcaption>{res.map_legend}'
        f"{esc(documents.OSM_CREDIT)}</figcaption></figure>"
        f'<div class="fiche"><div><dl>{details}</dl></div><div>{trip}'
        "<h2>Prochains passages de l'atelier mobile à proximité</h2>"
        f'{visits}<div class="qr-bloc">{res.qr}<p>Cette fiche en ligne, toujours à jour : '
        f'scannez le code ou ouvrez<br><span class="lien">{esc(res.url)}</span></p></div>'
        "</div></div>"
        f'<footer class="pied credits"><p>Fiche éditée le {esc(fmt.day_long(req.date))} par '
        "Maillage, l'annuaire de la médiation numérique en Martinique. Les horaires peuvent "
        "changer : en cas de doute, appelez avant de venir.</p>"
        f"{documents.sources_inline(SOURCES + (('addresses',) if req.origin else ()), osm=False)}"
        "</footer>")
    return documents.document(f"Fiche — {p['nom']}", body, _CSS)

