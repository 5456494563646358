"""White zones: the same zones as an image labelling, ranked by people, and what-if statuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from analysis import white_zones
from geo.errors import MaillageError


def _dem(mask_shape, seed=0, split_col=None):
    """Demand rows for every square of a (rows, cols) block, ids built from their corners."""
    rows, cols = np.indices(mask_shape)
    r, c = rows.ravel(), cols.ravel()
    east, north = 700000 + 200 * c, 1600000 + 200 * r
    rng = np.random.default_rng(seed)
    pop = rng.integers(1, 50, len(r)).astype(float)
    code = np.where(c < (split_col if split_col is not None else 10**9), "97201", "97202")
    return pd.DataFrame({
        "cell_id": [f"CRS5490RES200mN{n}E{e}" for e, n in zip(east, north, strict=True)],
        "code_insee": code, "commune": np.where(code == "97201", "Ouest", "Est"),
        "epci": "E", "population": pop, "seniors": pop // 4, "age_80p": pop // 10,
        "poor_households": pop // 5, "weight": pop, "x": east + 100.0, "y": north + 100.0,
    }), r, c


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([4, 8]), st.floats(0.2, 0.8))
def test_zones_equal_image_labelling(seed, connectivity, density):
    shape = (9, 11)
    dem, _, _ = _dem(shape, seed)
    rng = np.random.default_rng(seed)
    far = rng.random(len(dem)) < density
    seconds = np.where(far, 1800.0, 60.0)
    zone_of, table = white_zones.zones(seconds, dem, 15, connectivity)
    ref, n = ndimage.label(far.reshape(shape),
                           structure=ndimage.generate_binary_structure(2, connectivity // 4))
    ref = ref.ravel()
    assert len(table) == n
    assert np.array_equal(zone_of >= 0, far)
    # same partition: a one-to-one map between our zones and the reference labels
    pairs = set(zip(zone_of[far].tolist(), ref[far].tolist(), strict=True))
    assert len(pairs) == n
    # each zone's people are the sum over its cells, ranked by people
    for z in table.itertuples():
        assert z.population == pytest.approx(dem["population"][zone_of == z.zone].sum())
    assert (np.diff(table["population"].to_numpy()) <= 0).all()
    assert table["population"].sum() == pytest.approx(dem["population"][far].sum())


def test_four_versus_eight_and_commune_split():
    # a diagonal chain of three cells, and a bar crossing a commune border
    shape = (4, 6)
    dem, r, c = _dem(shape, split_col=3)
    far = ((r == c) & (r < 3)) | (r == 3)
    seconds = np.where(far, 1200.0, 0.0)
    _, eight = white_zones.zones(seconds, dem, 15, 8)
    _, four = white_zones.zones(seconds, dem, 15, 4)
    _, split = white_zones.zones(seconds, dem, 15, 8, by_commune=True)
    # 8: the diagonal touches the bottom bar at (2,2)-(3,*) → one zone; 4: 3 diagonal cells apart
    assert len(eight) == 1 and len(four) == 3
    assert len(split) == 2 and set(split["communes"]) == {"Ouest", "Est"}
    assert "Ouest" in eight.iloc[0]["communes"] and "Est" in eight.iloc[0]["communes"]
    with pytest.raises(MaillageError, match="Voisinage"):
        white_zones.zones(seconds, dem, 15, 6)


def test_zone_times_and_shapes():
    dem, _, _ = _dem((3, 3))
    seconds = np.array([0, 0, 0, 0, 1000, 1300, 0, 1600, np.inf], dtype=float)
    zone_of, table = white_zones.zones(seconds, dem, 15)
    assert len(table) == 1
    z = table.iloc[0]
    assert z["min_min"] == pytest.approx(1000 / 60) and np.isinf(z["max_min"])
    assert z["n_cells"] == 4
    shp = white_zones.shapes(zone_of, table, dem["cell_id"])
    assert shp.crs.to_epsg() == 4326
    assert shp.to_crs(5490).area.iloc[0] == pytest.approx(4 * 200 * 200, rel=1e-6)


def test_compare_gone_shrunk_unchanged():
    dem, _, _ = _dem((1, 7))
    before = np.array([2000, 2000, 0, 2000, 2000, 0, 2000], dtype=float)
    zone_of, table = white_zones.zones(before, dem, 15, 4)
    assert len(table) == 3
    after = before.copy()
    after[[0, 1]] = 60  # the first zone is covered
    after[3] = 60  # the second shrinks
    cmp = white_zones.compare(zone_of, table, after, dem, 15).set_index("zone")
    status = {zone_of[i]: cmp.loc[zone_of[i], "status"] for i in (0, 3, 6)}
    assert status == {zone_of[0]: "gone", zone_of[3]: "shrunk", zone_of[6]: "unchanged"}
    assert cmp.loc[zone_of[3], "covered"] == pytest.approx(dem["population"][3])
    assert cmp["population_after"].sum() == pytest.approx(
        dem["population"][after > 900].sum())


def test_unreadable_cell_id():
    dem, _, _ = _dem((1, 2))
    dem.loc[0, "cell_id"] = "carreau-1"
    with pytest.raises(MaillageError, match="illisible"):
        white_zones.zones(np.array([2000.0, 2000.0]), dem, 15)
