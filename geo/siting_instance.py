"""The island's siting instance, assembled from the data layers (the file side of siting).

:func:`analysis.siting.prepare` is the pure constructor; this module reads what it
needs (grid, communes, IRIS fragility, registry places, candidates, road graphs).
"""

from __future__ import annotations

from analysis import coverage
from analysis.graph import check_mode
from analysis.siting import FIXED_KIND, Instance, SitingError, prepare
from maillage import settings as settings_mod
from maillage.settings import Settings


def load(mode: str = "walk", max_minutes: float = 30.0, s: Settings | None = None, *,
         places: str = "all", extra: tuple = (), far_m: float | None = None) -> Instance:
    """Assemble the island instance from the data layers (grid, registry, candidates, graphs).

    Fixed places: the registry's ``lieu fixe`` places (``places="labelled"``: labelled
    only). Candidates: :func:`geo.candidates.load` plus ``extra`` points, snapped to the
    drive network and flagged beyond ``far_m`` (default: the ``max_snap_m`` setting).
    """
    from geo import candidates as cand_mod
    from geo import communes as communes_mod
    from geo import graphs, population, supply

    s = s or settings_mod.get()
    mode = check_mode(mode)
    communes = communes_mod.load(s)
    grid = population.load_grid(s)
    dem = coverage.demand(grid, communes, "population")
    frag = population.fragility_by_cell(grid, population.load_ifn(s))
    dem["fragility_weight"] = coverage.demand(grid, communes, "fragility", frag)["weight"]
    fixed = supply.select(supply.places(s), places, kinds=[FIXED_KIND])
    if fixed.empty:
        raise SitingError("Aucun lieu fixe dans le registre : chargez-le avec « maillage places "
                          "load-initial » (ou élargissez la sélection des lieux).")
    cands = cand_mod.load(s, extra=extra, communes=communes)
    drive = graphs.load("drive", s)
    cands = cand_mod.snap_drive(cands, drive, s.max_snap_m if far_m is None else far_m)
    g = drive if mode == "drive" else graphs.load(mode, s)
    return prepare(g, dem, supply.to_xy(fixed), cands, max_minutes=max_minutes,
                   walk_kmh=s.walk_kmh, max_snap_m=s.max_snap_m)
