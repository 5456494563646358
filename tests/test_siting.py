"""Siting models: exhaustive optima on small instances, honest reports, gains = coverage gains."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import coverage, siting, whatif
from analysis import graph as graph_mod
from analysis.siting import Greedy, Highs, MaximalCovering, SetCovering, SitingError
from maillage.settings import DRIVE_SPEEDS_KMH
from tests.network_fixtures import make_ways

WALK_KMH = 4.5


def random_instance(seed: int, n: int = 7, m: int = 18):
    """Dense seconds (candidates × cells, inf = out of reach), weights, already-covered cells."""
    rng = np.random.default_rng(seed)
    cost = np.where(rng.random((n, m)) < 0.35, rng.random((n, m)) * 1200, np.inf)
    w = rng.integers(0, 30, m).astype(float) + rng.random(m).round(1)
    covered = rng.random(m) < 0.2
    return cost, w, covered


def brute_covered(cost: np.ndarray, w: np.ndarray, covered: np.ndarray, limit: float,
                  combo: tuple[int, ...]) -> float:
    """Weight newly covered by ``combo``, with plain Python loops (independent of the module)."""
    total = 0.0
    for j in range(cost.shape[1]):
        if covered[j]:
            continue
        if any(cost[i, j] <= limit for i in combo):
            total += w[j]
    return total


@pytest.mark.parametrize("seed", range(8))
def test_mclp_milp_finds_the_exhaustive_optimum_and_greedy_is_reported_truly(seed: int) -> None:
    cost, w, covered = random_instance(seed)
    limit = 600.0
    for p in (1, 2, 3):
        combos = itertools.combinations(range(cost.shape[0]), p)
        best = max(brute_covered(cost, w, covered, limit, c) for c in combos)
        model = MaximalCovering.from_cost_matrix(cost, w, limit, covered, p=p)
        milp = model.solve(Highs(time_limit=20))
        assert milp.status == "optimal"
        assert milp.objective == pytest.approx(best)
        assert milp.bound == pytest.approx(best)
        assert milp.gap == pytest.approx(0.0, abs=1e-9)
        assert len(milp.selected) <= p
        greedy = model.solve(Greedy())
        true = brute_covered(cost, w, covered, limit, tuple(greedy.selected))
        assert greedy.objective == pytest.approx(true)
        assert greedy.covered == pytest.approx(true)
        assert sum(greedy.gains) == pytest.approx(true)
        assert greedy.objective <= best + 1e-9 <= greedy.bound + 2e-9
        if greedy.status == "optimal":
            assert greedy.objective == pytest.approx(best)
        elif greedy.gap is not None:
            assert greedy.gap >= (greedy.bound - greedy.objective) / greedy.objective - 1e-12


@pytest.mark.parametrize("seed", range(8))
def test_lscp_milp_finds_the_fewest_stops(seed: int) -> None:
    cost, w, covered = random_instance(seed + 100)
    limit, share = 700.0, 0.6
    uncovered = float(w[~covered].sum())
    n = cost.shape[0]
    reachable = brute_covered(cost, w, covered, limit, tuple(range(n)))
    model = SetCovering.from_cost_matrix(cost, w, limit, covered, share=share)
    if reachable < share * uncovered - 1e-9:
        with pytest.raises(SitingError, match="au plus"):
            model.solve(Highs())
        return
    fewest = next(k for k in range(n + 1) for c in itertools.combinations(range(n), k)
                  if brute_covered(cost, w, covered, limit, c) >= share * uncovered - 1e-9)
    milp = model.solve(Highs(time_limit=20))
    assert milp.status == "optimal"
    assert milp.objective == fewest == len(milp.selected)
    assert brute_covered(cost, w, covered, limit, tuple(milp.selected)) >= share * uncovered - 1e-6
    greedy = model.solve(Greedy())
    assert greedy.bound <= fewest <= greedy.objective == len(greedy.selected)
    assert greedy.covered == pytest.approx(
        brute_covered(cost, w, covered, limit, tuple(greedy.selected)))


def test_time_limit_is_never_called_optimal() -> None:
    """A larger instance stopped at once: HiGHS' own status decides, never a silent "optimal"."""
    rng = np.random.default_rng(7)
    n, m = 300, 3000
    cost = np.where(rng.random((n, m)) < 0.02, 100.0, np.inf)
    w = rng.random(m) * 10
    model = MaximalCovering.from_cost_matrix(cost, w, 200.0, p=25)
    sol = model.solve(Highs(time_limit=1e-3))
    assert sol.info["status_highs"] != "Optimal"
    assert sol.status != "optimal"
    assert sol.bound >= sol.objective - 1e-9
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.objective)
    assert sol.objective == pytest.approx(model.evaluate(sol.selected))


