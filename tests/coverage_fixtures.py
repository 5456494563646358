"""Tiny coverage inputs built by the tests: a road lattice and 200 m cells around it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import graph, snap
from tests.network_fixtures import make_ways

#: Lattice of roads: ``N`` × ``N`` junctions ``STEP`` degrees apart (about 220 m).
N, STEP = 6, 0.002


def lattice(oneway_every: int = 0):
    """A drive graph on a square lattice; every ``oneway_every``-th road is one-way."""
    lines, kinds, oneway = [], [], []
    for i in range(N):
        lines.append([(j * STEP, i * STEP) for j in range(N)])  # east-west
        lines.append([(i * STEP, j * STEP) for j in range(N)])  # south-north
        kinds += ["major", "minor"]
    for k in range(len(lines)):
        oneway.append(1 if oneway_every and k % oneway_every == 0 else 0)
    ways = make_ways(lines, kinds, oneway=oneway)
    return graph.build(ways, "drive", {"major": 36.0, "minor": 18.0}, 4.5)


def cells(g, communes: dict[str, tuple[str, str]] | None = None, seed: int = 0
          ) -> pd.DataFrame:
    """Demand rows (as :func:`analysis.coverage.demand` makes them) on the 200 m grid
    covering the lattice, with random measures; communes split west/east, EPCI by pairs."""
    rng = np.random.default_rng(seed)
    lo, hi = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    e0, n0 = np.floor(lo / 200) * 200
    xs = np.arange(e0, hi[0] + 200, 200)
    ys = np.arange(n0, hi[1] + 200, 200)
    ex, ny = np.meshgrid(xs, ys)
    ex, ny = ex.ravel(), ny.ravel()
    n = len(ex)
    communes = communes or {"97201": ("Ouest", "EPCI-A"), "97202": ("Centre", "EPCI-A"),
                            "97203": ("Est", "EPCI-B")}
    codes = np.array(list(communes))
    band = np.minimum(((ex - ex.min()) / (ex.max() - ex.min() + 1) * len(codes)).astype(int),
                      len(codes) - 1)
    code = codes[band]
    pop = rng.integers(1, 200, n).astype(float)
    dem = pd.DataFrame({
        "cell_id": [f"CRS5490RES200mN{int(y)}E{int(x)}" for x, y in zip(ex, ny, strict=True)],
        "code_insee": code,
        "commune": [communes[c][0] for c in code],
        "epci": [communes[c][1] for c in code],
        "population": pop,
        "seniors": np.floor(pop * rng.uniform(0, 0.4, n)),
        "age_80p": np.floor(pop * rng.uniform(0, 0.1, n)),
        "poor_households": np.floor(pop * rng.uniform(0, 0.2, n)),
    })
    dem["weight"] = dem["population"]
    dem["x"], dem["y"] = ex + 100, ny + 100
    return dem


def random_xy(g, n: int, seed: int) -> np.ndarray:
    """``n`` random points (EPSG:5490) over the lattice's extent."""
    rng = np.random.default_rng(seed)
    lo, hi = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    return rng.uniform(lo, hi, size=(n, 2))


def lonlat(xy: np.ndarray) -> np.ndarray:
    return snap.to_lonlat(xy)
