"""The map of proposed mobile-workshop stops: the stops and the cells they bring in reach.

Stop names come from open data (bus stops, town halls) and from the registry: they
reach the map only as :class:`geo.mapsafe.TextLayer` properties, set as text.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
import shapely

from geo import basemap, mapsafe

STOP_STYLE = {"radius": 9, "color": "#b30000", "weight": 2, "fill": True,
              "fillColor": "#fc8d59", "fillOpacity": 0.9}
CELL_STYLE = {"radius": 3, "weight": 0, "fill": True, "fillColor": "#2b8cbe",
              "fillOpacity": 0.6}
#: Points to about 1 m.
DECIMALS = 5


def base() -> folium.Map:
    """The map the proposals are drawn on, the same for every request (canvas: the cells
    can be thousands)."""
    return basemap.base_map(canvas=True,
                            credits="Insee Filosofi 2017, DILA, Martinique Transport")


def stops_map(stops: pd.DataFrame, cells_lonlat: np.ndarray, gain_text: list[str]
              ) -> tuple[folium.Map, list[folium.FeatureGroup]]:
    """Proposed ``stops`` (``rang, nom, commune, lon, lat``) and the newly covered cells:
    the base map and the layer groups (cells, stops).

    ``gain_text``: what each stop adds, already worded in French. The cells travel as one
    packed multipoint (no text).
    """
    m = base()
    xy = np.asarray(cells_lonlat, dtype=float).reshape(-1, 2)
    cells = ([] if not len(xy) else
             [{"type": "Feature", "properties": {},
               "geometry": mapsafe.pack_geometries([shapely.multipoints(xy)], DECIMALS)[0]}])
    cell_layer = mapsafe.TextLayer(mapsafe.collection(cells, decimals=DECIMALS),
                                   name="Carreaux nouvellement à portée", style=CELL_STYLE,
                                   interactive=False)
    feats = [mapsafe.feature(mapsafe.point(lon, lat), {
        "arret": f"{rang}. {mapsafe.plain(nom)}", "commune": mapsafe.plain(commune),
        "ajoute": gain})
        for rang, nom, commune, lon, lat, gain in zip(
            stops["rang"], stops["nom"], stops["commune"], stops["lon"], stops["lat"],
            gain_text, strict=True)]
    stop_layer = mapsafe.TextLayer(mapsafe.collection(feats), name="Arrêts proposés",
                                   style=STOP_STYLE, tooltip="arret", title="arret",
                                   fields=[("commune", "Commune"), ("ajoute", "Apport")])
    return m, [basemap.group(cell_layer), basemap.group(stop_layer)]
