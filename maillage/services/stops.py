"""« Arrêts proposés »: the proposed stops of the mobile workshops, shared by the CLI and the page.

:class:`StopsRequest` holds one question (how many stops, how far, on foot or by car,
whom to count, where, which solver); :meth:`StopsService.run` answers it with the
covering models of :mod:`analysis.siting` on the island instance of
:mod:`geo.siting_instance` and returns a :class:`StopsResult` whose ``to_json()`` is
what ``maillage propose-stops --json`` prints.

« Covered today » has one definition here: the demand of the scope whose cell is
within ``minutes`` of a fixed place (any fixed place of the island: people cross
commune borders), i.e. the complement of :meth:`analysis.siting.Instance.uncovered`,
which is the very set of cells the models give no weight to. « With the stops » adds
the cells the chosen stops bring within ``minutes``
(:meth:`analysis.siting.Instance.newly_covered`); « still out of reach » is the rest
of the scope. The three totals and the per-commune table all come from these masks,
so ``covered_with_stops - covered_today`` is the solution's ``covered`` and
``demand_total - covered_today`` its ``total``.

Equity rules (:class:`analysis.siting.Equity`): ``min_per_commune`` / ``min_per_epci``
stops in every commune / EPCI of the scope, ``max_per_commune`` / ``max_per_epci`` at
most, ``min_distance_m`` metres at least between two stops. Both solvers keep to them;
a minimum that cannot be met is listed in the solution's ``unmet`` (French:
``unmet_fr``), and when HiGHS proves the rules cannot all hold (``infeasible``) the
stops shown are the greedy's, with what it could not meet.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis import siting
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.settings import Settings

MODE_LABEL = {"drive": "en voiture", "walk": "à pied"}
MODEL_LABEL = {"mclp": "couverture maximale", "lscp": "couverture d'une part de la demande"}
SOLVERS = ("greedy", "highs")
PLACES = ("all", "labelled")
#: Longest trip a stop may be credited with (minutes).
MAX_MINUTES = 60.0
#: Most stops one request may ask for.
MAX_STOPS = 500
#: Island instances kept in memory by one service (one per mode and places selection).
MAX_INSTANCES = 2
#: Columns of the stops table, in order (as printed by ``--json``).
STOP_COLUMNS = ["rang", "cand_id", "nom", "source", "kind", "code_insee", "commune", "lon",
                "lat", "gain", "cumul", "snap_drive_m"]

_CODE = re.compile(r"^972\d\d$")


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _g(value: Any) -> str:
    """A number as ``%g`` for a message (anything else as given)."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def _integer(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (``3``, ``3.0``, numpy ints), else None."""
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f == int(f) else None


