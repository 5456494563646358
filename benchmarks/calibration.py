"""Drive-speed calibration check: town-hall trips from Fort-de-France against rough references.

Run: ``.venv/bin/python -m benchmarks.calibration``. Prints, for the speeds of the
settings, each trip's engine time, distance and number of junctions crossed (nodes
where three or more edges meet), then the fit for a few trial per-junction delays
(added after the fact: ``time + junctions × delay``, the path left unchanged). The
reference times are approximate (see docs/calibration.md); they are inputs, not results.
"""

from __future__ import annotations

import numpy as np

from analysis import graph, routing, snap
from geo import graphs, supply
from maillage import settings

#: Commune (as in the town-hall layer) → (approximate minutes, km) from Fort-de-France.
REFERENCES: dict[str, tuple[float, float]] = {
    "Lamentin": (15, 12), "Saint-Pierre": (37, 27), "Sainte-Anne": (50, 41),
    "Grand'Rivière": (75, 50), "Marin": (42, 35), "Trinité": (35, 27), "Robert": (28, 21),
    "François": (30, 25), "Diamant": (38, 30),
}
DELAYS_S = (0.0, 3.0, 5.0, 8.0)


def trips(g: graph.Graph, s: settings.Settings) -> dict[str, tuple[float, float, int]]:
    """(minutes, km, junctions crossed) of the fastest trip to each reference town hall."""
    halls = supply.mairies(s)
    names = list(halls["commune"])
    pts = snap.snap(g, supply.to_xy(halls))
    degree = np.bincount(np.concatenate([g.edge_u, g.edge_v]), minlength=g.n_nodes)
    t = routing.tree(g, pts.take([names.index("Fort-de-France")]))
    out = {}
    for name in REFERENCES:
        tr = routing.path(g, t, pts, names.index(name))
        out[name] = (tr.seconds / 60, tr.metres / 1000, int((degree[tr.nodes] >= 3).sum()))
    return out


def main() -> None:
    s = settings.get()
    res = trips(graphs.load("drive", s), s)
    print("| Fort-de-France → | référence (min) | moteur (min) | moteur (km) | intersections |")
    print("|---|---:|---:|---:|---:|")
    for name, (minutes, km, n) in res.items():
        print(f"| {name} | {REFERENCES[name][0]:g} | {minutes:.1f} | {km:.1f} | {n} |")
    print("\n| pénalité (s/intersection) | rapport moyen | min | max | écart-type "
          "| écart absolu moyen (min) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for delay in DELAYS_S:
        est = np.array([res[c][0] + res[c][2] * delay / 60 for c in REFERENCES])
        ref = np.array([REFERENCES[c][0] for c in REFERENCES])
        r = est / ref
        print(f"| {delay:g} | {r.mean():.2f} | {r.min():.2f} | {r.max():.2f} | {r.std():.2f} | "
              f"{np.abs(est - ref).mean():.1f} |")


if __name__ == "__main__":
    main()
