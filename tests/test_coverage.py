"""Coverage tables: they add up, never fall with more minutes, and the times are exact."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import coverage, routing, snap
from geo.errors import MaillageError
from tests.coverage_fixtures import cells, lattice, random_xy
from tests.network_fixtures import add_points, reference_digraph

WALK_KMH = 4.5
COUNTS = [*coverage.MEASURES, "weight"]


@pytest.fixture(scope="module")
def g():
    return lattice(oneway_every=3)


@pytest.fixture(scope="module")
def dem(g):
    return cells(g)


times_strategy = st.lists(
    st.one_of(st.floats(0, 4000, allow_nan=False), st.just(np.inf)), min_size=1, max_size=200)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=times_strategy, minutes=st.lists(st.floats(1, 60), min_size=1, max_size=4))
def test_commune_rows_add_up_to_epci_and_island(dem, values, minutes):
    t = np.resize(np.asarray(values), len(dem))
    communes = coverage.table(t, dem, minutes, "commune")
    epci = coverage.table(t, dem, minutes, "epci").set_index("code")
    island = coverage.table(t, dem, minutes, "island").iloc[0]
    count_cols = [c for c in communes.columns
                  if c.split("_")[0] in {"population", "seniors", "age", "poor", "weight"}
                  and not c.endswith("_share")] + ["n_cells"]
    summed = communes.groupby("epci")[count_cols].sum()
    pd.testing.assert_frame_equal(summed.sort_index(), epci[count_cols].sort_index(),
                                  check_names=False, check_dtype=False)
    np.testing.assert_allclose(communes[count_cols].sum().to_numpy(dtype=float),
                               island[count_cols].to_numpy(dtype=float))
    # and the island row equals a direct count
    for m in minutes:
        lab = coverage.minute_label(m)
        direct = dem["population"][t <= m * 60].sum()
        assert island[f"population_{lab}"] == pytest.approx(direct)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=times_strategy, minutes=st.lists(st.floats(0.5, 90), min_size=2, max_size=6,
                                              unique=True))
def test_coverage_never_falls_when_minutes_grow(dem, values, minutes):
    t = np.resize(np.asarray(values), len(dem))
    tab = coverage.tables(t, dem, minutes)
    ordered = sorted(minutes)
    for m in COUNTS:
        cols = [f"{m}_{coverage.minute_label(x)}" for x in ordered]
        diffs = np.diff(tab[cols].to_numpy(), axis=1)
        assert (diffs >= -1e-9).all()
        shares = tab[[c + "_share" for c in cols]].to_numpy()
        assert (np.nan_to_num(np.diff(shares, axis=1), nan=0) >= -1e-9).all()
        assert (np.nan_to_num(shares, nan=0) <= 100 + 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=40),
       weights=st.lists(st.integers(0, 5), min_size=1, max_size=40),
       q=st.sampled_from([0.1, 0.5, 0.9, 1.0]))
def test_weighted_quantile_equals_quantile_of_repeated_values(values, weights, q):
    n = min(len(values), len(weights))
    v, w = np.asarray(values[:n]), np.asarray(weights[:n], dtype=float)
    if w.sum() == 0:
        w[0] = 1
    got = coverage.weighted_quantiles(v, w, np.zeros(n, dtype=np.int64), 1, [q])[0, 0]
    expected = np.quantile(np.repeat(v, w.astype(int)), q, method="inverted_cdf")
    assert got == pytest.approx(expected)


def test_curve_agrees_with_table(dem):
    t = np.random.default_rng(1).uniform(0, 3600, len(dem))
    minutes = [5, 10, 20, 40]
    curve = coverage.curve(t, dem, minutes, "epci")
    tab = coverage.table(t, dem, minutes, "epci").set_index("code")
    for m in minutes:
        rows = curve[curve["minutes"] == m].set_index("code")["share"]
        np.testing.assert_allclose(rows.sort_index(),
                                   tab[f"population_{m}_share"].sort_index())


def test_demand_weights_and_french_errors():
    grid = pd.DataFrame({
        "cell_id": ["CRS5490RES200mN1600000E700000", "CRS5490RES200mN1600200E700000",
                    "CRS5490RES200mN1600400E700000"],
        "code_insee": ["97209", "97209", "97213"], "population": [10.0, 0.0, 30.0],
        "seniors": [2.0, 0, 6.0], "age_80p": [1.0, 0, 1.0], "poor_households": [3.0, 0, 4.0],
        "x": [700100.0, 700100, 700100], "y": [1600100.0, 1600300, 1600500],
    })
    com = pd.DataFrame({"code_insee": ["97209", "97213"], "nom": ["Fort-de-France", "Le Lamentin"],
                        "epci_court": ["CACEM", "CACEM"]})
    d = coverage.demand(grid, com, "seniors")
    assert len(d) == 2 and d["weight"].tolist() == [2.0, 6.0]  # the empty cell is dropped
    assert d["commune"].tolist() == ["Fort-de-France", "Le Lamentin"]
    frag = pd.Series([150.0, 80.0, np.nan], index=grid.index)
    d = coverage.demand(grid, com, "fragility", frag)
    assert d["weight"].tolist() == [15.0, 30.0]  # no score counts as the average (100)
    with pytest.raises(MaillageError, match="Pondération inconnue"):
        coverage.demand(grid, com, "voitures")
    with pytest.raises(MaillageError, match="fragilité"):
        coverage.demand(grid, com, "fragility")
    with pytest.raises(MaillageError, match="Seuils invalides"):
        coverage.table(np.zeros(2), d, [0])


def test_compute_equals_brute_force_matrix(g, dem):
    fac_xy = random_xy(g, 4, seed=5)
    xy = dem[["x", "y"]].to_numpy()
    acc = coverage.compute(g, xy, fac_xy, walk_kmh=WALK_KMH, max_snap_m=400)
    # brute force: one forward Dijkstra per cell, plus the walk from the cell centre to its road
    cells_s = snap.snap(g, xy)
    fac = snap.snap(g, fac_xy, 400).take(np.flatnonzero(snap.snap(g, fac_xy, 400).ok))
    m = routing.matrix(g, cells_s, fac)
    walk = np.hypot(*(xy - cells_s.xy).T) / (WALK_KMH / 3.6)
    np.testing.assert_allclose(acc.seconds, m.min(axis=1) + walk, atol=1e-6)
    ok_rows = np.flatnonzero(acc.usable)
    assert np.all(m[np.arange(len(xy)), np.searchsorted(ok_rows, acc.nearest)]
                  == pytest.approx(m.min(axis=1)))


def test_no_place_is_a_french_error(g, dem):
    xy = dem[["x", "y"]].to_numpy()
    with pytest.raises(MaillageError, match="Aucun lieu"):
        coverage.compute(g, xy, np.zeros((0, 2)), walk_kmh=WALK_KMH, max_snap_m=100)
    far = g.node_xy.max(axis=0) + 5000
    with pytest.raises(MaillageError, match="d'une route"):
        coverage.compute(g, xy, far[None, :], walk_kmh=WALK_KMH, max_snap_m=100)


def test_straight_line_gap_matches_brute_force(g, dem):
    fac_xy = random_xy(g, 5, seed=11)
    xy = dem[["x", "y"]].to_numpy()
    acc = coverage.compute(g, xy, fac_xy, walk_kmh=WALK_KMH, max_snap_m=400)
    gap = coverage.straight_line_gap(g, acc, fac_xy, xy, dem["population"].to_numpy())
    rows = np.flatnonzero(acc.usable)
    crow = rows[np.argmin(np.hypot(*(xy[:, None, :] - fac_xy[rows][None]).transpose(2, 0, 1)),
                          axis=1)]
    m = routing.matrix(g, snap.snap(g, xy), acc.supply)
    worse = m[np.arange(len(xy)), crow] > m[:, rows].min(axis=1) + 1.0
    pop = dem["population"].to_numpy()
    assert gap["weight_pct"] == pytest.approx(100 * pop[worse].sum() / pop.sum())
    assert gap["cells_pct"] == pytest.approx(100 * worse.mean())


@pytest.mark.slow
def test_nearest_times_match_networkx_on_the_island(real_settings):
    """An independent recomputation with networkx on a sample of real cells and town halls."""
    from geo import communes, graphs, population, supply

    g = graphs.load("drive", real_settings)
    dem = coverage.demand(population.load_grid(real_settings), communes.load(real_settings))
    sample = dem.sample(150, random_state=3)
    xy = sample[["x", "y"]].to_numpy()
    fac_xy = supply.to_xy(supply.mairies(real_settings))
    acc = coverage.compute(g, xy, fac_xy, walk_kmh=real_settings.walk_kmh,
                           max_snap_m=real_settings.max_snap_m)
    assert acc.usable.all()
    # networkx: cells as sources, town halls as targets, reversed, one multi-source run
    H = add_points(reference_digraph(g), g, acc.cells, acc.supply).reverse(copy=False)
    dist = nx.multi_source_dijkstra_path_length(H, {("t", j) for j in range(len(acc.supply))},
                                                weight="w")
    network = np.array([dist.get(("s", i), np.inf) for i in range(len(xy))])
    walk = np.hypot(*(xy - acc.cells.xy).T) / (real_settings.walk_kmh / 3.6)
    np.testing.assert_allclose(acc.seconds, network + walk, rtol=0, atol=1e-6)
    assert np.isfinite(acc.seconds).all()