def test_greedy_bound_is_valid_for_a_known_trap() -> None:
    """Greedy takes the big middle stop; two side stops cover more; the bound says so."""
    inf = np.inf
    cost = np.array([[1, 1, 1, 1, inf, inf],   # middle: covers 4 cells
                     [1, 1, 1, inf, inf, 1],   # left: 3 cells + far cell
                     [inf, inf, inf, 1, 1, inf]], dtype=float)
    w = np.array([1, 1, 1, 1, 1, 1.0])
    model = MaximalCovering.from_cost_matrix(cost, w, 5.0, p=2)
    greedy, milp = model.solve(Greedy()), model.solve(Highs())
    assert greedy.objective < milp.objective == 6
    assert greedy.status == "heuristic" and greedy.bound >= 6


# --------------------------------------------------------------------------- on a road network


def _grid_ways(k: int = 6, step: float = 0.002):
    lines = [[(i * step, j * step) for j in range(k)] for i in range(k)]
    lines += [[(i * step, j * step) for i in range(k)] for j in range(k)]
    return make_ways(lines, ["residential"] * len(lines))


@pytest.fixture(scope="module")
def small_city():
    """A 6 × 6 street grid, 30 demand cells, one fixed place and 8 candidate stops."""
    from analysis import snap

    g = graph_mod.build(_grid_ways(), "walk", DRIVE_SPEEDS_KMH, WALK_KMH)
    lo, hi = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    rng = np.random.default_rng(3)
    cell_xy = lo + rng.random((30, 2)) * (hi - lo)
    dem = pd.DataFrame({
        "cell_id": [f"c{i}" for i in range(30)],
        "code_insee": np.where(cell_xy[:, 0] < (lo[0] + hi[0]) / 2, "97209", "97213"),
        "population": rng.integers(1, 60, 30).astype(float),
        "seniors": rng.integers(0, 15, 30).astype(float),
        "age_80p": rng.integers(0, 5, 30).astype(float),
        "poor_households": rng.integers(0, 10, 30).astype(float),
        "x": cell_xy[:, 0], "y": cell_xy[:, 1],
    })
    dem["fragility_weight"] = dem["population"] * rng.uniform(0.8, 1.3, 30)
    supply_xy = np.array([lo + 0.1 * (hi - lo)])
    cand_xy = lo + rng.random((8, 2)) * (hi - lo)
    lonlat = snap.to_lonlat(cand_xy)
    cands = pd.DataFrame({
        "cand_id": [f"ajout:{i}" for i in range(8)], "nom": [f"Arrêt {i}" for i in range(8)],
        "source": "ajout", "kind": "point ajouté",
        "code_insee": np.where(cand_xy[:, 0] < (lo[0] + hi[0]) / 2, "97209", "97213"),
        "lon": lonlat[:, 0], "lat": lonlat[:, 1], "x": cand_xy[:, 0], "y": cand_xy[:, 1],
    })
    inst = siting.prepare(g, dem, supply_xy, cands, max_minutes=20, walk_kmh=WALK_KMH,
                          max_snap_m=500)
    return g, inst, supply_xy, cand_xy


def test_reach_equals_the_coverage_engine_candidate_by_candidate(small_city) -> None:
    g, inst, _, cand_xy = small_city
    cell_xy = inst.dem[["x", "y"]].to_numpy()
    dense = np.full((len(cand_xy), len(cell_xy)), np.inf)
    dense[inst.reach.cand, inst.reach.cell] = inst.reach.seconds
    for i, xy in enumerate(cand_xy):
        t = coverage.compute(g, cell_xy, xy[None, :], walk_kmh=WALK_KMH, max_snap_m=500).seconds
        t = np.where(t <= inst.reach.cutoff, t, np.inf)
        np.testing.assert_allclose(dense[i], t, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("minutes", "weight", "p"), [(5, "population", 2), (8, "seniors", 3),
                                                      (10, "poor=1,fragility=0.5", 2)])
