"""Find records that describe the same place: same SIRET, or same name close by.

Pure functions over arrays. Distances are measured in EPSG:5490 metres (callers pass
projected ``x, y``). Two records are the same place when

* they are explicitly linked (a copy of another source's record, e.g. the Hub
  Antilles copy of a France services entry), or
* they share a real SIRET (not the placeholder ``00000000000000``) and lie within
  :data:`SIRET_MAX_M` of each other, or
* their normalised names are equal or nearly so (:data:`NAME_MIN_SCORE`) and they lie
  within :data:`NAME_MAX_M` of each other.

Links are closed transitively (union-find); each group keeps its best-ranked record.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from scipy.spatial import cKDTree

#: Same normalised name within this distance (metres) → same place.
NAME_MAX_M = 150.0
#: Minimum rapidfuzz ratio (0–100) between normalised names.
NAME_MIN_SCORE = 90.0
#: Same SIRET within this distance (metres) → same place; farther → a warning only.
SIRET_MAX_M = 1000.0

_STOPWORDS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux",
                        "en", "sur"})


def strip_accents(text: str) -> str:
    """Lower-case ASCII form of ``text``."""
    nfkd = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    return "".join(c for c in nfkd if not unicodedata.combining(c)).lower()


def normalise_name(name: str, commune: str = "") -> str:
    """Name reduced for comparison: no accents, case, punctuation, stop words or commune name."""
    words = re.sub(r"[^a-z0-9]+", " ", strip_accents(name)).split()
    text = " ".join(words).replace("cyber base", "cyberbase")
    words = [_singular(w) for w in text.split()]
    drop = {_singular(w) for w in re.sub(r"[^a-z0-9]+", " ", strip_accents(commune)).split()}
    drop -= {"saint", "sainte"}
    kept = [w for w in words if w not in _STOPWORDS and w not in drop]
    kept = kept or [w for w in words if w not in _STOPWORDS] or words
    return " ".join(kept)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


@dataclass(frozen=True)
class Link:
    """Record ``member`` is the same place as record ``other`` (indices), and why."""

    member: int
    other: int
    reason: str


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def candidate_links(
    names: Sequence[str], sirets: Sequence[str], x: np.ndarray, y: np.ndarray,
    placeholder: str = "00000000000000",
) -> tuple[list[Link], list[Link]]:
    """Links by SIRET and by name, and SIRET pairs too far apart (warnings)."""
    links: list[Link] = []
    far: list[Link] = []
    xy = np.column_stack([x, y])
    by_siret: dict[str, list[int]] = {}
    for i, s in enumerate(sirets):
        if s and s != placeholder:
            by_siret.setdefault(s, []).append(i)
    for siret, idx in by_siret.items():
        for a, b in itertools.pairwise(idx):
            d = float(np.hypot(*(xy[a] - xy[b])))
            target = links if d <= SIRET_MAX_M else far
            target.append(Link(b, a, f"même SIRET {siret} à {d:.0f} m"))
    tree = cKDTree(xy)
    for a, b in sorted(tree.query_pairs(NAME_MAX_M)):
        score = fuzz.ratio(names[a], names[b])
        if names[a] and score >= NAME_MIN_SCORE:
            d = float(np.hypot(*(xy[a] - xy[b])))
            links.append(Link(b, a, f"même nom normalisé (« {names[a]} », ressemblance "
                                    f"{score:.0f} %) à {d:.0f} m"))
    return links, far


def groups(n: int, links: Iterable[Link], rank: Sequence[float]) -> dict[int, int]:
    """Map every record to the best-ranked record (lowest rank) of its group."""
    uf = _UnionFind(n)
    for link in links:
        uf.union(link.member, link.other)
    best: dict[int, int] = {}
    for i in range(n):
        root = uf.find(i)
        if root not in best or (rank[i], i) < (rank[best[root]], best[root]):
            best[root] = i
    return {i: best[uf.find(i)] for i in range(n)}
