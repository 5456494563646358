"""Candidate stops, the pure part: thinning, merging, readable French names (no files).

* :func:`thin` keeps points at least ``spacing`` apart, heaviest first (the roadside
  points generated next to populated cells, see :func:`geo.candidates.roadside`);
* :func:`merge` de-duplicates candidates of several sources: rows closer than the
  spacing are merged into the best-ranked one (official and named sources first);
* :func:`clean_stop_name` turns a raw bus stop name (« CROISEE MEYNARD 2Pv ») into
  readable French (« Croisée Meynard »), with the accents of a spelling dictionary
  built by :func:`spelling` from the address index and the road names;
* :func:`roadside_names` names a point on the road after the named road it stands on
  or the nearest named street (« Route de Fond Brûlé, Le Lorrain »), never after a cell.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.spatial import cKDTree

from analysis.geocode import fold
from maillage import fmt

#: Words kept in lower case inside a name (prepositions, conjunctions).
LOWER_WORDS = frozenset({"de", "du", "des", "à", "au", "aux", "en", "et", "sur", "sous", "d"})
#: Articles: lower case after a preposition (« Pointe de la Vierge »), else capitalised.
ARTICLES = frozenset({"la", "le", "les", "l"})
#: Abbreviations of the bus stop names, spelled out.
ABBREVIATIONS = {
    "st": "saint", "ste": "sainte", "lot": "lotissement", "resid": "résidence",
    "res": "résidence", "ctre": "centre", "comm": "commercial", "msgr": "monseigneur",
    "bd": "boulevard", "av": "avenue", "rte": "route", "imm": "immeuble",
    "lotiss": "lotissement",
}
#: Spellings of common words of stop names, used when the address index has none.
COMMON_WORDS = ("aéroport", "école", "église", "hôpital", "collège", "lycée", "cité",
                "résidence", "croisée", "général", "préfecture", "théâtre", "médiathèque",
                "bibliothèque", "gendarmerie", "marché", "rivière", "île", "îlet", "côte",
                "élysée", "étang", "hôtel", "château", "entrée", "cimetière", "forêt")
#: Words before which a trailing number belongs to the name (« Voie 2 »), not a stop code.
NUMBERED = frozenset({"voie", "rue", "route", "lot", "lotissement", "chemin", "impasse", "cite",
                      "allee", "residence", "rd", "rn", "d", "n", "no", "numero", "tranche",
                      "bloc", "batiment", "immeuble", "km"})
#: « à l'est », « au nord-ouest »: where a point lies from a reference (8 directions).
BEARINGS = ("à l'est", "au nord-est", "au nord", "au nord-ouest", "à l'ouest", "au sud-ouest",
            "au sud", "au sud-est")

_ARRET = re.compile(r"^\s*arr[êe]ts?\b\s*[:\-–]?\s*", re.IGNORECASE)
_CODE = re.compile(r"\s+\d*\s*pv\s*\d*\s*$", re.IGNORECASE)
_TRAILING_NUMBER = re.compile(r"^(.*\S)\s+(\d{1,2})$")


# --------------------------------------------------------------------------- geometry


def thin(xy: np.ndarray, weight: np.ndarray, spacing: float) -> np.ndarray:
    """Rows of ``xy`` kept so that no two are closer than ``spacing``, heaviest first.

    A row is kept unless a heavier kept row lies within ``spacing`` (ties: lower index
    first). Returns the kept rows in that order.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(xy)), -np.asarray(weight, dtype=np.float64)))
    if spacing <= 0:
        return order.astype(np.int64)
    tree = cKDTree(xy)
    dead = np.zeros(len(xy), dtype=bool)
    kept: list[int] = []
    for i in order:
        if dead[i]:
            continue
        kept.append(int(i))
        dead[tree.query_ball_point(xy[i], np.nextafter(spacing, 0))] = True
    return np.asarray(kept, dtype=np.int64)


