"""Pieces of the Isochrones page: the shared service, the town halls, the bands table."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from geo import communes, fetch, isochrone_layer
from maillage import fmt, settings
from maillage.services.isochrones import IsochroneRequest, IsochroneResult, IsochroneService


@st.cache_resource(show_spinner="Chargement du réseau routier et des carreaux de population…")
def service() -> IsochroneService:
    """One isochrone service per server process (public data, read-only)."""
    return IsochroneService.load(settings.get())


#: Session key of this visitor's last bands: (request, result).
RESULT_KEY = "iso_result"


def run(request: IsochroneRequest) -> IsochroneResult:
    """The bands of ``request``; this visitor's last ones again when the request is the
    same (the rerun that follows a click, a rerun of the section)."""
    kept = st.session_state.get(RESULT_KEY)
    if kept is not None and kept[0] == request:
        return kept[1]
    result = service().run(request)
    st.session_state[RESULT_KEY] = (request, result)
    return result


@st.cache_data(show_spinner=False)
def town_halls() -> pd.DataFrame:
    """The 34 town halls, named like their commune (« Le Prêcheur »), sorted by name."""
    feats = json.loads(fetch.resolve("mairies").path.read_text(encoding="utf-8"))["features"]
    names = dict(zip(communes.load()["code_insee"], communes.load()["nom"], strict=True))
    frame = pd.DataFrame({
        "code_insee": [f["properties"]["code_insee"] for f in feats],
        "lon": [f["geometry"]["coordinates"][0] for f in feats],
        "lat": [f["geometry"]["coordinates"][1] for f in feats],
    })
    frame["commune"] = frame["code_insee"].map(names)
    return frame.sort_values("commune", key=lambda s: s.str.lower()).reset_index(drop=True)


def bands_table(result: IsochroneResult) -> pd.DataFrame:
    """The bands as the page shows them (French labels and numbers)."""
    b = result.bands
    return pd.DataFrame({
        "Temps": [f"{fmt.number(a, 1 if a % 1 else 0)} à {fmt.number(z, 1 if z % 1 else 0)} min"
                  for a, z in zip(b["from_min"], b["to_min"], strict=True)],
        "Surface (km²)": [fmt.number(v, 2) for v in b["area_km2"]],
        "Habitants dans la bande": [fmt.number(v) for v in b["population"]],
        "Habitants cumulés": [fmt.number(v) for v in b["population_cum"]],
    })


def legend_items(result: IsochroneResult) -> list[tuple[str, str]]:
    """``(colour, label)`` of each band, for the legend under the map."""
    table = bands_table(result)
    return [(isochrone_layer.band_colour(k), t) for k, t in enumerate(table["Temps"])]
