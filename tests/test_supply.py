"""Supply: registry rows to the supply columns, filters, extra points, town halls."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo import supply
from geo.errors import MaillageError


def _registry():
    rows = {
        "id": ["a", "b", "c", "d"], "nom": ["A", "B", "C", "D"],
        "commune": ["Fort-de-France"] * 4, "code_insee": ["97209"] * 4,
        "kind": ["lieu fixe", "lieu fixe", "arrêt de l'atelier mobile", "lieu fixe"],
        "label_status": ["labellisé", "", "labellisé", "candidat"],
        "services": ["Aide aux démarches administratives|Loisirs et créations numériques",
                     "Loisirs et créations numériques", "", "Aide aux démarches administratives"],
    }
    lon = [-61.07, -61.06, -61.05, None]
    lat = [14.61, 14.62, 14.63, None]
    return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def test_registry_rows_become_supply_without_unlocated_places():
    sup = supply.from_registry_frame(_registry())
    assert list(sup.columns) == supply.COLUMNS
    assert sup["place_id"].tolist() == ["a", "b", "c"]  # d has no position
    assert sup.loc[0, "services"] == ("Aide aux démarches administratives",
                                      "Loisirs et créations numériques")
    assert sup.loc[2, "services"] == ()


def test_filters():
    sup = supply.from_registry_frame(_registry())
    assert supply.select(sup, "labelled")["place_id"].tolist() == ["a", "c"]
    assert supply.select(sup, services=["Loisirs et créations numériques"])["place_id"].tolist() \
        == ["a", "b"]
    assert supply.select(sup, kinds=["lieu fixe"])["place_id"].tolist() == ["a", "b"]
    assert supply.select(sup, "labelled", kinds=["lieu fixe"])["place_id"].tolist() == ["a"]
    assert supply.services_of(sup) == ["Aide aux démarches administratives",
                                       "Loisirs et créations numériques"]
    with pytest.raises(MaillageError, match="inconnue"):
        supply.select(sup, "certains")


def test_points_and_xy_round_trip():
    pts = supply.points([(-61.07, 14.61), (-61.0, 14.7)], ["Marché", "Bourg"])
    assert pts["name"].tolist() == ["Marché", "Bourg"] and pts["source"].eq("hypothèse").all()
    xy = supply.to_xy(pts)
    assert xy.shape == (2, 2) and 690_000 < xy[0, 0] < 740_000
    back = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:5490").to_crs(4326)
    np.testing.assert_allclose(back.x, [-61.07, -61.0], atol=1e-9)
    assert supply.to_xy(pts.iloc[:0]).shape == (0, 2)


def test_town_halls_from_the_mirror(real_settings):
    m = supply.mairies(real_settings)
    assert len(m) == 34 and m["code_insee"].is_unique
    assert m["name"].str.startswith("Mairie de ").all()


def test_workshop_stops_are_distinct_supply_points(monkeypatch):
    import pandas as pd

    from maillage import tour_store

    visits = pd.DataFrame({
        "stop_key": ["mairie-97209", "mairie-97209", "marche-1"],
        "stop_name": ["Mairie", "Mairie", "Marché <b>"], "lon": [-61.07, -61.07, -61.0],
        "lat": [14.60, 14.60, 14.7], "code_insee": ["97209", "97209", None],
    })
    seen = {}

    def fake(plan_pk=None, published_only=False, s=None):
        seen.update(plan_pk=plan_pk, published_only=published_only)
        return visits

    monkeypatch.setattr(tour_store, "visits_frame", fake)
    stops = supply.workshop_stops()
    assert seen == {"plan_pk": None, "published_only": True}
    assert stops["place_id"].tolist() == ["mairie-97209", "marche-1"]
    assert stops["source"].eq("arrêt").all() and list(stops.columns) == supply.COLUMNS
    assert stops["code_insee"].tolist() == ["97209", ""]
    supply.workshop_stops(plan_pk=3)
    assert seen == {"plan_pk": 3, "published_only": False}