@dataclass(frozen=True)
class StopsRequest:
    """One « where should the vans stop? » question (inputs only; see :meth:`validated`).

    ``weights``: a weight key, a mix as text (``"seniors=2,poor=1"``) or a mapping
    ``{key: coefficient}``. ``scope``: ``None`` (the island), an EPCI or codes as text
    (``"CACEM"``, ``"97209,97213"``), or a sequence of INSEE codes. ``solver``:
    ``"greedy"`` (instant) or ``"highs"`` (the greedy answer, then HiGHS within
    ``time_limit`` seconds). ``places``: the fixed places that already cover
    (``"all"`` or ``"labelled"``).
    """

    p: int = 10
    minutes: float = 15.0
    mode: str = "walk"
    weights: str | Mapping[str, float] = "population"
    scope: str | Sequence[str] | None = None
    model: str = "mclp"
    share: float = 0.8
    solver: str = "highs"
    time_limit: float = 30.0
    places: str = "all"
    min_per_commune: int = 0
    max_per_commune: int | None = None
    min_per_epci: int = 0
    max_per_epci: int | None = None
    min_distance_m: float = 0.0

    @property
    def equity(self) -> siting.Equity:
        """The equity rules of the request (checked by :meth:`validated`)."""
        return siting.Equity(self.min_per_commune, self.max_per_commune, self.min_per_epci,
                             self.max_per_epci, float(self.min_distance_m))

    def validated(self, communes: pd.DataFrame | None = None) -> StopsRequest:
        """The same request with normalised fields, or a French :class:`MaillageError`.

        Nothing is loaded. With ``communes`` (``code_insee, epci_court, epci_siren``) a
        text scope is resolved to sorted commune codes; without, it is kept as text and
        resolved by :meth:`StopsService.run`.
        """
        from analysis import graph

        mode = graph.check_mode(self.mode)
        if self.model not in MODEL_LABEL:
            raise MaillageError(f"Modèle inconnu : « {self.model} » (mclp ou lscp).")
        p = _integer(self.p)
        if p is None or not 1 <= p <= MAX_STOPS:
            raise MaillageError(f"Nombre d'arrêts invalide : {self.p} (entre 1 et "
                                f"{MAX_STOPS}).")
        if not (_finite(self.minutes) and 0 < float(self.minutes) <= MAX_MINUTES):
            raise MaillageError(f"Temps de trajet invalide : {_g(self.minutes)} min (plus de 0 "
                                f"et {MAX_MINUTES:g} au plus).")
        if not (_finite(self.share) and 0 < float(self.share) <= 1):
            raise MaillageError(f"Part à couvrir invalide : {_g(self.share)} (entre 0 et 1, "
                                "ex. 0.8).")
        if self.solver not in SOLVERS:
            raise MaillageError(f"Solveur inconnu : « {self.solver} » (greedy ou highs).")
        if not (_finite(self.time_limit) and float(self.time_limit) > 0):
            raise MaillageError("La limite de temps du solveur doit être un nombre de secondes "
                                "positif.")
        if self.places not in PLACES:
            raise MaillageError(f"Sélection de lieux inconnue : « {self.places} » (all ou "
                                "labelled).")
        mix = siting.parse_weight(dict(self.weights) if isinstance(self.weights, Mapping)
                                  else self.weights)
        counts = {}
        for name, label in (("min_per_commune", "Minimum d'arrêts par commune"),
                            ("max_per_commune", "Maximum d'arrêts par commune"),
                            ("min_per_epci", "Minimum d'arrêts par EPCI"),
                            ("max_per_epci", "Maximum d'arrêts par EPCI")):
            value = getattr(self, name)
            if value is None and name.startswith("max"):
                counts[name] = None
                continue
            k = _integer(value)
            if k is None or not 0 <= k <= MAX_STOPS or (name.startswith("max") and k < 1):
                low = 1 if name.startswith("max") else 0
                raise MaillageError(f"{label} invalide : {value} (un nombre entier entre {low} "
                                    f"et {MAX_STOPS}).")
            counts[name] = k
        if not (_finite(self.min_distance_m)
                and 0 <= float(self.min_distance_m) <= siting.MAX_DISTANCE_M):
            raise MaillageError(f"Distance minimale entre arrêts invalide : "
                                f"{_g(self.min_distance_m)} m (entre 0 et "
                                f"{siting.MAX_DISTANCE_M:,.0f} m).".replace(",", "\u202f"))
        for level in ("commune", "epci"):
            lo, hi = counts[f"min_per_{level}"], counts[f"max_per_{level}"]
            if hi is not None and hi < lo:
                where = "par commune" if level == "commune" else "par EPCI"
                raise MaillageError(f"Le maximum d'arrêts {where} ({hi}) est plus petit que le "
                                    f"minimum ({lo}).")
        least = max(counts["min_per_commune"], counts["min_per_epci"])
        if self.model == "mclp" and least > p:
            raise MaillageError(f"Les minimums d'arrêts par commune ou par EPCI demandent au "
                                f"moins {least} arrêts : vous en proposez {p}. Augmentez le "
                                "nombre d'arrêts ou baissez les minimums.")
        return replace(self, p=p, minutes=float(self.minutes), mode=mode, weights=mix,
                       scope=_scope(self.scope, communes), share=float(self.share),
                       time_limit=float(self.time_limit), **counts,
                       min_distance_m=float(self.min_distance_m))

    def key(self) -> tuple:
        """A hashable identity of the question (to keep a solver's answer per session)."""
        r = self.validated()
        scope = r.scope if r.scope is None or isinstance(r.scope, str) else tuple(r.scope)
        return (r.p, r.minutes, r.mode, tuple(sorted(r.weights.items())), scope, r.model,
                r.share, r.solver, r.time_limit, r.places, r.min_per_commune,
                r.max_per_commune, r.min_per_epci, r.max_per_epci, r.min_distance_m)


def _scope(scope: str | Sequence[str] | None,
           communes: pd.DataFrame | None) -> str | tuple[str, ...] | None:
    """``None`` for the island, sorted codes, or (no ``communes`` to resolve it) the text."""
    if scope is None:
        return None
    if isinstance(scope, str):
        if communes is not None:
            codes = siting.resolve_scope(scope, communes)
            return None if codes is None else tuple(codes)
        return scope.strip() or None
    codes = sorted({str(c).strip() for c in scope})
    if not codes:
        return None
    bad = [c for c in codes if not _CODE.match(c)]
    if communes is not None:
        known = set(communes["code_insee"].astype(str))
        bad += [c for c in codes if _CODE.match(c) and c not in known]
    if bad:
        raise MaillageError(f"Territoire inconnu : « {bad[0]} ». Donnez des codes INSEE de "
                            "communes (97201 à 97234).")
    return tuple(codes)


