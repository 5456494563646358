"""Map layer of the registry: user text travels as data and is never read as code."""

from __future__ import annotations

import json

import geopandas as gpd

from geo import basemap, mapsafe, places_layer

NASTY = "<img src=x onerror=alert(1)>`${alert(2)}`\\ {{ 'evalu' ~ 'ated' }} {% raw %}"


def _places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"nom": [NASTY], "adresse": ["<script>alert(3)</script>"], "commune": ["Ducos"],
         "label_status": ["labellisé"], "kind": ["lieu fixe"], "services": ["a|b"]},
        geometry=gpd.points_from_xy([-61.0], [14.6]), crs="EPSG:4326")


def test_popups_and_tooltips_carry_user_text_as_inert_data() -> None:
    m = basemap.base_map(tiles=False)
    layer = places_layer.add_places(m, _places())
    mapsafe.assert_inert(m)
    page = m.get_root().render()
    assert "<img src=x" not in page and "<script>alert(3)" not in page
    assert "${alert(2)}" not in page and "evaluated" not in page and "{%" not in page
    # the text itself survives, literally, in the data the browser reads
    props = json.loads(layer.data_json)["features"][0]["properties"]
    assert props["nom"] == NASTY
    assert props["adresse"] == "<script>alert(3)</script>"
    assert props["services"] == "a, b"
    assert props["label_status"] == places_layer.STATUS_LABELS["labellisé"]


def test_marker_style_follows_status_and_kind() -> None:
    places = _places()
    places.loc[0, "kind"] = "arrêt de l'atelier mobile"
    fc = places_layer.places_collection(places)
    style = fc["features"][0]["properties"]["_style"]
    assert style["fillColor"] == places_layer.STATUS_COLOURS["labellisé"]
    assert (style["color"], style["radius"]) == places_layer.KIND_STYLE["arrêt de l'atelier mobile"]
