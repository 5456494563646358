"""Commune, EPCI and population layers: counts and totals equal the sources."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analysis import demography
from geo import communes, fetch, population


@pytest.fixture(scope="module")
def built(real_settings):
    c = communes.build(real_settings)
    g = population.build(real_settings)
    return c, g


def test_communes_join_on_insee_code(built, real_settings) -> None:
    c, _ = built
    table = pd.read_csv(fetch.path("communes_table", real_settings), dtype=str)
    outlines = gpd.read_file(fetch.path("communes_geo", real_settings))
    assert len(c) == len(table) == len(outlines) == communes.N_COMMUNES
    assert set(c["code_insee"]) == set(table["code_insee"]) == set(outlines["code"])
    assert c["epci_court"].notna().all()
    assert set(c["epci_court"]) == set(communes.EPCI_SHORT.values())


def test_population_2023_equals_populations_legales(built, real_settings) -> None:
    c, _ = built
    legal = pd.read_csv(fetch.path("population_legale", real_settings), dtype={"COM": str})
    assert c["population"].sum() == legal["PMUN"].sum()
    assert c["population"].sum() == 360_630  # the published total (SOURCES.md)
    merged = c.merge(legal, left_on="code_insee", right_on="COM")
    assert (merged["population"] == merged["PMUN"]).all()


def test_epci_layer_sums_its_communes(built) -> None:
    c, _ = built
    e = communes.load_epci(c)
    assert len(e) == 3
    assert e["population"].sum() == c["population"].sum()
    assert e["n_communes"].sum() == len(c)
    assert e.geometry.is_valid.all()


def test_grid_totals_equal_filosofi(built, real_settings) -> None:
    _, g = built
    raw = pd.read_csv(fetch.path("filosofi", real_settings))
    assert len(g) == len(raw)
    for src, col in [("Ind", "population"), ("Ind_65_79", "age_65_79"),
                     ("Ind_80p", "age_80p"), ("Men_pauv", "poor_households"),
                     ("Men_1ind", "one_person_households")]:
        assert np.isclose(g[col].sum(), raw[src].sum())
    assert round(g["population"].sum()) == 337_380  # the published total (SOURCES.md)
    assert (g["code_insee"].str.len() == 5).all()
    assert set(g["code_insee"]) <= set(built[0]["code_insee"])


def test_cells_are_200m_squares_from_their_ids(built) -> None:
    _, g = built
    measured = g.to_crs("EPSG:5490")
    assert np.allclose(measured.area, 200 * 200, rtol=1e-6)
    east, north = population.parse_cell_ids(g["cell_id"])
    bounds = measured.bounds
    assert np.allclose(bounds["minx"], east) and np.allclose(bounds["miny"], north)


def test_single_commune_cells_keep_insee_code(built, real_settings) -> None:
    _, g = built
    raw = pd.read_csv(fetch.path("filosofi", real_settings), dtype={"lcog_geo": str})
    single = raw["lcog_geo"].fillna("").str.len() == 5
    assert (g.loc[single.to_numpy(), "code_insee"].to_numpy()
            == raw.loc[single, "lcog_geo"].to_numpy()).all()


def test_mixed_cells_get_one_of_their_listed_communes(built, real_settings) -> None:
    _, g = built
    raw = pd.read_csv(fetch.path("filosofi", real_settings), dtype={"lcog_geo": str})
    codes = raw["lcog_geo"].fillna("")
    mixed = (codes.str.len() > 5).to_numpy()
    assert mixed.any()
    assert all(code in listed for code, listed in
               zip(g.loc[mixed, "code_insee"], codes[mixed], strict=True))


def test_bad_cell_id_is_refused() -> None:
    with pytest.raises(Exception, match="illisible"):
        population.parse_cell_ids(pd.Series(["CRS5490RES200mN15926E"]))


def test_profiles_add_up(built, real_settings) -> None:
    c, g = built
    ifn = population.load_ifn(real_settings)
    assert len(ifn) == ifn["code_iris"].nunique()
    frag = population.fragility_by_cell(g, ifn)
    prof = demography.commune_profile(c, g, frag)
    epci = demography.epci_profile(prof)
    island = demography.island_profile(prof)
    assert np.isclose(epci["population"].sum(), island["population"])
    assert np.isclose(epci["seniors"].sum(), g["seniors"].sum())
    assert np.isclose(island["share_65p"], 100 * g["seniors"].sum() / g["population"].sum())
    assert prof["fragility"].between(ifn["fragility"].min(), ifn["fragility"].max()).all()