@dataclass
class StopsResult:
    """The answer to a :class:`StopsRequest` (weights in the unit of ``weight_label``)."""

    request: StopsRequest  # validated, scope resolved
    weight_label: str
    n_candidates: int
    n_usable: int
    n_cells: int
    greedy: siting.Solution
    milp: siting.Solution | None  # None with the greedy solver
    stops: pd.DataFrame  # STOP_COLUMNS, in the order of what each stop adds
    demand_total: float  # weight of the scope
    covered_today: float  # ... within `minutes` of a fixed place today
    covered_with_stops: float  # ... once the stops are added
    still_out_of_reach: float  # demand_total - covered_with_stops
    communes: pd.DataFrame  # per commune of the scope: today and with the stops
    new_cells: pd.DataFrame  # cells the stops bring within reach: cell_id, code_insee, ...

    @property
    def best(self) -> siting.Solution:
        """The solution whose stops are shown: HiGHS's when it ran and found one, else the
        greedy's (when HiGHS proved the rules cannot all hold, the greedy's partial answer
        and its ``unmet`` list are what a planner can use)."""
        if self.milp is not None and self.milp.status != "infeasible":
            return self.milp
        return self.greedy

    @property
    def scope(self) -> list[str] | None:
        return None if self.request.scope is None else list(self.request.scope)

    @property
    def scope_label(self) -> str:
        return "toute la Martinique" if self.scope is None else ", ".join(self.scope)

    def share(self, value: float) -> float:
        """``value`` as a share of the scope's demand (0 when the scope weighs nothing)."""
        return value / self.demand_total if self.demand_total > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """What ``maillage propose-stops --json`` prints (plain, JSON-ready types)."""
        r = self.request
        return {
            "mode": r.mode, "minutes": r.minutes, "weight": dict(r.weights),
            "weight_label": self.weight_label, "model": r.model, "p": r.p, "share": r.share,
            "scope": self.scope, "places": r.places, "solver": r.solver,
            "time_limit": r.time_limit, "equity": r.equity.as_dict(),
            "unmet": self.best.unmet, "unmet_fr": self.best.unmet_fr,
            "n_candidates": self.n_candidates, "n_usable": self.n_usable,
            "n_cells": self.n_cells, "demand_total": self.demand_total,
            "covered_today": self.covered_today, "covered_with_stops": self.covered_with_stops,
            "still_out_of_reach": self.still_out_of_reach,
            "greedy": self.greedy.as_dict(),
            "milp": None if self.milp is None else self.milp.as_dict(),
            "stops": _records(self.stops[STOP_COLUMNS]),
            "communes": _records(self.communes),
            "new_cells": _records(self.new_cells),
        }


def _plain(v: Any) -> Any:
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


