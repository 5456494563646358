"""The places of the registry on a folium map: one text-only layer of circle markers.

Fill colour = label status, outline = kind (fixed place or stop of the mobile
workshop). Every piece of text comes from users or sources: it travels as a GeoJSON
property of a :class:`geo.mapsafe.TextLayer` and is set as text in the browser.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo import mapsafe
from geo.choropleth import Legend

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


def status_of(value: object) -> str | None:
    """Label status or None for an empty cell."""
    return value if isinstance(value, str) and value else None


def _popup_values(places: pd.DataFrame) -> dict[str, list[str]]:
    """The popup's text columns, lists shown with commas and the status in words."""
    out = {}
    for name, _title in POPUP_FIELDS:
        if name == "label_status":
            statuses = places[name] if name in places else [None] * len(places)
            out[name] = [STATUS_LABELS[status_of(v)] for v in statuses]
        elif name in places:
            out[name] = [mapsafe.plain(v).replace("|", ", ") for v in places[name]]
    return out


def places_collection(places: gpd.GeoDataFrame) -> dict:
    """The places as GeoJSON: text as properties, each marker's style in ``_style``."""
    places = places[~(places.geometry.isna() | places.geometry.is_empty)]
    values = _popup_values(places)
    feats = []
    for i, geom in enumerate(places.geometry):
        kind = places["kind"].iloc[i] if "kind" in places else None
        outline, radius = KIND_STYLE.get(kind, KIND_STYLE["lieu fixe"])
        status = status_of(places["label_status"].iloc[i]) if "label_status" in places else None
        props = {"nom": mapsafe.plain(places["nom"].iloc[i]),
                 **{k: v[i] for k, v in values.items()},
                 "_style": {"color": outline, "radius": radius,
                            "fillColor": STATUS_COLOURS[status]}}
        feats.append(mapsafe.feature(mapsafe.point(geom.x, geom.y), props))
    return mapsafe.collection(feats)


def places_layer(places: gpd.GeoDataFrame, name: str = "Lieux") -> mapsafe.TextLayer:
    """The places (EPSG:4326, registry columns) as one layer of circle markers."""
    return mapsafe.TextLayer(
        places_collection(places), name=name,
        style={"weight": 2, "fill": True, "fillOpacity": 0.85},
        tooltip="nom", title="nom", title_class="place-name", fields=POPUP_FIELDS)


def add_places(m: folium.Map, places: gpd.GeoDataFrame, name: str = "Lieux") -> mapsafe.TextLayer:
    """Draw ``places`` on ``m`` (see :func:`places_layer`)."""
    layer = places_layer(places, name)
    layer.add_to(m)
    return layer


def status_legend() -> Legend:
    """Legend of the fill colours (label status)."""
    return Legend("Remplissage : statut du label", list(STATUS_COLOURS.values()),
                  [STATUS_LABELS[k] for k in STATUS_COLOURS])


def kind_legend() -> Legend:
    """Legend of the outline colours (fixed place or stop of the mobile workshop)."""
    return Legend("Contour : nature", [c for c, _ in KIND_STYLE.values()], list(KIND_STYLE))


#: Colour of the point an editor is placing (a click on the map, before saving).
NEW_POINT_COLOUR = "#d81b60"


def add_new_point(m: folium.Map, lon: float, lat: float,
                  tip: str = "Position du lieu en cours de saisie") -> mapsafe.TextLayer:
    """Mark the position being typed (lon, lat) on ``m``."""
    point = mapsafe.feature(mapsafe.point(lon, lat), {"tip": tip})
    layer = mapsafe.TextLayer(mapsafe.collection([point]), name="Position saisie",
                              tooltip="tip", control=False,
                              style={"radius": 9, "color": NEW_POINT_COLOUR, "weight": 3,
                                     "fill": True, "fillColor": "#ffffff",
                                     "fillOpacity": 0.9})
    layer.add_to(m)
    return layer