def merge(xy: np.ndarray, rank: np.ndarray, spacing: float,
          fixed: np.ndarray | None = None) -> np.ndarray:
    """The row each candidate is merged into (itself when kept), best ``rank`` first.

    Candidates are visited by increasing ``rank`` (then row order); one is kept unless
    a kept candidate lies closer than ``spacing``, in which case it is merged into the
    nearest such one. ``fixed`` rows (a planner's own points) are always kept and never
    absorb others.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    owner = np.arange(n, dtype=np.int64)
    fixed = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    if n == 0 or spacing <= 0:
        return owner
    order = np.lexsort((np.arange(n), np.asarray(rank, dtype=np.float64)))
    tree = cKDTree(xy)
    kept = np.zeros(n, dtype=bool)
    r = np.nextafter(spacing, 0)
    for i in order:
        if fixed[i]:
            continue
        near = [j for j in tree.query_ball_point(xy[i], r) if kept[j]]
        if near:
            d = np.hypot(*(xy[near] - xy[i]).T)
            owner[i] = near[int(np.argmin(d))]
        else:
            kept[i] = True
    return owner


def nearest_name(xy: np.ndarray, name_xy: np.ndarray, names: Sequence[str],
                 radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Name of the nearest named point within ``radius`` of each row ("" if none), and metres."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    out = np.full(len(xy), "", dtype=object)
    dist = np.full(len(xy), np.inf)
    name_xy = np.asarray(name_xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0 or len(name_xy) == 0:
        return out, dist
    d, k = cKDTree(name_xy).query(xy, distance_upper_bound=radius)
    ok = np.isfinite(d)
    names = np.asarray(names, dtype=object)
    out[ok] = names[k[ok]]
    dist[ok] = d[ok]
    return out, dist


def bearing(dx: float, dy: float) -> str:
    """Where a point lies from a reference, in French (« au nord-est »)."""
    angle = np.degrees(np.arctan2(dy, dx)) % 360.0
    return BEARINGS[int(((angle + 22.5) % 360.0) // 45.0)]


# --------------------------------------------------------------------------- names


def spelling(texts: Iterable[str]) -> dict[str, str]:
    """Folded word → its proper lower-case spelling, from names written with their accents.

    Among the spellings of one folded word (« croisee » → « croisée », « croisee ») an
    accented one wins, then the most frequent. Words shorter than 3 letters are left out.
    :data:`COMMON_WORDS` fill in words that no text spells.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        for word in re.findall(r"[^\W\d_]+", str(text).lower()):
            if len(word) >= 3:
                counts[word] += 1
    best: dict[str, tuple[bool, int, str]] = {}
    for word, n in counts.items():
        key = fold(word)
        cand = (word != key, n, word)
        if key not in best or cand[:2] > best[key][:2]:
            best[key] = cand
    out = {fold(w): w for w in COMMON_WORDS}
    for key, (accented, _, word) in best.items():
        if accented or key not in out:
            out[key] = word
    return out


def _cap(word: str) -> str:
    """Capitalised, each part of a hyphenated word too (« saint-pierre » → « Saint-Pierre »)."""
    def one(part: str) -> str:
        m = re.search(r"[^\W\d_]", part)
        return part if m is None else part[:m.start()] + part[m.start()].upper() + part[
            m.start() + 1:]

    return "-".join(one(p) for p in word.split("-"))


def french_title(text: str, words: Mapping[str, str] | None = None) -> str:
    """Title case in the French way, with the accents of ``words`` (see :func:`spelling`).

    Prepositions stay lower case inside a name, articles too right after one
    (« Pointe de la Vierge »); elisions keep their apostrophe (« Bois d'Inde », « L'Anse »).
    """
    words = words or {}
    tokens = [t for t in re.split(r"\s+", str(text).strip()) if t]
    out: list[str] = []
    prev = ""
    for pos, token in enumerate(tokens):
        lower = token.lower().replace("’", "'")
        parts = lower.split("'")
        if len(parts) == 2 and parts[0] in ("d", "l", "qu") and parts[1]:
            head, rest = parts[0], _spell(parts[1], words)
            lead = head if pos > 0 and (head == "d" or prev in LOWER_WORDS) else _cap(head)
            out.append(f"{lead}'{_cap(rest)}")
            prev = head
            continue
        acronym = len(token) <= 3 or not re.search(r"[aeiouy]", fold(lower))
        if token.isupper() and acronym and token.isalpha() and fold(lower) not in words \
                and lower not in LOWER_WORDS | ARTICLES | {"a"}:
            out.append(token)  # an acronym (« UAG », « ZI »)
            prev = lower
            continue
        word = _spell(ABBREVIATIONS.get(fold(lower), lower), words)
        if word == "a":
            word = "à"
        if word in ("n°", "no") and pos > 0:
            out.append("n°")
            prev = word
            continue
        if pos > 0 and (word in LOWER_WORDS or (word in ARTICLES and prev in LOWER_WORDS)):
            out.append(word)
        else:
            out.append(_cap(word))
        prev = word
    return " ".join(out)