class StopsService:
    """The proposed-stops analysis: communes at hand, island instances loaded on demand.

    An instance (grid, fixed places, candidates and the cell → candidate reach of one
    mode) is loaded once per ``(mode, places)`` and kept (at most
    :data:`MAX_INSTANCES`); its reach goes up to ``reach_minutes`` (a page loads it once
    for every slider value) or, without, to the minutes first asked (the CLI). A request
    for more minutes than the kept reach reloads it further. Instances are read-only,
    so one service may answer concurrent visitors.
    """

    def __init__(self, s: Settings, communes: pd.DataFrame, *,
                 reach_minutes: float | None = None,
                 loader: Callable[..., siting.Instance] | None = None) -> None:
        self.settings = s
        self.communes = communes
        self.reach_minutes = reach_minutes
        self._loader = loader
        self._instances: OrderedDict[tuple[str, str], siting.Instance] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, s: Settings | None = None, *,
             reach_minutes: float | None = None) -> StopsService:
        """The service on the island's data (the communes now, instances when asked)."""
        from geo import communes as communes_mod

        s = s or settings_mod.get()
        return cls(s, communes_mod.load(s), reach_minutes=reach_minutes)

    def has_instance(self, mode: str, places: str = "all", minutes: float = 0.0) -> bool:
        """Whether :meth:`instance` would answer without loading anything."""
        inst = self._instances.get((mode, places))
        return inst is not None and inst.reach.cutoff >= minutes * 60.0 - 1e-9

    def instance(self, mode: str, places: str = "all",
                 minutes: float = 0.0) -> siting.Instance:
        """The ``(mode, places)`` instance with a reach of at least ``minutes``."""
        key = (mode, places)
        with self._lock:
            inst = self._instances.get(key)
            if inst is None or inst.reach.cutoff < minutes * 60.0 - 1e-9:
                cutoff = max(float(minutes), float(self.reach_minutes or 0.0))
                if inst is not None:
                    cutoff = max(cutoff, inst.reach.cutoff / 60.0)
                loader = self._loader
                if loader is None:
                    from geo import siting_instance

                    loader = siting_instance.load
                inst = loader(mode, cutoff, self.settings, places=places)
                self._instances[key] = inst
            self._instances.move_to_end(key)
            while len(self._instances) > MAX_INSTANCES:
                self._instances.popitem(last=False)
            return inst

    def run(self, request: StopsRequest) -> StopsResult:
        """Answer ``request`` (checked first, in French, before anything is loaded)."""
        req = request.validated(self.communes)
        codes = None if req.scope is None else list(req.scope)
        inst = self.instance(req.mode, req.places, req.minutes)
        prob = inst.problem(req.model, req.minutes, req.weights, codes, p=req.p,
                            share=req.share, equity=req.equity)
        greedy = prob.solve(siting.Greedy())
        milp = (prob.solve(siting.Highs(time_limit=req.time_limit)) if req.solver == "highs"
                else None)
        best = milp if milp is not None and milp.status != "infeasible" else greedy

        names = self.communes.set_index("code_insee")["nom"]
        stops = inst.stops(best)
        stops["commune"] = stops["code_insee"].map(names).fillna(stops["code_insee"])

        dem = inst.dem
        w = inst.weights(req.weights, req.minutes)
        in_scope = (dem["code_insee"].isin(codes).to_numpy() if codes is not None
                    else np.ones(len(dem), dtype=bool))
        today = in_scope & ~inst.uncovered(req.minutes)
        new = in_scope & inst.newly_covered(best, req.minutes)
        with_stops = today | new
        return StopsResult(
            request=req, weight_label=siting.weight_label(req.weights),
            n_candidates=len(inst.candidates), n_usable=int(inst.usable.sum()),
            n_cells=len(dem), greedy=greedy, milp=milp, stops=stops,
            demand_total=float(w[in_scope].sum()), covered_today=float(w[today].sum()),
            covered_with_stops=float(w[with_stops].sum()),
            still_out_of_reach=float(w[in_scope & ~with_stops].sum()),
            communes=_by_commune(dem, w, in_scope, today, with_stops),
            new_cells=_cells(dem, w, new),
        )


def _by_commune(dem: pd.DataFrame, w: np.ndarray, in_scope: np.ndarray, today: np.ndarray,
                with_stops: np.ndarray) -> pd.DataFrame:
    """Per commune of the scope: weight, people and seniors, today and with the stops."""
    df = pd.DataFrame({
        "code_insee": dem["code_insee"].to_numpy(), "commune": dem["commune"].to_numpy(),
        "epci": dem["epci"].to_numpy()})
    for name, values in (("demand", w), ("population", dem["population"].to_numpy()),
                         ("seniors", np.nan_to_num(dem["seniors"].to_numpy(np.float64)))):
        df[name] = values
        df[f"{name}_today"] = np.where(today, values, 0.0)
        df[f"{name}_with_stops"] = np.where(with_stops, values, 0.0)
    out = (df[in_scope].groupby(["code_insee", "commune", "epci"], as_index=False, sort=True)
           .sum(numeric_only=True))
    for name in ("demand", "population", "seniors"):
        total = out[name].to_numpy()
        for when in ("today", "with_stops"):
            part = out[f"{name}_{when}"].to_numpy()
            out[f"{name}_{when}_pct"] = np.where(total > 0, 100.0 * part / np.where(
                total > 0, total, 1.0), np.nan)
    return out.reset_index(drop=True)


def _cells(dem: pd.DataFrame, w: np.ndarray, mask: np.ndarray) -> pd.DataFrame:
    """The cells of ``mask``: id, commune, weight and position (lon, lat)."""
    from analysis import snap

    xy = dem[["x", "y"]].to_numpy(dtype=np.float64)[mask]
    ll = snap.to_lonlat(xy) if len(xy) else np.zeros((0, 2))
    return pd.DataFrame({
        "cell_id": dem["cell_id"].to_numpy()[mask],
        "code_insee": dem["code_insee"].to_numpy()[mask], "weight": w[mask],
        "lon": np.round(ll[:, 0], 6), "lat": np.round(ll[:, 1], 6)})
