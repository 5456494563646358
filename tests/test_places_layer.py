"""Map layer of the registry: user text is inert in popups and tooltips."""

from __future__ import annotations

import geopandas as gpd

from geo import basemap, places_layer

NASTY = "<img src=x onerror=alert(1)>`${alert(2)}`\\"


def test_popups_and_tooltips_escape_every_user_text() -> None:
    places = gpd.GeoDataFrame(
        {"nom": [NASTY], "adresse": ["<script>alert(3)</script>"], "commune": ["Ducos"],
         "label_status": ["labellisé"], "kind": ["lieu fixe"], "services": [""]},
        geometry=gpd.points_from_xy([-61.0], [14.6]), crs="EPSG:4326")
    m = basemap.base_map(tiles=False)
    places_layer.add_places(m, places)
    page = m.get_root().render()
    assert "<img src=x" not in page and "<script>alert(3)" not in page
    assert "${alert(2)}" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
