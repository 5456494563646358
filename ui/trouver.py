"""Pieces of the « Trouver un point numérique » page: the shared finder, cards, phone styles.

The finder is cached per server process and registry revision (public data only). Nothing about
a visitor goes into a shared cache: answers are computed on each run from the
visitor's own query parameters and session state.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import streamlit as st

from geo import mapsafe
from maillage import fmt
from ui import widgets
from ui.data import announce_rebuilds

if TYPE_CHECKING:  # the finder (scipy, rapidfuzz) is imported when it is loaded, not
    from maillage.finder import Finder  # by the home page, which only takes PHONE_CSS

#: Styles for a 375 px wide phone: big touch targets, readable type.
PHONE_CSS = """
<style>
@media (max-width: 640px) {
  h1 { font-size: 1.9rem !important; }
  [data-testid="stMainBlockContainer"] { padding-top: 3rem; }
}
.stButton button, .stDownloadButton button, .stFormSubmitButton button {
  min-height: 48px; font-size: 1.05rem; }
.st-key-trouver-sugg .stButton button { justify-content: flex-start; text-align: left; }
.trouver-card h3 { font-size: 1.2rem; margin: 0 0 .2rem 0; padding: 0; line-height: 1.3; }
.trouver-card p { margin: .15rem 0; font-size: 1.02rem; line-height: 1.45; }
.trouver-times { font-size: 1.12rem; font-weight: 600; }
.trouver-open { color: #0a6b32; font-weight: 600; }
.trouver-closed { color: #a3261b; font-weight: 600; }
.trouver-unknown { color: #555; }
a.trouver-action { display: inline-block; min-height: 48px; line-height: 48px;
  padding: 0 1rem; margin: .3rem .5rem .3rem 0; border-radius: .5rem;
  background: #1f5fa8; color: #fff !important; text-decoration: none; font-weight: 600; }
a.trouver-action.secondary { background: #eef2f7; color: #1b3a5c !important;
  border: 1px solid #b9c6d6; }
.trouver-detail dt { font-weight: 700; margin-top: .5rem; }
.trouver-detail dd { margin: 0 0 .2rem 0; }
</style>
"""

#: OpenStreetMap's routing engines by mode.
OSM_ENGINES = {"walk": "fossgis_osrm_foot", "drive": "fossgis_osrm_car"}

KIND_ICONS = {"address": ":material/home_pin:", "street": ":material/signpost:",
              "commune": ":material/account_balance:", "place": ":material/computer:"}


@announce_rebuilds
@st.cache_resource(ttl=3600, max_entries=1,
                   show_spinner="Chargement des adresses et du réseau routier…")
def _finder(revision: str) -> Finder:
    from maillage.finder import Finder

    return Finder.load()


def finder() -> Finder:
    """The finder of the island (public data, shared by every visitor), loaded again when
    the registry's revision changed: a place edited on any replica shows at the next run."""
    from maillage.registry import store

    return _finder(store.revision())


finder.clear = _finder.clear  # type: ignore[attr-defined]


def esc(value: Any) -> str:
    """Escape any value for an HTML block of ``st.markdown`` (one line, see md_html)."""
    return widgets.md_html(value)


def href(value: Any) -> str | None:
    """An escaped ``href`` for a link from data, or None unless http(s), mailto or tel."""
    url = mapsafe.safe_url(value)
    return None if url is None else html.escape(url, quote=True)


def minutes(value: int | None) -> str:
    """« 12 min », « 1 h 05 », « plus de 3 h »."""
    return fmt.minutes(value, missing="plus de 3 h")


def distance(metres: int | None) -> str:
    """« 850 m », « 1,2 km »."""
    return fmt.distance(metres, missing="")


def open_state(value: bool | None) -> str:
    """Open now as HTML, with words (never colour alone)."""
    if value is True:
        return '<span class="trouver-open">● Ouvert maintenant</span>'
    if value is False:
        return '<span class="trouver-closed">● Fermé maintenant</span>'
    return '<span class="trouver-unknown">Horaires non renseignés : appelez avant de venir</span>'


def call_link(p: dict, text: str = "Appeler le") -> str:
    """A big « call » link for the place's phone number ("" without a number)."""
    url = href(p["tel"])
    if not url:
        return ""
    return f'<a class="trouver-action" href="{url}">{esc(text)} {esc(p["telephone"])}</a>'


def _finite(*values: float) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def geo_uri(lon: float, lat: float, name: str) -> str:
    """``geo:LAT,LON?q=LAT,LON(NAME)``: opens the phone's own maps app on the place."""
    where = f"{lat:.6f},{lon:.6f}"
    return f"geo:{where}?q={where}({quote(mapsafe.plain(name), safe='')})"


def osm_directions(origin: tuple[float, float], dest: tuple[float, float], mode: str) -> str:
    """The OpenStreetMap route from ``origin`` to ``dest`` (lon, lat) on foot or by car."""
    engine = OSM_ENGINES[mode]
    (lon1, lat1), (lon2, lat2) = origin, dest
    return (f"https://www.openstreetmap.org/directions?engine={engine}"
            f"&route={lat1:.6f},{lon1:.6f};{lat2:.6f},{lon2:.6f}")


def directions(p: dict, origin: tuple[float, float] | None) -> list[str]:
    """Links to get to the place: on foot and by car (OpenStreetMap, from ``origin``), and
    in the phone's maps app (``geo:``). Empty when the place has no position."""
    lon, lat = p.get("lon"), p.get("lat")
    if not _finite(lon, lat):
        return []
    links = []
    if origin is not None and _finite(*origin):
        for mode, text in (("walk", "Itinéraire à pied"), ("drive", "Itinéraire en voiture")):
            url = html.escape(osm_directions(origin, (lon, lat), mode), quote=True)
            links.append(f'<a class="trouver-action secondary trouver-osm" href="{url}" '
                         f'target="_blank" rel="noopener noreferrer">{esc(text)} '
                         '(OpenStreetMap)</a>')
    uri = html.escape(geo_uri(lon, lat, p["nom"]), quote=True)
    links.append(f'<a class="trouver-action secondary trouver-geo" href="{uri}">'
                 'Ouvrir dans mon application de cartes</a>')
    return links


def card(p: dict) -> str:
    """The summary card of one result (everything escaped); without opening hours, the
    phone number comes right under it."""
    walk, drive = p["a_pied"], p["en_voiture"]
    times = (f"À pied : {esc(minutes(walk['minutes']))}"
             f"{' (' + esc(distance(walk['metres'])) + ')' if walk['metres'] else ''}<br>"
             f"En voiture : {esc(minutes(drive['minutes']))}"
             f"{' (' + esc(distance(drive['metres'])) + ')' if drive['metres'] else ''}")
    return (f'<div class="trouver-card" role="group" aria-label="{esc(p["nom"])}">'
            f'<h3>{p["rang"]}. {esc(p["nom"])}</h3>'
            f'<p>{esc(p["adresse"])}</p>'
            f'<p class="trouver-times">{times}</p>'
            f'<p>{open_state(p["ouvert"])}</p>'
            f'{call_link(p) if p["ouvert"] is None else ""}</div>')


def _list(values: list[str]) -> str:
    return esc(", ".join(values))


def actions(p: dict, origin: tuple[float, float] | None = None) -> str:
    """Big links of the chosen place: call, directions, appointment, web site.

    Without opening hours (most places), calling comes first; otherwise the directions
    (from ``origin``, lon/lat) do.
    """
    call = call_link(p, "Appeler avant de venir :" if p["ouvert"] is None else "Appeler le")
    go = directions(p, origin)
    links = [call, *go] if p["ouvert"] is None else [*go, call]
    if href(p["prise_rdv"]):
        links.append(f'<a class="trouver-action" href="{href(p["prise_rdv"])}" '
                     'target="_blank" rel="noopener noreferrer">Prendre rendez-vous</a>')
    if href(p["site_web"]):
        links.append(f'<a class="trouver-action secondary" href="{href(p["site_web"])}" '
                     'target="_blank" rel="noopener noreferrer">Site web</a>')
    links = [x for x in links if x]
    return f'<div class="trouver-detail trouver-actions">{"".join(links)}</div>' if links else ""


def detail(p: dict) -> str:
    """Everything public about the chosen place: hours, services, publics, accessibility."""
    rows = [("Horaires", esc(p["horaires_fr"]) or "non renseignés")]
    if p["presentation"]:
        rows.append(("Présentation", esc(p["presentation"])))
    if p["services"]:
        rows.append(("Services", _list(p["services"])))
    if p["publics_specifiquement_adresses"]:
        rows.append(("Publics accueillis", _list(p["publics_specifiquement_adresses"])))
    access = list(p["prise_en_charge_specifique"])
    acces_html = _list(access) if access else ""
    if href(p["fiche_acces_libre"]):
        link = (f'<a href="{href(p["fiche_acces_libre"])}" target="_blank" '
                'rel="noopener noreferrer">fiche Accèslibre</a>')
        acces_html = f"{acces_html} — {link}" if acces_html else link
    rows.append(("Accessibilité", acces_html or "non renseignée"))
    if p["modalites_acces"]:
        rows.append(("Comment y accéder", _list(p["modalites_acces"])))
    if p["modalites_accompagnement"]:
        rows.append(("Accompagnement", _list(p["modalites_accompagnement"])))
    if p["frais_a_charge"]:
        rows.append(("Tarif", _list(p["frais_a_charge"])))
    if p["courriels"]:
        rows.append(("Courriel", _list(p["courriels"])))
    body = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<div class="trouver-detail"><dl>{body}</dl></div>'


def when_fr(iso: str) -> str:
    """``2026-05-04T09:30:00-04:00`` → « lundi 4 mai à 9h30 »."""
    from datetime import datetime

    return fmt.when(datetime.fromisoformat(iso))


def sheet_button(place_id: str, origin: tuple[float, float, str] | None) -> None:
    """« Fiche imprimable » of the chosen place, with the times from ``origin`` (lon, lat,
    label of the searched address; None when there is none), see :mod:`ui.sheets`."""
    from ui import sheets

    sheets.sheet_button(place_id, origin, key=f"trouver-fiche-{place_id}")
