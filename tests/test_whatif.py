"""What-if: incremental results equal a full recompute; adding a point never lowers coverage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import coverage, whatif
from geo.errors import MaillageError
from tests.coverage_fixtures import cells, lattice, random_xy

WALK_KMH = 4.5
MAX_SNAP = 400.0


@pytest.fixture(scope="module")
def g():
    return lattice(oneway_every=4)


@pytest.fixture(scope="module")
def dem(g):
    return cells(g, seed=2)


def _base(g, dem, fac_xy):
    return coverage.compute(g, dem[["x", "y"]].to_numpy(), fac_xy, walk_kmh=WALK_KMH,
                            max_snap_m=MAX_SNAP)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_fac=st.integers(1, 5), n_add=st.integers(0, 3),
       n_remove=st.integers(0, 2))
def test_incremental_equals_full_recompute(g, dem, seed, n_fac, n_add, n_remove):
    fac_xy = random_xy(g, n_fac, seed)
    add_xy = random_xy(g, n_add, seed + 1)
    remove = list(range(min(n_remove, n_fac)))
    base = _base(g, dem, fac_xy)
    sc = whatif.apply(g, base, add_xy if n_add else None, remove, MAX_SNAP)
    kept = np.delete(fac_xy, remove, axis=0)
    full_xy = np.concatenate([kept, add_xy]) if n_add else kept
    if len(full_xy) == 0:
        assert np.isinf(sc.seconds).all()
        return
    full = _base(g, dem, full_xy)
    np.testing.assert_allclose(sc.seconds, full.seconds, atol=1e-6)
    if not remove:
        assert (sc.seconds <= base.seconds + 1e-9).all()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), minutes=st.lists(st.floats(1, 30), min_size=1, max_size=3))
def test_adding_a_point_never_lowers_coverage(g, dem, seed, minutes):
    base = _base(g, dem, random_xy(g, 2, seed))
    sc = whatif.apply(g, base, random_xy(g, 1, seed + 7), (), MAX_SNAP)
    before = coverage.tables(base.seconds, dem, minutes)
    after = coverage.tables(sc.seconds, dem, minutes)
    cols = [c for c in before.columns if c.startswith("population_")]
    assert (after[cols].to_numpy() >= before[cols].to_numpy() - 1e-9).all()
    d = whatif.deltas(base.seconds, sc.seconds, dem, minutes)
    loss = [c for c in d.columns if "_loss_" in c]
    assert (d[loss].to_numpy() == 0).all()
    for m in minutes:
        lab = coverage.minute_label(m)
        gained = after[f"population_{lab}"] - before[f"population_{lab}"]
        np.testing.assert_allclose(d[f"population_gain_{lab}"], gained, atol=1e-6)


def test_removing_the_only_nearby_place_loses_coverage(g, dem):
    fac_xy = random_xy(g, 3, 42)
    base = _base(g, dem, fac_xy)
    used = np.bincount(base.nearest, minlength=3).argmax()
    sc = whatif.apply(g, base, None, [used], MAX_SNAP)
    assert (sc.seconds >= base.seconds - 1e-9).all()
    assert not np.isin(sc.nearest, [used]).any()
    d = whatif.delta(base.seconds, sc.seconds, dem, [60], "island")
    lost = (base.seconds <= 3600) & (sc.seconds > 3600)
    assert d["population_loss_60"].iloc[0] == pytest.approx(dem["population"][lost].sum())


def test_bad_points_are_french_errors(g, dem):
    base = _base(g, dem, random_xy(g, 2, 1))
    far = g.node_xy.max(axis=0) + 3000
    with pytest.raises(MaillageError, match="route la plus proche"):
        whatif.apply(g, base, far[None, :], (), MAX_SNAP)
    with pytest.raises(MaillageError, match="inconnu"):
        whatif.apply(g, base, None, [7], MAX_SNAP)
