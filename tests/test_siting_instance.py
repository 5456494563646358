"""The siting instance on disk: written once per set of inputs, read back identical."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import graph as graph_mod
from analysis import siting
from geo import cache, siting_instance
from maillage.settings import DRIVE_SPEEDS_KMH
from tests.network_fixtures import make_ways


@pytest.fixture(scope="module")
def small() -> siting.Instance:
    """A 5 × 5 street grid, 30 cells, one fixed place, 6 candidates."""
    from analysis import snap

    k, step = 5, 0.002
    lines = [[(i * step, j * step) for j in range(k)] for i in range(k)]
    lines += [[(i * step, j * step) for i in range(k)] for j in range(k)]
    g = graph_mod.build(make_ways(lines, ["residential"] * len(lines)), "walk",
                        DRIVE_SPEEDS_KMH, 4.5)
    lo, hi = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    rng = np.random.default_rng(3)
    xy = lo + rng.random((30, 2)) * (hi - lo)
    dem = pd.DataFrame({
        "cell_id": [f"c{i}" for i in range(30)], "code_insee": "97209",
        "commune": "Fort-de-France", "epci": "CACEM",
        "population": rng.integers(1, 50, 30).astype(float),
        "seniors": rng.integers(0, 9, 30).astype(float), "age_80p": 1.0,
        "poor_households": 2.0, "x": xy[:, 0], "y": xy[:, 1]})
    dem["fragility_weight"] = dem["population"] * 1.1
    cxy = lo + rng.random((6, 2)) * (hi - lo)
    ll = snap.to_lonlat(cxy)
    cands = pd.DataFrame({
        "cand_id": [f"route:{i}" for i in range(6)], "nom": [f"Rue n° {i}, Fort-de-France"
                                                             for i in range(6)],
        "source": "route", "kind": "bord de route", "code_insee": "97209",
        "lon": ll[:, 0], "lat": ll[:, 1], "x": cxy[:, 0], "y": cxy[:, 1],
        "merged": np.arange(6), "merged_ids": "", "snap_m": 0.0, "far": False})
    return siting.prepare(g, dem, np.array([lo]), cands, max_minutes=12, walk_kmh=4.5,
                          max_snap_m=500)


def _same(a: siting.Instance, b: siting.Instance) -> None:
    pd.testing.assert_frame_equal(a.dem, b.dem, check_dtype=False)
    cols = [c for c in a.candidates.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(a.candidates[cols]),
                                  pd.DataFrame(b.candidates[cols]), check_dtype=False)
    for name in ("cand", "cell", "seconds"):
        np.testing.assert_array_equal(getattr(a.reach, name), getattr(b.reach, name))
    np.testing.assert_array_equal(a.base.seconds, b.base.seconds)
    np.testing.assert_array_equal(a.usable, b.usable)
    np.testing.assert_array_equal(a.cand_snap.xy, b.cand_snap.xy)
    # the same question gets the same answer
    answers = []
    for inst in (a, b):
        sol = inst.problem("mclp", 10, {"seniors": 1.0}, p=2).solve(siting.Greedy())
        answers.append((sol.selected.tolist(), sol.covered))
    assert answers[0] == answers[1]


def test_instance_round_trips_through_bytes(small) -> None:
    _same(small, siting_instance.from_bytes(siting_instance.to_bytes(small)))


def test_second_load_reads_the_cache_and_a_damaged_file_is_rebuilt(small, tmp_settings,
                                                                    monkeypatch) -> None:
    calls = []

    def build(mode, max_minutes, s, **kwargs):
        calls.append((mode, max_minutes))
        return small

    monkeypatch.setattr(siting_instance, "build", build)
    monkeypatch.setattr(siting_instance, "cache_key", lambda *a, **k: "cle")
    first = siting_instance.load("walk", 12, tmp_settings)
    second = siting_instance.load("walk", 12, tmp_settings)
    assert len(calls) == 1
    _same(first, second)
    path = siting_instance.cache_path(tmp_settings, "walk", "cle")
    assert cache.valid(path, siting_instance.FORMAT_VERSION)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        third = siting_instance.load("walk", 12, tmp_settings)
    assert len(calls) == 2
    assert any("Cache illisible" in str(w.message) for w in caught)
    _same(first, third)


def test_cache_key_changes_with_the_inputs(tmp_settings, monkeypatch) -> None:
    from dataclasses import replace

    from geo import graphs

    monkeypatch.setattr(siting_instance, "_registry_revision", lambda s: "rev-1")
    monkeypatch.setattr(graphs, "path_for", lambda mode, s: tmp_settings.build_dir / mode)
    key = siting_instance.cache_key("walk", 15, tmp_settings, places="all", extra=(),
                                    far_m=None)
    assert key == siting_instance.cache_key("walk", 15, tmp_settings, places="all", extra=(),
                                            far_m=None)
    other = [
        siting_instance.cache_key("walk", 30, tmp_settings, places="all", extra=(), far_m=None),
        siting_instance.cache_key("drive", 15, tmp_settings, places="all", extra=(),
                                  far_m=None),
        siting_instance.cache_key("walk", 15, tmp_settings, places="labelled", extra=(),
                                  far_m=None),
        siting_instance.cache_key("walk", 15, replace(tmp_settings, candidate_spacing_m=150),
                                  places="all", extra=(), far_m=None),
        siting_instance.cache_key("walk", 15, tmp_settings, places="all",
                                  extra=((-61.0, 14.6, "x"),), far_m=None),
    ]
    monkeypatch.setattr(siting_instance, "_registry_revision", lambda s: "rev-2")
    other.append(siting_instance.cache_key("walk", 15, tmp_settings, places="all", extra=(),
                                           far_m=None))
    assert key not in other and len(set(other)) == len(other)