def _spell(word: str, words: Mapping[str, str]) -> str:
    """``word`` with the spelling of the dictionary (each part between hyphens,
    apostrophes or brackets looked up: « presqu'ile » → « presqu'île »)."""
    parts = re.split(r"([^\w]+)", word)
    return "".join(words.get(fold(p), p) if len(p) >= 3 else p for p in parts)


def clean_stop_name(raw: str, words: Mapping[str, str] | None = None) -> str:
    """A bus stop's raw name made readable: « Arrêt CROISEE MEYNARD 2Pv » → « Croisée Meynard ».

    Drops a leading « Arrêt », the trailing platform codes (« 2Pv », « Pv », « 5PV ») and
    a trailing one- or two-digit platform number (kept after « Voie », « Rue »…), spells
    out the usual abbreviations (« Resid » → « Résidence ») and applies
    :func:`french_title`. An empty result falls back to the raw name, title-cased.
    """
    text = re.sub(r"\s*/\s*", " / ", str(raw))
    text = re.sub(r"\s+", " ", text).strip()
    text = _ARRET.sub("", text)
    while True:
        stripped = _CODE.sub("", text).strip()
        m = _TRAILING_NUMBER.match(stripped)
        if m and re.sub(r"[^a-z]", "", fold(m.group(1).split()[-1])) not in NUMBERED:
            stripped = m.group(1).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return french_title(text or str(raw).strip(), words)


def roadside_names(xy: np.ndarray, commune: Sequence[str], hall_xy: np.ndarray, *,
                   roads: tuple[np.ndarray, Sequence[str]],
                   streets: tuple[np.ndarray, Sequence[str]],
                   on_road_m: float = 30.0, street_m: float = 150.0,
                   near_road_m: float = 400.0) -> list[str]:
    """Readable, distinct French names of points standing on the road.

    In order: the named road the point stands on (within ``on_road_m`` of a point of
    ``roads``: « Route de Fond Brûlé, Le Lorrain »), the nearest street of the address
    index within ``street_m`` (``streets``), the nearest named road within
    ``near_road_m`` with its distance (« Route Nationale 1 (à 320 m), Le Lorrain »),
    else « Route sans nom, Le Lorrain ». Names given to several points get where each
    lies from its commune's town hall (``hall_xy``, one row per point) — « …, 2,4 km
    au nord-est de la mairie » — then a number if still shared.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    on, _ = nearest_name(xy, *roads, on_road_m)
    street, _ = nearest_name(xy, *streets, street_m)
    near, near_d = nearest_name(xy, *roads, near_road_m)
    names: list[str] = []
    for i in range(n):
        where = str(commune[i])
        if on[i]:
            names.append(f"{on[i]}, {where}")
        elif street[i]:
            names.append(f"{street[i]}, {where}")
        elif near[i]:
            metres = int(round(near_d[i] / 10.0) * 10)
            names.append(f"{near[i]} (à {fmt.distance(metres)}), {where}")
        else:
            names.append(f"Route sans nom, {where}")
    hall_xy = np.asarray(hall_xy, dtype=np.float64).reshape(-1, 2)
    counts = Counter(names)
    for i in range(n):
        if counts[names[i]] > 1 and np.isfinite(hall_xy[i]).all():
            dx, dy = xy[i] - hall_xy[i]
            km = np.hypot(dx, dy) / 1000.0
            names[i] = (f"{names[i]}, {fmt.number(km, 1)} km {bearing(dx, dy)} de la mairie"
                        if km >= 0.05 else f"{names[i]}, près de la mairie")
    seen: Counter[str] = Counter(names)
    rank: Counter[str] = Counter()
    for i in range(n):
        if seen[names[i]] > 1:
            rank[names[i]] += 1
            names[i] = f"{names[i]} ({rank[names[i]]})"
    return names
