"""The INSEE Filosofi 200 m grid and the IRIS digital-fragility index.

Cell squares are rebuilt from the cell id (``CRS5490RES200mN<north>E<east>``, the
south-west corner in EPSG:5490). Each cell gets one commune: INSEE's own code when
the cell lies in a single commune, otherwise the listed commune that holds the
largest part of the cell (or, for the one cell with no code, the nearest commune).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import cache, fetch
from geo import communes as communes_mod
from geo.errors import DataError
from maillage import settings as settings_mod
from maillage.settings import CRS_MEASURE, CRS_STORE, Settings

CELL_M = 200.0
#: Bump when the built grid layer changes (its cache is then rebuilt).
GRID_VERSION = 1
_ID_PATTERN = r"^CRS5490RES200mN(?P<north>\d+)E(?P<east>\d+)$"

#: Source column → layer column.
_RENAME = {
    "Idcar_200m": "cell_id",
    "Ind": "population",
    "Ind_65_79": "age_65_79",
    "Ind_80p": "age_80p",
    "Men_pauv": "poor_households",
    "Men_1ind": "one_person_households",
    "Men": "households",
    "I_est_200": "imputed",
}
COLUMNS = [
    "cell_id", "code_insee", "population", "age_65_79", "age_80p", "seniors",
    "poor_households", "one_person_households", "households", "imputed", "fragility",
    "x", "y", "geometry",
]

#: IRIS fragility: the global score relative to the region (100 = Martinique average).
IFN_SCORE = "SCORE GLOBAL region 1"


def grid_path(s: Settings | None = None):
    """Where the built grid layer is written."""
    s = s or settings_mod.get()
    return s.build_dir / "grid-200m.gpkg"


def parse_cell_ids(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """South-west corners (east, north) in EPSG:5490 from INSEE cell ids."""
    parts = ids.str.extract(_ID_PATTERN)
    if parts.isna().any().any():
        bad = ids[parts.isna().any(axis=1)].iloc[0]
        raise DataError(f"Identifiant de carreau illisible dans Filosofi : {bad!r}.")
    return parts["east"].astype(float).to_numpy(), parts["north"].astype(float).to_numpy()


def cell_squares(east: np.ndarray, north: np.ndarray, size: float = CELL_M) -> np.ndarray:
    """Square polygons from south-west corners (vectorised)."""
    return shapely.box(east, north, east + size, north + size)


def _assign_communes(cells: gpd.GeoDataFrame, codes: pd.Series,
                     communes: gpd.GeoDataFrame) -> pd.Series:
    """One INSEE code per cell (see module docstring)."""
    codes = codes.fillna("").astype(str)
    single = codes.str.len() == 5
    result = codes.where(single, "")
    todo = ~single
    if todo.any():
        com = communes.to_crs(CRS_MEASURE)[["code_insee", "geometry"]]
        part = cells.loc[todo, ["geometry"]].copy()
        part["cell_idx"] = part.index
        pieces = gpd.overlay(part, com, how="intersection", keep_geom_type=True)
        pieces["area"] = pieces.area
        listed = codes[todo]
        pieces["listed"] = [
            code in listed.loc[idx] or not listed.loc[idx]
            for idx, code in zip(pieces["cell_idx"], pieces["code_insee"], strict=True)
        ]
        pieces = pieces.sort_values(["listed", "area"], ascending=False)
        best = pieces.drop_duplicates("cell_idx").set_index("cell_idx")["code_insee"]
        result.loc[best.index] = best
        still = result == ""
        if still.any():  # offshore bits: nearest commune
            near = gpd.sjoin_nearest(cells.loc[still, ["geometry"]], com, how="left")
            near = near[~near.index.duplicated()]
            result.loc[near.index] = near["code_insee"]
    return result


def build(s: Settings | None = None) -> gpd.GeoDataFrame:
    """Read Filosofi, build the squares, assign communes and write the layer."""
    s = s or settings_mod.get()
    raw = pd.read_csv(fetch.path("filosofi", s), dtype={"Idcar_200m": str, "lcog_geo": str})
    east, north = parse_cell_ids(raw["Idcar_200m"])
    df = raw.rename(columns=_RENAME)
    df["seniors"] = df["age_65_79"] + df["age_80p"]
    df["imputed"] = df["imputed"].astype(int) == 1
    df["x"] = east + CELL_M / 2
    df["y"] = north + CELL_M / 2
    cells = gpd.GeoDataFrame(df, geometry=cell_squares(east, north), crs=CRS_MEASURE)
    communes = communes_mod.load(s)
    cells["code_insee"] = _assign_communes(cells, raw["lcog_geo"], communes)
    cells["fragility"] = fragility_by_cell(cells, load_ifn(s))
    cells = cells[COLUMNS].to_crs(CRS_STORE)
    cache.write(grid_path(s), lambda tmp: cells.to_file(tmp, driver="GPKG", layer="grid"),
                GRID_VERSION)
    return cells


def _read_grid(path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path, layer="grid")
    missing = set(COLUMNS) - set(gdf.columns)
    if missing:
        raise ValueError(f"colonnes absentes : {', '.join(sorted(missing))}")
    gdf["code_insee"] = gdf["code_insee"].astype(str)
    return gdf[COLUMNS]


def load_grid(s: Settings | None = None) -> gpd.GeoDataFrame:
    """The 200 m grid layer (built on first use, and again when its file is unreadable)."""
    s = s or settings_mod.get()
    gdf = cache.read(grid_path(s), _read_grid, GRID_VERSION, what="carreaux de 200 m",
                     errors=(RuntimeError,), by_path=True)
    return build(s) if gdf is None else gdf


def load_ifn(s: Settings | None = None) -> gpd.GeoDataFrame:
    """IRIS polygons with the digital-fragility score (100 = Martinique average)."""
    s = s or settings_mod.get()
    gdf = gpd.read_file(fetch.path("ifn", s), columns=[
        "Code Iris", "Insee Com", "Nom Iris", "Nom Com", "Type Iris", "P16 Pop",
        "P16 Pop65P", IFN_SCORE,
    ])
    gdf = gdf.rename(columns={
        "Code Iris": "code_iris", "Insee Com": "code_insee", "Nom Iris": "nom_iris",
        "Nom Com": "nom_commune", "Type Iris": "type_iris", "P16 Pop": "population_2016",
        "P16 Pop65P": "seniors_2016", IFN_SCORE: "fragility",
    })
    gdf["code_insee"] = gdf["code_insee"].astype(str)
    return gdf.to_crs(CRS_STORE)


def fragility_by_cell(grid: gpd.GeoDataFrame, ifn: gpd.GeoDataFrame) -> pd.Series:
    """The fragility score of the IRIS nearest each cell centre (index of ``grid``).

    ``grid`` needs the ``x``, ``y`` centre columns in EPSG:5490.
    """
    centres = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(grid["x"], grid["y"]), index=grid.index, crs=CRS_MEASURE
    )
    joined = gpd.sjoin_nearest(centres, ifn[["fragility", "geometry"]].to_crs(CRS_MEASURE),
                               how="left")
    joined = joined[~joined.index.duplicated()]
    return joined["fragility"].reindex(grid.index)
