"""The places of the registry on a folium map: one CircleMarker per place, escaped popups.

Fill colour = label status, outline = kind (fixed place or stop of the mobile
workshop). Every piece of text comes from users or sources, so it goes through
:func:`safe` before reaching HTML: folium puts popups and tooltips inside a
JavaScript template literal, so backticks, ``$`` and backslashes are neutralised
too, not only ``<>&"'``.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import pandas as pd

#: Fill colour by label status (None: place outside the labelling workflow).
STATUS_COLOURS: dict[str | None, str] = {
    None: "#4a6fa5",
    "candidat": "#e69f00",
    "labellisé": "#009e73",
    "suspendu": "#8e6bbf",
    "retiré": "#c0392b",
}
STATUS_LABELS: dict[str | None, str] = {
    None: "hors labellisation (lieu public ou associatif)",
    "candidat": "candidat", "labellisé": "labellisé", "suspendu": "suspendu",
    "retiré": "retiré",
}
#: Outline colour and radius by kind.
KIND_STYLE: dict[str, tuple[str, int]] = {
    "lieu fixe": ("#1b1b1b", 7),
    "arrêt de l'atelier mobile": ("#d81b60", 9),
}
#: Fields shown in the popup, with their French titles.
POPUP_FIELDS = (
    ("adresse", "Adresse"), ("commune", "Commune"), ("horaires", "Horaires"),
    ("telephone", "Téléphone"), ("services", "Services"),
    ("publics_specifiquement_adresses", "Publics"), ("label_status", "Label"),
)


def safe(value: object) -> str:
    """Text made inert for HTML and for the JavaScript template literal folium uses."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return (html.escape(text, quote=True)
            .replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;"))


def status_of(value: object) -> str | None:
    """Label status or None for an empty cell."""
    return value if isinstance(value, str) and value else None


def popup_html(place: pd.Series) -> str:
    """The popup of one place, every value escaped."""
    lines = [f"<b class='place-name'>{safe(place.get('nom'))}</b>"]
    for name, title in POPUP_FIELDS:
        value = place.get(name)
        if name == "label_status":
            value = STATUS_LABELS[status_of(value)]
        if isinstance(value, str) and value:
            lines.append(f"<br><i>{safe(title)}</i> : {safe(value.replace('|', ', '))}")
    return "<div style='min-width:220px'>" + "".join(lines) + "</div>"


def add_places(m: folium.Map, places: gpd.GeoDataFrame, name: str = "Lieux") -> folium.FeatureGroup:
    """Draw ``places`` (EPSG:4326, registry columns) as CircleMarkers on ``m``."""
    group = folium.FeatureGroup(name=name)
    for _, place in places.iterrows():
        geom = place.geometry
        if geom is None or geom.is_empty:
            continue
        outline, radius = KIND_STYLE.get(place.get("kind"), KIND_STYLE["lieu fixe"])
        folium.CircleMarker(
            location=(geom.y, geom.x), radius=radius, color=outline, weight=2,
            fill=True, fill_color=STATUS_COLOURS[status_of(place.get("label_status"))],
            fill_opacity=0.85,
            popup=folium.Popup(popup_html(place), max_width=320),
            tooltip=folium.Tooltip(safe(place.get("nom"))),
        ).add_to(group)
    group.add_to(m)
    return group
