"""The 34 communes of Martinique with their EPCI and 2023 population, and the EPCI layer.

Outlines (IGN Admin Express via france-geojson), the EPCI membership table and the
populations légales 2023 are joined on the INSEE code, never on names. The built
layer is written to ``data/communes/communes.geojson`` through :mod:`geo.cache`
(version and sha256 in ``communes.geojson.cache.json``; rebuilt when unreadable).
"""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd

from geo import cache, fetch
from geo.errors import DataError
from maillage import settings as settings_mod
from maillage.settings import CRS_MEASURE, CRS_STORE, Settings

#: Short EPCI names shown to users, by EPCI SIREN.
EPCI_SHORT: dict[str, str] = {
    "249720061": "CACEM",
    "200041788": "CAP Nord",
    "249720053": "Espace Sud",
}

N_COMMUNES = 34
#: Bump when the built commune layer changes (its cache is then rebuilt).
LAYER_VERSION = 1
COLUMNS = [
    "code_insee", "nom", "epci_siren", "epci_nom", "epci_court",
    "population", "area_km2", "density", "geometry",
]


def layer_path(s: Settings | None = None):
    """Where the built commune layer is written."""
    s = s or settings_mod.get()
    return s.communes_dir / "communes.geojson"


def _read_table(s: Settings) -> pd.DataFrame:
    table = pd.read_csv(fetch.path("communes_table", s), dtype=str)
    legal = pd.read_csv(fetch.path("population_legale", s), dtype=str)
    legal = legal.rename(columns={"COM": "code_insee", "PMUN": "population"})
    table = table.merge(legal[["code_insee", "population"]], on="code_insee", how="left",
                        validate="one_to_one")
    if table["population"].isna().any():
        missing = ", ".join(table.loc[table["population"].isna(), "code_insee"])
        raise DataError(f"Population légale absente pour les communes {missing}.")
    table["population"] = table["population"].astype(int)
    declared = table["population_municipale_2023"].astype(int)
    if (declared != table["population"]).any():
        raise DataError("Les populations légales 2023 des deux sources ne concordent pas.")
    table["epci_court"] = table["epci_siren"].map(EPCI_SHORT)
    return table[["code_insee", "nom", "epci_siren", "epci_nom", "epci_court", "population"]]


def build(s: Settings | None = None) -> gpd.GeoDataFrame:
    """Join outlines, EPCI and population on the INSEE code and write the layer."""
    s = s or settings_mod.get()
    outlines = gpd.read_file(fetch.path("communes_geo", s))[["code", "geometry"]]
    outlines = outlines.rename(columns={"code": "code_insee"}).to_crs(CRS_STORE)
    table = _read_table(s)
    gdf = outlines.merge(table, on="code_insee", how="inner", validate="one_to_one")
    if len(gdf) != N_COMMUNES:
        raise DataError(
            f"{len(gdf)} communes jointes au lieu de {N_COMMUNES} : vérifiez les sources "
            "« Contours des communes » et « Communes, EPCI et populations légales »."
        )
    gdf["area_km2"] = gdf.to_crs(CRS_MEASURE).area / 1e6
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    gdf = gpd.GeoDataFrame(gdf[COLUMNS], crs=CRS_STORE).sort_values("code_insee")
    cache.write(layer_path(s), lambda tmp: gdf.to_file(tmp, driver="GeoJSON"), LAYER_VERSION)
    return gdf.reset_index(drop=True)


def _read_layer(data: bytes) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(io.BytesIO(data))
    if len(gdf) != N_COMMUNES or set(COLUMNS) - set(gdf.columns):
        raise ValueError(f"{len(gdf)} communes, colonnes {sorted(gdf.columns)}")
    for col in ("code_insee", "epci_siren"):
        gdf[col] = gdf[col].astype(str)
    return gdf[COLUMNS]


def load(s: Settings | None = None) -> gpd.GeoDataFrame:
    """The commune layer, built on first use (and again when its file is unreadable)."""
    s = s or settings_mod.get()
    gdf = cache.read(layer_path(s), _read_layer, LAYER_VERSION, what="couche des communes",
                     errors=(RuntimeError,))
    return build(s) if gdf is None else gdf


def load_epci(communes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The 3 EPCI, dissolved from the communes, with population and commune count."""
    communes = load() if communes is None else communes
    epci = communes.dissolve(
        by=["epci_siren", "epci_nom", "epci_court"],
        aggfunc={"population": "sum", "area_km2": "sum", "code_insee": "count"},
    ).reset_index().rename(columns={"code_insee": "n_communes"})
    epci["density"] = epci["population"] / epci["area_km2"]
    return epci


def island(communes: gpd.GeoDataFrame | None = None):
    """The island outline (union of the communes) in EPSG:4326."""
    communes = load() if communes is None else communes
    return communes.geometry.union_all()