def test_claimed_gain_equals_the_coverage_gain_with_the_stops_added(small_city, minutes, weight,
                                                                    p) -> None:
    g, inst, supply_xy, cand_xy = small_city
    mix = siting.parse_weight(weight)
    w = siting.demand(inst.dem, mix)
    cell_xy = inst.dem[["x", "y"]].to_numpy()
    limit = minutes * 60.0
    before = coverage.compute(g, cell_xy, supply_xy, walk_kmh=WALK_KMH, max_snap_m=500)

    def gain(stops) -> float:
        after = whatif.apply(g, before, add_xy=cand_xy[list(stops)], max_snap_m=500).seconds
        return float(w[(before.seconds > limit) & (after <= limit)].sum())

    model = inst.problem("mclp", minutes, mix, p=p)
    best = max(gain(c) for c in itertools.combinations(range(len(cand_xy)), p))
    for sol in (model.solve(Greedy()), model.solve(Highs())):
        assert sol.covered == pytest.approx(gain(sol.selected))
        full = coverage.compute(g, cell_xy, np.vstack([supply_xy, cand_xy[sol.selected]]),
                                walk_kmh=WALK_KMH, max_snap_m=500).seconds
        assert sol.covered == pytest.approx(
            float(w[(before.seconds > limit) & (full <= limit)].sum()))
        # the per-stop gains add up, in order, to the cumulative coverage gain
        for k in range(1, len(sol.selected) + 1):
            assert sum(sol.gains[:k]) == pytest.approx(gain(sol.selected[:k]))
    assert model.solve(Highs()).objective == pytest.approx(best)


def test_scope_restricts_demand_and_candidates(small_city) -> None:
    _, inst, _, _ = small_city
    mix = siting.parse_weight("population")
    model = inst.problem("mclp", 10, mix, scope=["97209"], p=8)
    sol = model.solve(Highs())
    assert set(inst.candidates["code_insee"].iloc[sol.selected]) <= {"97209"}
    outside = inst.dem["code_insee"].to_numpy() != "97209"
    assert model.w[outside].sum() == 0
    assert model.total == pytest.approx(
        inst.dem["population"].to_numpy()[~outside & inst.uncovered(10)].sum())


def test_parse_weight_and_scope_errors_are_french() -> None:
    assert siting.parse_weight("seniors") == {"seniors": 1.0}
    assert siting.parse_weight("seniors=2, poor=1") == {"seniors": 2.0, "poor": 1.0}
    assert siting.parse_weight("80+") == {"age_80p": 1.0}
    with pytest.raises(SitingError, match="Pondération inconnue"):
        siting.parse_weight("chats")
    with pytest.raises(SitingError, match="positif"):
        siting.parse_weight("seniors=-1")
    communes = pd.DataFrame({"code_insee": ["97209", "97213", "97202"],
                             "epci_court": ["CACEM", "CACEM", "Espace Sud"],
                             "epci_siren": ["249720061", "249720061", "249720053"]})
    assert siting.resolve_scope(None, communes) is None
    assert siting.resolve_scope("cacem", communes) == ["97209", "97213"]
    assert siting.resolve_scope("249720053,97209", communes) == ["97202", "97209"]
    with pytest.raises(SitingError, match="Territoire inconnu"):
        siting.resolve_scope("Paris", communes)
    with pytest.raises(SitingError, match="part"):
        SetCovering.from_cost_matrix(np.ones((1, 1)), np.ones(1), 5, share=1.5)
    with pytest.raises(SitingError, match="au moins 1"):
        MaximalCovering.from_cost_matrix(np.ones((1, 1)), np.ones(1), 5, p=0)


def test_a_solver_objective_that_disagrees_with_its_answer_is_never_optimal() -> None:
    res = {"status": "optimal", "objective": 42.0}
    assert siting._trust(res, 47.0) == "unknown"
    assert siting._trust(res, 42.0) == "optimal"
    assert siting._trust({"status": "optimal", "objective": None}, 1.0) == "unknown"
