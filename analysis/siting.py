"""Where the mobile workshops should stop: covering models on the demand left uncovered.

A stop *covers* a populated 200 m cell when people of the cell reach it within
``T`` minutes (walking by default: people come to a van on foot). The demand
that counts is the weight of the cells **not** already within ``T`` of a fixed
place; the fixed places therefore count as covering in both models.

* :class:`MaximalCovering` (MCLP): ``p`` stops maximising the weight newly covered.
* :class:`SetCovering` (LSCP, partial): the fewest stops covering a share of the
  weight uncovered today.

Both take equity rules (:class:`Equity`, applied by :class:`Rules`): at least / at
most ``k`` stops per commune or per EPCI, and stops at least ``d`` metres apart. The
greedy respects them while choosing (it keeps the last picks for the minima still
unmet and never picks a candidate that would break a maximum or the distance rule)
and reports every minimum it could not meet (``Solution.info["unmet"]``); the MILP
adds them as linear rows (group sums; the distance rule as clique rows for the
candidates sharing a square of side ``d/√2`` and pair rows for the other conflicting
pairs, found with a KD-tree).

Each model is built from a coverage matrix (:meth:`from_cost_matrix`, dense
seconds, or :meth:`from_reach`, sparse) and solved with a solver given as an
argument (``model.solve(Greedy())``, ``model.solve(Highs(time_limit=30))``), as in
PySAL spopt. The greedy answer is instant (sparse, vectorised); the MILP answer
comes from HiGHS within a time limit and is reported honestly: its status is
``optimal`` only when HiGHS proved it, and always carries the best bound and the
gap. Every objective reported is recomputed from the chosen stops, never copied
from the solver.

:func:`reach` computes the sparse matrix of walking (or driving) times from the
cells to the candidates with the engine of :mod:`analysis.routing`.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from analysis import routing
from analysis.arrays import ranges
from analysis.graph import Graph
from analysis.snap import Snapped
from maillage import fmt
from maillage.errors import MaillageError

#: Minutes beyond the threshold at which the « far » weight counts a person fully.
FAR_CAP_MIN = 30.0

#: Weight keys → French label of what is counted.
WEIGHTS: dict[str, str] = {
    "population": "habitants",
    "seniors": "personnes de 65 ans et plus",
    "age_80p": "personnes de 80 ans et plus",
    "poor": "ménages pauvres",
    "fragility": "habitants pondérés par la fragilité numérique",
    "far": "habitants pondérés par leur éloignement",
}
#: Weight key → French description of what it counts (shown next to the choice).
WEIGHT_HELP: dict[str, str] = {
    "population": "Tous les habitants du carreau de 200 m (Insee, Filosofi 2017).",
    "seniors": "Les personnes de 65 ans et plus du carreau (65-79 ans et 80 ans et plus).",
    "age_80p": "Les personnes de 80 ans et plus du carreau, souvent les moins mobiles.",
    "poor": "Les ménages pauvres du carreau (sous le seuil de pauvreté, Filosofi 2017).",
    "fragility": "Les habitants multipliés par l'indice de fragilité numérique de leur IRIS "
                 "(100 = moyenne de la Martinique) : un IRIS plus fragile pèse plus.",
    "far": "Les habitants pondérés par le temps qu'il leur faut aujourd'hui pour rejoindre le "
           "lieu fixe le plus proche : 0 au seuil choisi, 1 à "
           f"{FAR_CAP_MIN:g} minutes ou plus au-delà du seuil (ou hors de portée), "
           "proportionnellement entre les deux. Favorise les personnes loin de tout.",
}
#: Weight key → grid column (fragility is population × IRIS score / 100; « far » is
#: computed for the threshold asked, see :func:`far_weight`).
WEIGHT_COLUMNS = {
    "population": "population", "seniors": "seniors", "age_80p": "age_80p",
    "poor": "poor_households", "fragility": "fragility_weight", "far": "far_weight",
}
_ALIASES = {"people": "population", "habitants": "population", "65+": "seniors",
            "80+": "age_80p", "80p": "age_80p", "pauvres": "poor", "poor_households": "poor",
            "fragilite": "fragility", "fragilité": "fragility", "loin": "far",
            "eloignes": "far", "éloignés": "far", "loin_de_tout": "far",
            "far_from_everything": "far"}

#: Candidates evaluated per Dijkstra batch in :func:`reach`.
CHUNK = 128
#: Gains below this are treated as zero (float residue of the greedy updates).
EPS = 1e-9

#: Status codes → French wording shown to planners.
STATUS_FR = {
    "optimal": "optimale (prouvée par le solveur)",
    "time_limit": "limite de temps atteinte : meilleure solution trouvée, optimalité non prouvée",
    "heuristic": "heuristique gloutonne : sans preuve d'optimalité",
    "interrupted": "interrompue : meilleure solution trouvée, optimalité non prouvée",
    "infeasible": "impossible : aucune solution ne respecte toutes les contraintes",
    "unknown": "non garantie : le solveur n'a pas confirmé cette solution",
}


class SitingError(MaillageError):
    """A siting request that cannot be answered (bad parameter, unreachable share)."""


# --------------------------------------------------------------------------- demand


def pct(share: float, decimals: int = 0) -> str:
    """A share as a French percentage (``0.805`` → ``80,5 %``)."""
    return fmt.percent(share, decimals, share=True)


def parse_weight(text: str | dict[str, float]) -> dict[str, float]:
    """``"seniors"`` or ``"seniors=2,poor=1"`` (a weighted mix) → {key: coefficient}."""
    if isinstance(text, dict):
        items = list(text.items())
    else:
        items = []
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            key, _, coef = part.partition("=")
            try:
                items.append((key.strip(), float(coef) if coef else 1.0))
            except ValueError:
                raise SitingError(f"Coefficient illisible dans « {part} » : écrivez par exemple "
                                  "seniors=2,poor=1.") from None
    mix: dict[str, float] = {}
    for key, coef in items:
        key = _ALIASES.get(key.lower(), key.lower())
        if key not in WEIGHTS:
            raise SitingError(f"Pondération inconnue : « {key} ». Choisissez parmi "
                              f"{', '.join(WEIGHTS)} (ou un mélange, ex. seniors=2,poor=1).")
        if not np.isfinite(coef) or coef < 0:
            raise SitingError(f"Le coefficient de « {key} » doit être un nombre positif.")
        mix[key] = mix.get(key, 0.0) + float(coef)
    if not mix or sum(mix.values()) <= 0:
        raise SitingError("Pondération vide : choisissez au moins un critère (ex. seniors).")
    return mix


def weight_label(mix: dict[str, float]) -> str:
    """French description of a weight or a mix."""
    if len(mix) == 1 and next(iter(mix.values())) == 1.0:
        return WEIGHTS[next(iter(mix))]
    return " + ".join(f"{c:g} × {WEIGHTS[k]}" for k, c in mix.items())


def far_weight(population: np.ndarray, seconds: np.ndarray, minutes: float,
               cap_min: float = FAR_CAP_MIN) -> np.ndarray:
    """People weighted by how far beyond ``minutes`` they live today (the « far » weight).

    ``population × min(max(t − minutes, 0), cap) / cap`` with ``t`` today's time (minutes)
    to the nearest fixed place; out of reach (``inf``) counts fully.
    """
    t = np.asarray(seconds, dtype=np.float64) / 60.0
    beyond = np.clip(np.where(np.isfinite(t), t - float(minutes), np.inf), 0.0, cap_min)
    return np.nan_to_num(np.asarray(population, dtype=np.float64)) * beyond / cap_min


def demand(dem: pd.DataFrame, mix: dict[str, float], far: np.ndarray | None = None
           ) -> np.ndarray:
    """Weight of every demand row: Σ coefficient × column.

    ``dem`` has the measures of :func:`analysis.coverage.demand` and, for the
    fragility weight, ``fragility_weight`` (people × IRIS score / 100); the « far »
    weight takes ``far`` (:func:`far_weight`, or a ``far_weight`` column).
    """
    w = np.zeros(len(dem))
    for key, coef in mix.items():
        col = WEIGHT_COLUMNS[key]
        if key == "far" and far is not None:
            values = np.asarray(far, dtype=np.float64)
        elif col in dem:
            values = dem[col].to_numpy(dtype=np.float64)
        elif key == "far":
            raise SitingError("La pondération « loin de tout » demande les temps de trajet "
                              "d'aujourd'hui jusqu'aux lieux fixes.")
        else:
            raise SitingError("La pondération par fragilité demande l'indice de fragilité "
                              "numérique par carreau.")
        w += coef * np.nan_to_num(values)
    return w


def resolve_scope(text: str | None, communes: pd.DataFrame) -> list[str] | None:
    """Commune codes of a scope: ``None``/island, an EPCI (short name or SIREN), or codes.

    Several items may be joined with commas (``97209,97213`` or ``CACEM,Espace Sud``).
    """
    if text is None or str(text).strip().lower() in ("", "island", "ile", "île", "martinique",
                                                     "972"):
        return None
    codes: list[str] = []
    epci = {str(k).lower(): v for k, v in communes.groupby("epci_court")["code_insee"]}
    siren = dict(list(communes.groupby(communes["epci_siren"].astype(str))["code_insee"]))
    known = set(communes["code_insee"].astype(str))
    for item in (x.strip() for x in str(text).split(",")):
        if not item:
            continue
        if item.lower() in epci:
            codes += list(epci[item.lower()])
        elif item in siren:
            codes += list(siren[item])
        elif item in known:
            codes.append(item)
        else:
            raise SitingError(
                f"Territoire inconnu : « {item} ». Donnez un EPCI "
                f"({', '.join(sorted(communes['epci_court'].unique()))}) ou un code INSEE de "
                "commune (97201 à 97234), éventuellement séparés par des virgules.")
    return sorted(set(codes))


# --------------------------------------------------------------------------- reach


@dataclass(frozen=True)
class Reach:
    """Sparse travel times from demand cells to candidate stops, up to ``cutoff`` seconds."""

    cand: np.ndarray  # (nnz,) candidate row
    cell: np.ndarray  # (nnz,) cell column
    seconds: np.ndarray  # (nnz,) time from the cell to the candidate
    n_cand: int
    n_cell: int
    cutoff: float

    def covering(self, seconds: float) -> sparse.csr_matrix:
        """Boolean coverage (candidates × cells) within ``seconds`` (≤ the cutoff)."""
        if seconds > self.cutoff + 1e-9:
            raise SitingError(f"Seuil de {seconds / 60:.0f} min au-delà des "
                              f"{self.cutoff / 60:.0f} min calculées.")
        keep = self.seconds <= seconds
        return sparse.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float64), (self.cand[keep], self.cell[keep])),
            shape=(self.n_cand, self.n_cell))

    @classmethod
    def from_dense(cls, seconds: np.ndarray, cutoff: float = np.inf) -> Reach:
        """From a dense (candidates × cells) matrix of seconds, inf = unreachable."""
        seconds = np.asarray(seconds, dtype=np.float64)
        i, j = np.nonzero(np.isfinite(seconds) & (seconds <= cutoff))
        return cls(i, j, seconds[i, j], seconds.shape[0], seconds.shape[1], float(cutoff))


def reversed_graph(g: Graph) -> Graph:
    """The graph with every arc reversed: times *from* it are times *to* the original points."""
    rev = g.csr_rev
    rev_len = g.csr_length.T.tocsr()
    return dataclasses.replace(
        g, indptr=rev.indptr, indices=rev.indices, weight=rev.data, length=rev_len.data,
        edge_fwd=g.edge_bwd, edge_bwd=g.edge_fwd,
    )


def reach(g: Graph, candidates: Snapped, cells: Snapped, cutoff: float,
          access_s: np.ndarray | None = None) -> Reach:
    """Times from every cell to every candidate within ``cutoff`` seconds, as sparse triplets.

    One bounded Dijkstra per candidate on the reversed graph (batches of :data:`CHUNK`),
    so one-way streets are followed in the direction people travel. ``access_s`` (the
    walk from each cell centre to its road, as in :mod:`analysis.coverage`) is added.
    Cells or candidates whose snap is not ``ok`` reach nothing.
    """
    access = np.zeros(len(cells)) if access_s is None else np.asarray(access_s, np.float64)
    grev = reversed_graph(g)
    rows, cols, secs = [], [], []
    ok_c = np.flatnonzero(candidates.ok)
    ok_t = np.flatnonzero(cells.ok)
    tgt = cells.take(ok_t)
    for lo in range(0, len(ok_c), CHUNK):
        idx = ok_c[lo: lo + CHUNK]
        t = routing.matrix(grev, candidates.take(idx), tgt, cutoff)
        t = t + access[ok_t]
        i, j = np.nonzero(t <= cutoff)
        rows.append(idx[i])
        cols.append(ok_t[j])
        secs.append(t[i, j])
    return Reach(_cat(rows, np.int64), _cat(cols, np.int64), _cat(secs, np.float64),
                 len(candidates), len(cells), float(cutoff))


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


# --------------------------------------------------------------------------- equity


#: Largest distance between stops a request may ask for (metres).
MAX_DISTANCE_M = 50_000.0


@dataclass(frozen=True)
class Equity:
    """Equity rules of a proposal (all optional): stops per commune / EPCI, spacing.

    ``min_per_commune`` / ``min_per_epci`` apply to every commune / EPCI of the scope;
    ``max_per_*`` to every one; ``min_distance_m`` is the least straight-line distance
    between two stops (metres, EPSG:5490).
    """

    min_per_commune: int = 0
    max_per_commune: int | None = None
    min_per_epci: int = 0
    max_per_epci: int | None = None
    min_distance_m: float = 0.0

    def __post_init__(self) -> None:
        for name, label in (("commune", "par commune"), ("epci", "par EPCI")):
            lo, hi = getattr(self, f"min_per_{name}"), getattr(self, f"max_per_{name}")
            if not _whole(lo) or lo < 0:
                raise SitingError(f"Minimum d'arrêts {label} invalide : {lo} (un entier, 0 ou "
                                  "plus).")
            if hi is not None and (not _whole(hi) or hi < 1):
                raise SitingError(f"Maximum d'arrêts {label} invalide : {hi} (un entier, 1 "
                                  "ou plus, ou rien pour ne pas limiter).")
            if hi is not None and hi < lo:
                raise SitingError(f"Le maximum d'arrêts {label} ({hi}) est plus petit que le "
                                  f"minimum ({lo}).")
        d = self.min_distance_m
        if not isinstance(d, int | float) or not np.isfinite(d) or not 0 <= d <= MAX_DISTANCE_M:
            raise SitingError(f"Distance minimale entre arrêts invalide : {d} (en mètres, entre "
                              f"0 et {MAX_DISTANCE_M:,.0f}).".replace(",", "\u202f"))

    @property
    def active(self) -> bool:
        return bool(self.min_per_commune or self.max_per_commune is not None
                    or self.min_per_epci or self.max_per_epci is not None
                    or self.min_distance_m > 0)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _whole(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


@dataclass
class Rules:
    """:class:`Equity` applied to the candidates of one model (see :meth:`build`).

    Group indices: ``commune[i]`` / ``epci[i]`` of candidate ``i`` (-1: none),
    ``commune_epci[c]`` the EPCI of commune group ``c``. ``min_*`` / ``max_*`` are per
    group (``max`` = :data:`NO_MAX` when unbounded); ``labels`` name the groups in French.
    """

    commune: np.ndarray
    epci: np.ndarray
    commune_epci: np.ndarray
    commune_codes: tuple[str, ...]
    epci_codes: tuple[str, ...]
    min_commune: np.ndarray
    max_commune: np.ndarray
    min_epci: np.ndarray
    max_epci: np.ndarray
    xy: np.ndarray
    min_distance: float
    equity: Equity
    labels: dict[str, str] = field(default_factory=dict)

    NO_MAX = np.iinfo(np.int64).max // 4

    @classmethod
    def build(cls, equity: Equity, commune_of: Sequence[str], epci_of: dict[str, str],
              xy: np.ndarray, scope: Sequence[str], labels: dict[str, str] | None = None
              ) -> Rules:
        """Rules for candidates in communes ``commune_of`` (codes) at ``xy`` (metres).

        ``epci_of`` maps a commune code to its EPCI; the minima apply to the communes of
        ``scope`` and to their EPCIs.
        """
        commune_of = [str(c) for c in commune_of]
        scope = sorted({str(c) for c in scope})
        codes = tuple(sorted(set(commune_of) | set(scope)))
        epcis = tuple(sorted({epci_of.get(c, "") for c in codes} - {""}))
        cidx = {c: i for i, c in enumerate(codes)}
        eidx = {e: i for i, e in enumerate(epcis)}
        commune = np.array([cidx[c] for c in commune_of], dtype=np.int64)
        commune_epci = np.array([eidx.get(epci_of.get(c, ""), -1) for c in codes],
                                dtype=np.int64)
        epci = commune_epci[commune] if len(commune) else np.zeros(0, dtype=np.int64)
        in_scope = np.isin(np.array(codes, dtype=object), scope)
        scope_epci = np.zeros(len(epcis), dtype=bool)
        scope_epci[commune_epci[in_scope & (commune_epci >= 0)]] = True
        def most(value: int | None, k: int) -> np.ndarray:
            return np.full(k, cls.NO_MAX if value is None else int(value), dtype=np.int64)

        return cls(
            commune=commune, epci=epci, commune_epci=commune_epci, commune_codes=codes,
            epci_codes=epcis,
            min_commune=np.where(in_scope, equity.min_per_commune, 0).astype(np.int64),
            max_commune=most(equity.max_per_commune, len(codes)),
            min_epci=np.where(scope_epci, equity.min_per_epci, 0).astype(np.int64),
            max_epci=most(equity.max_per_epci, len(epcis)),
            xy=np.asarray(xy, dtype=np.float64).reshape(-1, 2),
            min_distance=float(equity.min_distance_m), equity=equity,
            labels=dict(labels or {}))

    # -- counting

    def counts(self, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stops per commune group and per EPCI group."""
        sel = np.asarray(selected, dtype=np.int64)
        c, e = self.commune[sel], self.epci[sel]
        return (np.bincount(c[c >= 0], minlength=len(self.commune_codes)),
                np.bincount(e[e >= 0], minlength=len(self.epci_codes)))

    def needed(self, min_c: np.ndarray | None = None, min_e: np.ndarray | None = None) -> int:
        """Fewest stops meeting the minima (a stop counts for its commune and its EPCI)."""
        dc = self.min_commune if min_c is None else min_c
        de = self.min_epci if min_e is None else min_e
        return int(self._need(dc, de)[0])

    def _need(self, dc: np.ndarray, de: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """(stops still needed, need per EPCI, sum of commune deficits per EPCI)."""
        ce = self.commune_epci
        inside = np.bincount(ce[ce >= 0], weights=dc[ce >= 0],
                             minlength=len(self.epci_codes)).astype(np.int64)
        need_e = np.maximum(de, inside)
        return int(need_e.sum() + dc[ce < 0].sum()), need_e, inside

    def reducing(self, dc: np.ndarray, de: np.ndarray) -> np.ndarray:
        """Candidates whose pick lowers the number of stops the minima still need."""
        _, need_e, inside = self._need(dc, de)
        c, e = self.commune, self.epci
        has_c = c >= 0
        dci = np.where(has_c, dc[np.maximum(c, 0)], 0)
        out = np.zeros(len(c), dtype=bool)
        on_e = e >= 0
        ei = np.maximum(e, 0)
        if len(self.epci_codes):
            de_i, in_i, ne_i = de[ei], inside[ei], need_e[ei]
            after = np.maximum(de_i - (de_i > 0), in_i - (dci > 0))
            out[on_e] = (after < ne_i)[on_e]
        out[~on_e] = (dci > 0)[~on_e]
        return out

    def achievable(self, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The minima capped by the number of eligible candidates of each group."""
        el = np.asarray(eligible, dtype=bool)
        have_c, have_e = self.counts(np.flatnonzero(el))
        return np.minimum(self.min_commune, have_c), np.minimum(self.min_epci, have_e)

    # -- distance

    def conflicts(self, rows: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """The distance rule on candidate ``rows``: cliques (lists of positions in ``rows``
        sharing a square of side ``d/√2``) and the other pairs closer than ``d``."""
        rows = np.asarray(rows, dtype=np.int64)
        d = self.min_distance
        if d <= 0 or len(rows) < 2:
            return [], np.zeros((0, 2), dtype=np.int64)
        from scipy.spatial import cKDTree

        xy = self.xy[rows]
        side = d / np.sqrt(2.0) * (1.0 - 1e-9)
        key = np.floor(xy / side).astype(np.int64)
        _, square = np.unique(key, axis=0, return_inverse=True)
        square = square.ravel()
        order = np.argsort(square, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(square[order]) != 0, True])
        cliques = [order[a:b] for a, b in itertools.pairwise(bounds) if b - a >= 2]
        pairs = cKDTree(xy).query_pairs(np.nextafter(d, 0), output_type="ndarray")
        if len(pairs):
            pairs = pairs[square[pairs[:, 0]] != square[pairs[:, 1]]]
        return cliques, np.asarray(pairs, dtype=np.int64).reshape(-1, 2)

    # -- checking an answer

    def unmet(self, selected: np.ndarray) -> list[dict[str, Any]]:
        """Every rule ``selected`` breaks: minima not reached, maxima exceeded, stops too close."""
        sel = np.asarray(selected, dtype=np.int64)
        cc, ce = self.counts(sel)
        out: list[dict[str, Any]] = []
        for level, codes, count, lo, hi in (
                ("commune", self.commune_codes, cc, self.min_commune, self.max_commune),
                ("epci", self.epci_codes, ce, self.min_epci, self.max_epci)):
            for g in np.flatnonzero(count < lo):
                out.append({"rule": f"min_per_{level}", "code": codes[g],
                            "name": self.labels.get(codes[g], codes[g]),
                            "wanted": int(lo[g]), "got": int(count[g])})
            for g in np.flatnonzero(count > hi):
                out.append({"rule": f"max_per_{level}", "code": codes[g],
                            "name": self.labels.get(codes[g], codes[g]),
                            "wanted": int(hi[g]), "got": int(count[g])})
        if self.min_distance > 0 and len(sel) >= 2:
            from scipy.spatial import cKDTree

            close = cKDTree(self.xy[sel]).query_pairs(np.nextafter(self.min_distance, 0),
                                                      output_type="ndarray")
            for a, b in close:
                out.append({"rule": "min_distance", "code": "", "name": "",
                            "wanted": float(self.min_distance),
                            "got": float(np.hypot(*(self.xy[sel[a]] - self.xy[sel[b]]))),
                            "stops": [int(sel[a]), int(sel[b])]})
        return out


def unmet_fr(item: dict[str, Any]) -> str:
    """One broken rule (:meth:`Rules.unmet`) in French."""
    rule = item["rule"]
    if rule == "min_distance":
        return (f"deux arrêts sont à {fmt.number(item['got'])} m l'un de l'autre (minimum "
                f"{fmt.number(item['wanted'])} m)")
    if rule == "share":
        return (f"la part visée n'est pas atteinte : {pct(item['got'], 1)} au lieu de "
                f"{pct(item['wanted'])}")
    where = "la commune" if rule.endswith("commune") else "l'EPCI"
    if rule.startswith("min"):
        return (f"{where} {item['name']} n'a que {fmt.plural(item['got'], 'arrêt')} au lieu "
                f"d'au moins {item['wanted']} (pas assez de candidats utilisables)")
    return f"{where} {item['name']} a {fmt.plural(item['got'], 'arrêt')} (au plus {item['wanted']})"


def _greedy_rules(a: sparse.csr_matrix, w: np.ndarray, p: int, target: float | None,
                  rules: Rules, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_greedy` keeping to ``rules`` among the ``eligible`` candidates.

    Never picks a candidate that would exceed a maximum or stand closer than the
    distance rule to a chosen stop; once the picks left are just enough for the minima
    still unmet (or nothing else adds weight, or the target is reached), picks only
    candidates that bring a minimum closer (the one adding most weight). Minima with
    too few eligible candidates are capped (reported by :meth:`Rules.unmet`).
    """
    from scipy.spatial import cKDTree

    a = a.tocsr()
    at = a.T.tocsr()
    n = a.shape[0]
    rem = np.asarray(w, dtype=np.float64).copy()
    gains = a @ rem
    allowed = np.asarray(eligible, dtype=bool).copy()
    min_c, min_e = rules.achievable(allowed)
    cc = np.zeros(len(rules.commune_codes), dtype=np.int64)
    ce = np.zeros(len(rules.epci_codes), dtype=np.int64)
    allowed &= ~((rules.commune >= 0) & (rules.max_commune[np.maximum(rules.commune, 0)] <= 0))
    tree = cKDTree(rules.xy) if rules.min_distance > 0 and n else None
    radius = np.nextafter(rules.min_distance, 0)
    chosen: list[int] = []
    added: list[float] = []
    total = 0.0
    limit = n if p is None else p
    while len(chosen) < limit and allowed.any():
        dc, de = np.maximum(min_c - cc, 0), np.maximum(min_e - ce, 0)
        needed = rules._need(dc, de)[0]
        reached = target is not None and total >= target - EPS * max(1.0, target)
        if reached and needed == 0:
            break
        score = np.where(allowed, gains, -np.inf)
        forced = False
        if needed > 0 and (needed >= limit - len(chosen) or reached or score.max() <= EPS):
            pool = allowed & rules.reducing(dc, de)
            if pool.any():
                score = np.where(pool, gains, -np.inf)
                forced = True
        i = int(np.argmax(score))
        if score[i] <= EPS and not forced:
            break
        cells = a.indices[a.indptr[i]: a.indptr[i + 1]]
        new = cells[rem[cells] > 0]
        gain = float(rem[new].sum())
        lo, hi = at.indptr[new], at.indptr[new + 1]
        counts = hi - lo
        rows = at.indices[ranges(lo, counts)]
        gains -= np.bincount(rows, weights=np.repeat(rem[new], counts), minlength=n)
        rem[new] = 0.0
        gains[i] = 0.0
        chosen.append(i)
        added.append(gain)
        total += gain
        allowed[i] = False
        c, e = rules.commune[i], rules.epci[i]
        if c >= 0:
            cc[c] += 1
            if cc[c] >= rules.max_commune[c]:
                allowed[rules.commune == c] = False
        if e >= 0:
            ce[e] += 1
            if ce[e] >= rules.max_epci[e]:
                allowed[rules.epci == e] = False
        if tree is not None:
            allowed[tree.query_ball_point(rules.xy[i], radius)] = False
    return np.asarray(chosen, dtype=np.int64), np.asarray(added, dtype=np.float64)


def _rule_rows(rules: Rules, cands: np.ndarray, n_cols: int, min_c: np.ndarray,
               min_e: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """MILP rows of ``rules`` on the x columns ``0..len(cands)`` (of ``n_cols`` columns).

    Group rows ``min ≤ Σ_{i ∈ g} x_i ≤ max`` (only the groups with a bound), then the
    distance rule: one row ``Σ x_i ≤ 1`` per clique and per remaining pair.
    """
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []
    r = 0
    for group, lo, hi in ((rules.commune[cands], min_c, rules.max_commune),
                          (rules.epci[cands], min_e, rules.max_epci)):
        for g in range(len(lo)):
            bounded_hi = hi[g] < Rules.NO_MAX
            if lo[g] <= 0 and not bounded_hi:
                continue
            members = np.flatnonzero(group == g)
            rows.append(np.full(len(members), r))
            cols.append(members)
            lower.append(float(lo[g]))
            upper.append(float(hi[g]) if bounded_hi else np.inf)
            r += 1
    cliques, pairs = rules.conflicts(cands)
    for members in cliques:
        rows.append(np.full(len(members), r))
        cols.append(members)
        lower.append(-np.inf)
        upper.append(1.0)
        r += 1
    if len(pairs):
        k = len(pairs)
        rows.append(np.repeat(np.arange(r, r + k), 2))
        cols.append(pairs.ravel())
        lower += [-np.inf] * k
        upper += [1.0] * k
        r += k
    ri = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    ci = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    mat = sparse.csr_matrix((np.ones(len(ri)), (ri, ci)), shape=(r, n_cols))
    return mat, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


# --------------------------------------------------------------------------- solutions


@dataclass
class Solution:
    """A set of stops and what it is worth.

    ``objective`` is recomputed from ``selected`` (weight newly covered for the MCLP,
    number of stops for the LSCP); ``bound`` is the best bound known (upper for the
    MCLP, lower for the LSCP) and ``gap`` the relative distance between them.
    """

    model: str  # "mclp" or "lscp"
    method: str  # "greedy" or "highs"
    selected: np.ndarray  # candidate rows, in the order of their marginal gain
    gains: np.ndarray  # weight each stop adds after the previous ones
    covered: float  # weight newly covered by all the stops
    objective: float
    bound: float | None
    gap: float | None
    status: str
    seconds: float
    total: float  # weight uncovered today in the scope
    coverable: float  # part of it that some candidate can cover
    solver_objective: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def status_fr(self) -> str:
        return STATUS_FR.get(self.status, self.status)

    @property
    def share(self) -> float:
        """Share of today's uncovered weight that the stops cover."""
        return self.covered / self.total if self.total > 0 else 0.0

    @property
    def unmet(self) -> list[dict[str, Any]]:
        """The equity rules (or the LSCP share) this answer does not meet (:meth:`Rules.unmet`)."""
        return list(self.info.get("unmet", []))

    @property
    def unmet_fr(self) -> list[str]:
        """The same in French sentences."""
        return [unmet_fr(u) for u in self.unmet]

    def as_dict(self) -> dict[str, Any]:
        """Plain types, for ``--json``."""
        return {
            "model": self.model, "method": self.method, "status": self.status,
            "status_fr": self.status_fr, "selected": [int(i) for i in self.selected],
            "gains": [float(g) for g in self.gains], "covered": float(self.covered),
            "objective": float(self.objective),
            "bound": None if self.bound is None else float(self.bound),
            "gap": None if self.gap is None else float(self.gap),
            "seconds": round(self.seconds, 3), "total": float(self.total),
            "coverable": float(self.coverable), "share": self.share,
            "solver_objective": self.solver_objective, **self.info,
        }


def covered_weight(a: sparse.csr_matrix, w: np.ndarray, selected: np.ndarray) -> float:
    """Weight of the cells covered by at least one of the ``selected`` rows of ``a``."""
    selected = np.asarray(selected, dtype=np.int64)
    if not len(selected):
        return 0.0
    hit = np.zeros(a.shape[1], dtype=bool)
    hit[a[selected].indices] = True
    return float(w[hit].sum())


def sequence(a: sparse.csr_matrix, w: np.ndarray,
             selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``selected`` rows ordered greedily, each with the weight it adds after the previous."""
    sub = a[np.asarray(selected, dtype=np.int64)]
    order, gains = _greedy(sub, w, len(selected), target=None)
    rest = np.setdiff1d(np.arange(len(selected)), order, assume_unique=True)
    order = np.concatenate([order, rest]).astype(np.int64)
    gains = np.concatenate([gains, np.zeros(len(rest))])
    return np.asarray(selected, dtype=np.int64)[order], gains


def _greedy(a: sparse.csr_matrix, w: np.ndarray, p: int,
            target: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Pick rows of ``a`` one by one by largest marginal weight (lowest index on ties).

    Stops after ``p`` rows, when nothing more can be gained, or (``target``) once the
    covered weight reaches it. Marginal gains are kept up to date with sparse updates:
    only the candidates sharing a newly covered cell change.
    """
    a = a.tocsr()
    at = a.T.tocsr()
    rem = np.asarray(w, dtype=np.float64).copy()
    gains = a @ rem
    chosen: list[int] = []
    added: list[float] = []
    total = 0.0
    while len(chosen) < p:
        if target is not None and total >= target - EPS * max(1.0, target):
            break
        i = int(np.argmax(gains))
        if gains[i] <= EPS:
            break
        cells = a.indices[a.indptr[i]: a.indptr[i + 1]]
        new = cells[rem[cells] > 0]
        gain = float(rem[new].sum())
        lo, hi = at.indptr[new], at.indptr[new + 1]
        counts = hi - lo
        rows = at.indices[ranges(lo, counts)]
        gains -= np.bincount(rows, weights=np.repeat(rem[new], counts), minlength=a.shape[0])
        rem[new] = 0.0
        gains[i] = 0.0
        chosen.append(i)
        added.append(gain)
        total += gain
    return np.asarray(chosen, dtype=np.int64), np.asarray(added, dtype=np.float64)


# --------------------------------------------------------------------------- solvers


@dataclass(frozen=True)
class Greedy:
    """The instant answer: one stop at a time, the one adding the most weight."""


@dataclass(frozen=True)
class Highs:
    """The MILP answer from HiGHS within ``time_limit`` s (MCLP warm-started by the greedy)."""

    time_limit: float = 30.0
    warm_start: bool = True
    threads: int | None = None
    verbose: bool = False


@dataclass
class _Reduced:
    """The MILP-sized problem: useful candidates × classes of identical cells."""

    a: sparse.csc_matrix  # (useful candidates × cell classes)
    w: np.ndarray  # weight of each class
    cands: np.ndarray  # original candidate rows


def _reduce(a: sparse.csr_matrix, w: np.ndarray, keep: np.ndarray | None = None) -> _Reduced:
    """Drop weightless or unreachable cells and useless candidates; merge identical cells.

    Cells reached by exactly the same candidates are one class (weights summed):
    they are identified by two random projections of their columns. Candidates of
    ``keep`` stay even when they add nothing (they may be needed by a minimum).
    """
    a = a.tocsc()
    cols = np.flatnonzero((w > 0) & (np.diff(a.indptr) > 0))
    sub = a[:, cols].tocsr()
    useful = np.diff(sub.indptr) > 0
    if keep is not None:
        useful |= np.asarray(keep, dtype=bool)
    rows = np.flatnonzero(useful)
    sub = sub[rows]
    sub.sort_indices()
    rng = np.random.default_rng(0)
    keys = sub.T.tocsr() @ rng.random((sub.shape[0], 2))
    _, cls, = np.unique(keys, axis=0, return_inverse=True)
    cls = cls.ravel()
    first = np.full(cls.max() + 1 if len(cls) else 0, -1, dtype=np.int64)
    first[cls[::-1]] = np.arange(len(cls))[::-1]
    wc = np.bincount(cls, weights=w[cols], minlength=len(first))
    return _Reduced(sub.tocsc()[:, first] if len(first) else sub.tocsc(), wc, rows)


def _new_highs():
    """A HiGHS instance; its start-up banner (printed to fd 1) must not spoil ``--json``."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs_run(cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, integer: np.ndarray,
               matrix: sparse.csc_matrix, row_lower: np.ndarray, row_upper: np.ndarray,
               maximize: bool, solver: Highs, start: np.ndarray | None) -> dict[str, Any]:
    """Solve one MILP with HiGHS; return status, values, objective, bound and timing."""
    import highspy

    h = _new_highs()
    h.setOptionValue("output_flag", bool(solver.verbose))
    h.setOptionValue("time_limit", float(solver.time_limit))
    h.setOptionValue("mip_rel_gap", 0.0)
    if solver.threads:
        h.setOptionValue("threads", int(solver.threads))
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = cost.astype(np.float64)
    lp.col_lower_ = lower.astype(np.float64)
    lp.col_upper_ = upper.astype(np.float64)
    lp.row_lower_ = row_lower.astype(np.float64)
    lp.row_upper_ = row_upper.astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                       for b in integer]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = [float(v) for v in start]
        sol.value_valid = True
        h.setSolution(sol)
    t0 = time.perf_counter()
    h.run()
    elapsed = time.perf_counter() - t0
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    code = {ms.kOptimal: "optimal", ms.kTimeLimit: "time_limit", ms.kInfeasible: "infeasible",
            ms.kInterrupt: "interrupted"}.get(status, "unknown")
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value) if has_sol else None
    return {
        "status": code, "status_highs": h.modelStatusToString(status), "values": values,
        "objective": float(info.objective_function_value) if has_sol else None,
        "bound": float(info.mip_dual_bound), "seconds": elapsed,
        "nodes": int(info.mip_node_count),
    }


def _trust(res: dict[str, Any], recomputed: float) -> str:
    """HiGHS' status, unless its objective disagrees with the one recomputed from its answer.

    A disagreement means the solver's own proof is about another point: the answer is
    then never called optimal.
    """
    obj = res["objective"]
    if obj is None or abs(obj - recomputed) > 1e-6 * max(1.0, abs(recomputed)):
        return "unknown"
    return res["status"]


# --------------------------------------------------------------------------- models


class _Covering:
    """Shared data of the covering models: ``a`` (candidates × cells) and the weights."""

    model = ""

    def __init__(self, a: sparse.csr_matrix, weights: np.ndarray,
                 covered: np.ndarray | None = None) -> None:
        w = np.asarray(weights, dtype=np.float64).copy()
        if a.shape[1] != len(w):
            raise SitingError("Matrice de couverture et poids de tailles différentes.")
        if covered is not None:
            w[np.asarray(covered, dtype=bool)] = 0.0
        self.a = sparse.csr_matrix(a, dtype=np.float64)
        self.a.data[:] = 1.0
        self.w = w
        self.total = float(w.sum())
        hit = np.zeros(a.shape[1], dtype=bool)
        hit[self.a.indices] = True
        self.coverable = float(w[hit].sum())
        self.eligible = np.ones(a.shape[0], dtype=bool)
        self.rules: Rules | None = None

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, weights: np.ndarray, max_seconds: float,
                         covered: np.ndarray | None = None, **kwargs):
        """From dense seconds (candidates × cells), inf = unreachable."""
        a = sparse.csr_matrix(np.isfinite(cost) & (np.asarray(cost) <= max_seconds))
        return cls(a, weights, covered, **kwargs)

    @classmethod
    def from_reach(cls, r: Reach, weights: np.ndarray, max_seconds: float,
                   covered: np.ndarray | None = None, **kwargs):
        """From the sparse :class:`Reach` of the island."""
        return cls(r.covering(max_seconds), weights, covered, **kwargs)

    def restrict(self, cand_mask: np.ndarray) -> None:
        """Forbid the candidates outside ``cand_mask`` (their rows emptied)."""
        self.eligible &= np.asarray(cand_mask, dtype=bool)
        keep = sparse.diags(np.asarray(cand_mask, dtype=np.float64))
        self.a = (keep @ self.a).tocsr()
        self.a.eliminate_zeros()
        hit = np.zeros(self.a.shape[1], dtype=bool)
        hit[self.a.indices] = True
        self.coverable = float(self.w[hit].sum())

    def evaluate(self, selected: np.ndarray) -> float:
        """Weight newly covered by ``selected`` (recomputed from the matrix)."""
        return covered_weight(self.a, self.w, selected)

    def set_rules(self, rules: Rules | Equity | None, **build) -> None:
        """Apply equity rules (a :class:`Rules`, or an :class:`Equity` with the arguments of
        :meth:`Rules.build` but the first); ``None`` or inactive rules remove them."""
        if isinstance(rules, Equity):
            rules = Rules.build(rules, **build) if rules.active else None
        if rules is not None and len(rules.commune) != self.a.shape[0]:
            raise SitingError("Règles d'équité et candidats de tailles différentes.")
        self.rules = rules if rules is None or rules.equity.active else None

    def _rule_info(self, selected: np.ndarray) -> dict[str, Any]:
        if self.rules is None:
            return {}
        return {"rules": self.rules.equity.as_dict(), "unmet": self.rules.unmet(selected)}

    def _min_keep(self) -> np.ndarray | None:
        """Eligible candidates of a group with a minimum (kept by the MILP's reduction)."""
        r = self.rules
        if r is None or not (r.min_commune.any() or r.min_epci.any()):
            return None
        keep = np.zeros(self.a.shape[0], dtype=bool)
        has_c, has_e = r.commune >= 0, r.epci >= 0
        keep[has_c] |= r.min_commune[r.commune[has_c]] > 0
        keep[has_e] |= r.min_epci[r.epci[has_e]] > 0
        return keep & self.eligible

    def _milp_rows(self, red: _Reduced, n_cols: int
                   ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """The rule rows of the MILP (none without rules)."""
        if self.rules is None:
            return sparse.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        min_c, min_e = self.rules.achievable(self.eligible)
        return _rule_rows(self.rules, red.cands, n_cols, min_c, min_e)

    def _infeasible(self, t0: float, res: dict[str, Any], n: int, m: int) -> Solution:
        """The MILP's honest answer when no selection meets every rule."""
        return self._solution("highs", np.zeros(0, dtype=np.int64), t0,
                              objective_of=self._objective, bound=None, status="infeasible",
                              info={"status_highs": res["status_highs"], "nodes": res["nodes"],
                                    "reduced": [n, m], **self._rule_info(np.zeros(0, int))})

    def _objective(self, order, covered: float) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def _solution(self, method: str, selected: np.ndarray, t0: float, *, objective_of,
                  bound: float | None, status: str, solver_objective: float | None = None,
                  info: dict | None = None) -> Solution:
        order, gains = sequence(self.a, self.w, selected)
        covered = self.evaluate(order)
        obj = objective_of(order, covered)
        gap = None
        if bound is not None:
            gap = abs(bound - obj) / abs(obj) if obj else (0.0 if bound == obj else np.inf)
        return Solution(self.model, method, order, gains, covered, obj, bound, gap, status,
                        time.perf_counter() - t0, self.total, self.coverable, solver_objective,
                        info or {})

    def solve(self, solver: Greedy | Highs) -> Solution:
        """Solve with ``Greedy()`` or ``Highs(...)``."""
        if isinstance(solver, Greedy):
            return self._greedy()
        if isinstance(solver, Highs):
            return self._milp(solver)
        raise TypeError(f"unknown solver {solver!r}")


class MaximalCovering(_Covering):
    """Maximal covering location problem (Church & ReVelle 1974), fixed places already covering.

    Data: candidates ``i ∈ I``, demand cells ``j ∈ J`` with weight ``w_j`` (zero when a
    fixed place already covers ``j``), ``N_j = {i : t_ij ≤ T}`` the candidates that
    cover ``j``, and ``p`` the number of stops.

    .. math::

        \\max \\sum_j w_j y_j \\quad \\text{s.t.} \\quad
        y_j \\le \\sum_{i \\in N_j} x_i \\;\\; \\forall j, \\qquad
        \\sum_i x_i \\le p, \\qquad x_i \\in \\{0, 1\\}, \\; 0 \\le y_j \\le 1.

    ``y`` may stay continuous: for binary ``x`` an optimum has ``y_j = 1`` exactly
    when ``j`` is covered. The MILP runs on the reduced problem (useful candidates,
    cells with identical ``N_j`` merged). Greedy bound: the covered weight is
    monotone submodular, so ``OPT ≤ f(S) + Σ`` of the ``p`` largest marginal gains
    left after ``S`` (and ``≤`` all coverable weight).
    """

    model = "mclp"

    def __init__(self, a: sparse.csr_matrix, weights: np.ndarray,
                 covered: np.ndarray | None = None, *, p: int = 10) -> None:
        super().__init__(a, weights, covered)
        if int(p) < 1:
            raise SitingError("Le nombre d'arrêts doit être au moins 1.")
        self.p = int(p)

    def _objective(self, _order, covered: float) -> float:
        return covered

    def set_rules(self, rules: Rules | Equity | None, **build) -> None:
        super().set_rules(rules, **build)
        if self.rules is not None and self.rules.needed() > self.p:
            need = self.rules.needed()
            self.rules = None
            raise SitingError(f"Les minimums d'arrêts par commune ou par EPCI demandent au moins "
                              f"{need} arrêts sur ce territoire : vous en proposez {self.p}. "
                              "Augmentez le nombre d'arrêts ou baissez les minimums.")

    def _select(self) -> np.ndarray:
        if self.rules is None:
            return _greedy(self.a, self.w, self.p, target=None)[0]
        return _greedy_rules(self.a, self.w, self.p, None, self.rules, self.eligible)[0]

    def _greedy(self) -> Solution:
        t0 = time.perf_counter()
        chosen = self._select()
        covered = self.evaluate(chosen)
        rem = self.w.copy()
        hit = np.zeros(len(rem), dtype=bool)
        if len(chosen):
            hit[self.a[chosen].indices] = True
        rem[hit] = 0.0
        left = np.sort(self.a @ rem)[::-1][: self.p]
        bound = min(covered + float(left[left > 0].sum()), self.coverable)
        info = self._rule_info(chosen)
        # the bound holds with or without rules; a choice that misses a minimum is no answer
        status = ("optimal" if bound <= covered + EPS * max(1.0, covered)
                  and not info.get("unmet") else "heuristic")
        return self._solution("greedy", chosen, t0, objective_of=self._objective,
                              bound=max(bound, covered), status=status, info=info)

    def _milp(self, solver: Highs) -> Solution:
        t0 = time.perf_counter()
        red = _reduce(self.a, self.w, self._min_keep())
        n, m = red.a.shape
        if n == 0:
            return self._solution("highs", np.zeros(0, dtype=np.int64), t0,
                                  objective_of=self._objective, bound=0.0, status="optimal",
                                  info=self._rule_info(np.zeros(0, dtype=np.int64)))
        # columns: x (n binaries) then y (m continuous); rows: y_j - Σ x_i ≤ 0, Σ x ≤ p,
        # then the equity rows (group sums, distance cliques and pairs)
        cover = sparse.hstack([-red.a.T.tocsc(), sparse.identity(m, format="csc")])
        budget = sparse.hstack([sparse.csr_matrix(np.ones((1, n))), sparse.csr_matrix((1, m))])
        rules, rule_lo, rule_hi = self._milp_rows(red, n + m)
        mat = sparse.vstack([cover, budget, rules]).tocsc()
        start = None
        if solver.warm_start:
            if self.rules is None:
                g_sel, _ = _greedy(red.a.tocsr(), red.w, self.p, target=None)
            else:  # the greedy's stops, when they keep to every rule
                full = self._select()
                g_sel = np.flatnonzero(np.isin(red.cands, full))
                if self.rules.unmet(red.cands[g_sel]):
                    g_sel = None
            if g_sel is not None:
                x0 = np.zeros(n)
                x0[g_sel] = 1.0
                y0 = (red.a.T @ x0 > 0).astype(float)
                start = np.concatenate([x0, y0])
        res = _highs_run(
            cost=np.concatenate([np.zeros(n), red.w]), lower=np.zeros(n + m),
            upper=np.ones(n + m), integer=np.r_[np.ones(n, bool), np.zeros(m, bool)],
            matrix=mat, row_lower=np.r_[np.full(m + 1, -np.inf), rule_lo],
            row_upper=np.r_[np.zeros(m), float(self.p), rule_hi], maximize=True,
            solver=solver, start=start)
        if res["status"] == "infeasible":
            return self._infeasible(t0, res, n, m)
        if res["values"] is None:
            raise SitingError("Le solveur n'a trouvé aucune solution dans le temps imparti : "
                              "augmentez la limite de temps.")
        chosen = red.cands[np.flatnonzero(res["values"][:n] > 0.5)]
        res["status"] = _trust(res, float(red.w[(red.a.T @ res["values"][:n] > 0.5)].sum()))
        bound = max(min(res["bound"], self.coverable), self.evaluate(chosen))
        return self._solution("highs", chosen, t0, objective_of=self._objective, bound=bound,
                              status=res["status"], solver_objective=res["objective"],
                              info={"status_highs": res["status_highs"], "nodes": res["nodes"],
                                    "reduced": [n, m], **self._rule_info(chosen)})


class SetCovering(_Covering):
    """Partial location set covering: the fewest stops covering a share of today's gap.

    Same data as :class:`MaximalCovering`; ``W = Σ_j w_j`` is the weight uncovered
    today and ``s`` the share to reach.

    .. math::

        \\min \\sum_i x_i \\quad \\text{s.t.} \\quad
        y_j \\le \\sum_{i \\in N_j} x_i \\;\\; \\forall j, \\qquad
        \\sum_j w_j y_j \\ge s\\,W, \\qquad x_i \\in \\{0, 1\\}, \\; 0 \\le y_j \\le 1.

    When no set of candidates reaches ``s W`` (some cells are out of reach of every
    candidate) the request is refused with the largest share possible. Greedy
    bound: the smallest ``k`` whose ``k`` largest single-stop weights reach ``s W``.
    """

    model = "lscp"

    def __init__(self, a: sparse.csr_matrix, weights: np.ndarray,
                 covered: np.ndarray | None = None, *, share: float = 0.8) -> None:
        super().__init__(a, weights, covered)
        if not 0 < share <= 1:
            raise SitingError("La part à couvrir doit être comprise entre 0 et 1 (ex. 0.8).")
        self.share = float(share)
        self.target = self.share * self.total

    def _objective(self, order, _covered: float) -> float:
        return float(len(order))

    def _check(self) -> None:
        if self.coverable < self.target - EPS * max(1.0, self.target):
            best = self.coverable / self.total if self.total else 0.0
            raise SitingError(
                f"Impossible de couvrir {pct(self.share)} de la demande non couverte : les "
                f"candidats en atteignent au plus {pct(best, 1)}. Baissez la part, allongez le "
                "temps de trajet ou ajoutez des candidats.")

    def _lower_bound(self) -> float:
        single = np.sort(self.a @ self.w)[::-1]
        k = int(np.searchsorted(np.cumsum(single), self.target - EPS * max(1.0, self.target)))
        return float(min(k + 1, len(single))) if self.target > 0 else 0.0

    def _lower_bound_rules(self) -> float:
        bound = self._lower_bound()
        if self.rules is not None:
            bound = max(bound, float(self.rules.needed(*self.rules.achievable(self.eligible))))
        return bound

    def _greedy(self) -> Solution:
        t0 = time.perf_counter()
        self._check()
        if self.rules is None:
            chosen, _ = _greedy(self.a, self.w, self.a.shape[0], target=self.target)
        else:
            chosen, _ = _greedy_rules(self.a, self.w, self.a.shape[0], self.target, self.rules,
                                      self.eligible)
        bound = self._lower_bound_rules()
        info = self._rule_info(chosen)
        covered = self.evaluate(chosen)
        if covered < self.target - EPS * max(1.0, self.target):
            info.setdefault("unmet", []).append({
                "rule": "share", "code": "", "name": "", "wanted": self.share,
                "got": covered / self.total if self.total else 0.0})
        status = "optimal" if len(chosen) <= bound and not info.get("unmet") else "heuristic"
        return self._solution("greedy", chosen, t0, objective_of=self._objective,
                              bound=min(bound, float(len(chosen))), status=status, info=info)

    def _milp(self, solver: Highs) -> Solution:
        t0 = time.perf_counter()
        self._check()
        if self.target <= 0:
            return self._solution("highs", np.zeros(0, dtype=np.int64), t0,
                                  objective_of=self._objective, bound=0.0, status="optimal")
        red = _reduce(self.a, self.w, self._min_keep())
        n, m = red.a.shape
        cover = sparse.hstack([-red.a.T.tocsc(), sparse.identity(m, format="csc")])
        need = sparse.hstack([sparse.csr_matrix((1, n)), sparse.csr_matrix(red.w[None, :])])
        rules, rule_lo, rule_hi = self._milp_rows(red, n + m)
        mat = sparse.vstack([cover, need, rules]).tocsc()
        # No greedy warm start here: HiGHS 1.16 maps such a start into its presolved
        # space wrongly for this model (it reported 42 stops for a 47-stop start, then
        # returned the 47 stops as "optimal"); measured in benchmarks/siting.py.
        start = None
        # a hair below the target so that float sums of the weights stay feasible
        target = self.target - EPS * max(1.0, self.target)
        res = _highs_run(
            cost=np.r_[np.ones(n), np.zeros(m)], lower=np.zeros(n + m), upper=np.ones(n + m),
            integer=np.r_[np.ones(n, bool), np.zeros(m, bool)], matrix=mat,
            row_lower=np.r_[np.full(m, -np.inf), target, rule_lo],
            row_upper=np.r_[np.zeros(m), np.inf, rule_hi],
            maximize=False, solver=solver, start=start)
        if res["status"] == "infeasible":
            return self._infeasible(t0, res, n, m)
        if res["values"] is None:
            raise SitingError("Le solveur n'a trouvé aucune solution dans le temps imparti : "
                              "augmentez la limite de temps.")
        chosen = red.cands[np.flatnonzero(res["values"][:n] > 0.5)]
        res["status"] = _trust(res, float(len(chosen)))
        bound = float(np.ceil(res["bound"] - 1e-6))
        bound = min(max(bound, self._lower_bound_rules()), float(len(chosen)))
        return self._solution("highs", chosen, t0, objective_of=self._objective, bound=bound,
                              status=res["status"], solver_objective=res["objective"],
                              info={"status_highs": res["status_highs"], "nodes": res["nodes"],
                                    "reduced": [n, m], **self._rule_info(chosen)})


# --------------------------------------------------------------------------- island instance


@dataclass
class Instance:
    """One mode's siting data: demand cells, candidates, today's times, candidate reach.

    ``base`` is the coverage engine's :class:`analysis.coverage.Access` for the fixed
    places; ``reach`` holds the cell → candidate times (access leg included) up to
    ``reach.cutoff``; ``usable`` marks candidates that are on the mode's network and
    close enough to the drive network for the van.
    """

    mode: str
    dem: pd.DataFrame
    candidates: pd.DataFrame
    base: Any  # analysis.coverage.Access
    reach: Reach
    usable: np.ndarray
    cand_snap: Snapped

    def uncovered(self, minutes: float) -> np.ndarray:
        """Cells not within ``minutes`` of a fixed place today."""
        return self.base.seconds > minutes * 60.0

    def weights(self, mix: dict[str, float], minutes: float) -> np.ndarray:
        """The weight of every cell for ``mix`` (« far » computed for ``minutes``)."""
        far = (far_weight(self.dem["population"].to_numpy(), self.base.seconds, minutes)
               if "far" in mix else None)
        return demand(self.dem, mix, far)

    def rules(self, equity: Equity, scope: list[str] | None = None) -> Rules:
        """``equity`` on this instance's candidates; minima for the communes of ``scope``."""
        dem = self.dem
        epci_of = dict(zip(dem["code_insee"].astype(str), dem["epci"].astype(str), strict=True))
        labels = dict(zip(dem["code_insee"].astype(str), dem["commune"].astype(str),
                          strict=True))
        labels.update({e: e for e in set(epci_of.values())})
        codes = sorted(set(epci_of)) if scope is None else list(scope)
        return Rules.build(equity, self.candidates["code_insee"].astype(str).tolist(), epci_of,
                           self.candidates[["x", "y"]].to_numpy(dtype=np.float64), codes,
                           labels)

    def problem(self, model: str, minutes: float, mix: dict[str, float],
                scope: list[str] | None = None, *, p: int = 10,
                share: float = 0.8, equity: Equity | None = None
                ) -> MaximalCovering | SetCovering:
        """The ``mclp`` or ``lscp`` model for ``minutes``, weight ``mix`` and ``scope`` codes.

        Demand outside the scope weighs nothing; candidates outside it are not offered.
        ``equity`` (optional) adds the rules of :class:`Equity` (minima for the communes
        and EPCIs of the scope).
        """
        if not 0 < minutes <= self.reach.cutoff / 60.0 + 1e-9:
            raise SitingError(f"Temps de trajet invalide : {minutes:g} min (entre 1 et "
                              f"{self.reach.cutoff / 60:.0f} min).")
        w = self.weights(mix, minutes)
        cand_ok = self.usable.copy()
        if scope is not None:
            w = np.where(self.dem["code_insee"].isin(scope).to_numpy(), w, 0.0)
            cand_ok &= self.candidates["code_insee"].isin(scope).to_numpy()
        covered = ~self.uncovered(minutes)
        if model == "mclp":
            m: MaximalCovering | SetCovering = MaximalCovering.from_reach(
                self.reach, w, minutes * 60.0, covered, p=p)
        elif model == "lscp":
            m = SetCovering.from_reach(self.reach, w, minutes * 60.0, covered, share=share)
        else:
            raise SitingError(f"Modèle inconnu : « {model} » (mclp ou lscp).")
        m.restrict(cand_ok)
        if equity is not None and equity.active:
            m.set_rules(self.rules(equity, scope))
        return m

    def stops(self, sol: Solution) -> pd.DataFrame:
        """The chosen stops in order: name, source, commune, position, weight added, snap."""
        c = self.candidates.iloc[sol.selected]
        return pd.DataFrame({
            "rang": np.arange(1, len(sol.selected) + 1),
            "cand_id": c["cand_id"].to_numpy(),
            "nom": c["nom"].to_numpy(),
            "source": c["source"].to_numpy(),
            "kind": c["kind"].to_numpy(),
            "code_insee": c["code_insee"].to_numpy(),
            "lon": c["lon"].to_numpy(),
            "lat": c["lat"].to_numpy(),
            "gain": sol.gains,
            "cumul": np.cumsum(sol.gains),
            "snap_drive_m": c["snap_m"].to_numpy() if "snap_m" in c else np.nan,
        })

    def seconds_with(self, selected: np.ndarray) -> np.ndarray:
        """Cell times once the ``selected`` stops are added (exact up to ``reach.cutoff``)."""
        t = self.base.seconds.copy()
        keep = np.isin(self.reach.cand, np.asarray(selected, dtype=np.int64))
        np.minimum.at(t, self.reach.cell[keep], self.reach.seconds[keep])
        return t

    def newly_covered(self, sol: Solution, minutes: float) -> np.ndarray:
        """Cells that the chosen stops bring within ``minutes`` (uncovered today)."""
        hit = np.zeros(len(self.dem), dtype=bool)
        if len(sol.selected):
            hit[self.reach.covering(minutes * 60.0)[sol.selected].indices] = True
        return hit & self.uncovered(minutes)


def prepare(g: Graph, dem: pd.DataFrame, supply_xy: np.ndarray, candidates: pd.DataFrame, *,
            max_minutes: float, walk_kmh: float, max_snap_m: float) -> Instance:
    """Today's times (coverage engine) and the candidate reach on graph ``g``.

    ``dem`` comes from :func:`analysis.coverage.demand`; ``candidates`` from
    :func:`geo.candidates.load` (with ``far`` from :func:`geo.candidates.snap_drive`
    when known); ``supply_xy`` are the fixed places in EPSG:5490.
    """
    from analysis import coverage, snap

    cell_xy = dem[["x", "y"]].to_numpy(dtype=np.float64)
    cells = coverage.snap_cells(g, cell_xy, walk_kmh)
    base = coverage.compute(g, cell_xy, supply_xy, walk_kmh=walk_kmh, max_snap_m=max_snap_m,
                            cells=cells)
    cand = snap.snap(g, candidates[["x", "y"]].to_numpy(dtype=np.float64), max_snap_m)
    usable = cand.ok.copy()
    if "far" in candidates:
        usable &= ~candidates["far"].to_numpy(dtype=bool)
    r = reach(g, cand.take(np.arange(len(cand))), cells[0], max_minutes * 60.0, cells[1])
    # candidates that cannot host the van reach nothing
    keep = usable[r.cand]
    r = Reach(r.cand[keep], r.cell[keep], r.seconds[keep], r.n_cand, r.n_cell, r.cutoff)
    return Instance(g.mode, dem, candidates.reset_index(drop=True), base, r, usable, cand)


#: Kind of registry places that count as covering today.
FIXED_KIND = "lieu fixe"
