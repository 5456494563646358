"""Forward geocoding: typo-tolerant, accent-insensitive search of addresses and names.

An :class:`Index` holds *entries* (streets, communes, places…) with a display label,
a normalised search text and a point, plus the numbered address points of each
street. A query is normalised the same way (accents folded, lower case, punctuation
and postcodes dropped, common abbreviations expanded); a leading house number
(``12``, ``12 bis``, ``3B``) is split off, the rest is matched against every entry
with ``rapidfuzz`` (``WRatio``), and a matched street carrying that number yields
the exact address point. Pure: data in, suggestions out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from maillage import fmt
from maillage.errors import MaillageError

#: Kinds of entries, in the order preferred when two scores tie.
KINDS: tuple[str, ...] = ("address", "commune", "place", "street")
#: French names of the kinds (shown next to suggestions).
KIND_LABELS = {"address": "adresse", "street": "rue", "commune": "commune",
               "place": "lieu d'aide"}
#: Below this score (0–100) an entry is not suggested.
MIN_SCORE = 60.0

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss",
                            "’": " ", "'": " "})
#: Abbreviations people type, expanded before matching (whole words only).
ABBREVIATIONS = {
    "r": "rue", "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard", "av": "avenue",
    "ave": "avenue", "ch": "chemin", "che": "chemin", "rte": "route", "imp": "impasse",
    "pl": "place", "res": "residence", "lot": "lotissement", "lotiss": "lotissement",
    "qu": "quartier", "qrt": "quartier", "st": "saint", "ste": "sainte", "gal": "general",
    "gen": "general", "dr": "docteur", "fdf": "fort de france", "cite": "cite",
}
_POSTCODE = re.compile(r"\b97[0-9]{3}\b")
_NUMBER = re.compile(r"^\s*(\d{1,5})\s*(bis|ter|quater|[a-h])?\b\s*,?\s*(.*)$", re.IGNORECASE)


class AddressNotFound(MaillageError):
    """Nothing in the index looks like the query."""


def fold(text: str) -> str:
    """Accents and ligatures folded, lower case (``"Schœlcher"`` → ``"schoelcher"``)."""
    text = unicodedata.normalize("NFKD", str(text).translate(_LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def normalize(text: str, *, expand: bool = True) -> str:
    """Search form of ``text``: folded, punctuation as spaces, postcodes dropped.

    With ``expand`` the abbreviations of :data:`ABBREVIATIONS` become whole words.
    """
    text = _POSTCODE.sub(" ", fold(text))
    words = re.sub(r"[^0-9a-z]+", " ", text).split()
    if expand:
        words = [ABBREVIATIONS.get(w, w) for w in words]
    return " ".join(words)


def split_number(query: str) -> tuple[str | None, str]:
    """Leading house number (``"12bis"``) and the rest, normalised; ``(None, text)`` if none."""
    text = _POSTCODE.sub(" ", fold(query))
    m = _NUMBER.match(text)
    if not m or not m.group(3).strip():
        return None, normalize(text)
    number = m.group(1).lstrip("0") + (m.group(2) or "").lower()
    return number or None, normalize(m.group(3))


def number_key(numero: str) -> str:
    """Normalised house number of an address (``"1 BIS"`` → ``"1bis"``)."""
    return re.sub(r"[^0-9a-z]", "", fold(numero)).lstrip("0")


def _number_value(key: str) -> float:
    m = re.match(r"\d+", key)
    return float(m.group()) if m else np.inf


@dataclass(frozen=True)
class Suggestion:
    """One candidate answer to a query."""

    label: str
    kind: str  # one of KINDS
    lon: float
    lat: float
    score: float  # 0–100
    ref: str = ""  # id of the place, for kind "place"
    note: str = ""  # e.g. the number asked for was not found on that street

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


#: Words that say little about where a place is: they count for little in a score.
STOP_WORDS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux",
                        "en", "sur", "sous"})
#: Weight of a stop word (other words weigh 1).
STOP_WEIGHT = 0.15
#: Two words at least this similar (``fuzz.ratio``, 0–100) count as the same word.
WORD_SIMILARITY = 75.0
#: Share of the score given to how much of the query an entry explains (the rest: how
#: much of the entry the query covers, so that the closest entry wins among equals).
QUERY_SHARE = 0.85


@dataclass
class Index:
    """Entries ready to be searched (build with :func:`build`)."""

    labels: list[str]
    texts: list[str]  # normalised
    kinds: np.ndarray  # str
    lon: np.ndarray
    lat: np.ndarray
    refs: list[str]
    weight: np.ndarray  # tie-breaker (e.g. number of addresses of a street)
    vocab: list[str]  # distinct words of the texts
    word_ptr: np.ndarray  # (entries + 1,) range of each entry's words in word_idx
    word_idx: np.ndarray  # vocabulary index of each (entry, word)
    word_weight: np.ndarray  # weight of each (entry, word) in the entry's own coverage
    entry_total: np.ndarray  # (entries,) summed word_weight of each entry
    numbers: dict[int, dict[str, tuple[float, float, str]]] = field(default_factory=dict)
    communes: list[str] = field(default_factory=list)  # normalised commune of each entry
    notes: list[str] = field(default_factory=list)  # said when the entry is chosen
    by_label: dict[str, int] = field(default_factory=dict)  # exact label → first entry

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_addresses(self) -> int:
        return sum(len(v) for v in self.numbers.values())


def _word_weight(word: str) -> float:
    return STOP_WEIGHT if word in STOP_WORDS else 1.0


def build(entries: pd.DataFrame, numbers: pd.DataFrame | None = None) -> Index:
    """An index from ``entries`` and, optionally, the numbered points of street entries.

    ``entries``: columns ``label``, ``text`` (the name matched, before normalisation),
    ``kind``, ``lon``, ``lat`` and optionally ``context`` (words that may be typed but
    need not be, e.g. the commune of a street), ``ref``, ``weight``, ``commune`` (the
    commune the entry lies in, for :func:`fallback`) and ``note`` (said when the entry is
    chosen, e.g. « Départ : mairie du Prêcheur »).
    ``numbers``: columns ``entry`` (row position in ``entries``), ``numero``, ``lon``,
    ``lat``, ``label`` (the full address as shown).
    """
    bad = set(entries["kind"]) - set(KINDS)
    if bad:
        raise ValueError(f"unknown entry kinds: {sorted(bad)}")
    n = len(entries)
    refs = entries["ref"].fillna("").astype(str).tolist() if "ref" in entries else [""] * n
    weight = (entries["weight"].to_numpy(dtype=np.float64) if "weight" in entries
              else np.zeros(n))
    names = [normalize(t) for t in entries["text"].astype(str)]
    context = ([normalize(t) for t in entries["context"].fillna("").astype(str)]
               if "context" in entries else [""] * n)
    words: list[dict[str, float]] = []
    for name, ctx in zip(names, context, strict=True):
        ws = dict.fromkeys(ctx.split(), 0.0)
        ws.update({w: _word_weight(w) for w in name.split()})
        words.append(ws)
    vocab = sorted({w for ws in words for w in ws})
    pos = {w: i for i, w in enumerate(vocab)}
    word_idx = np.array([pos[w] for ws in words for w in ws], dtype=np.int64)
    word_weight = np.array([x for ws in words for x in ws.values()], dtype=np.float64)
    word_ptr = np.concatenate([[0], np.cumsum([len(ws) for ws in words])]).astype(np.int64)
    table: dict[int, dict[str, tuple[float, float, str]]] = {}
    if numbers is not None and len(numbers):
        keys = [number_key(x) for x in numbers["numero"].astype(str)]
        for e, k, lo, la, lab in zip(numbers["entry"].astype(int), keys,
                                     numbers["lon"].astype(float), numbers["lat"].astype(float),
                                     numbers["label"].astype(str), strict=True):
            if k:
                table.setdefault(e, {}).setdefault(k, (lo, la, lab))
    labels = entries["label"].astype(str).tolist()
    communes = ([normalize(c) for c in entries["commune"].fillna("").astype(str)]
                if "commune" in entries else [""] * n)
    notes = entries["note"].fillna("").astype(str).tolist() if "note" in entries else [""] * n
    by_label: dict[str, int] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, i)
    return Index(
        labels=labels,
        texts=[f"{a} {b}".strip() for a, b in zip(names, context, strict=True)],
        kinds=entries["kind"].astype(str).to_numpy(),
        lon=entries["lon"].to_numpy(dtype=np.float64),
        lat=entries["lat"].to_numpy(dtype=np.float64),
        refs=refs, weight=weight, vocab=vocab, word_ptr=word_ptr, word_idx=word_idx,
        word_weight=word_weight, entry_total=_sum_by_entry(word_weight, word_ptr),
        numbers=table, communes=communes, notes=notes, by_label=by_label,
    )


def _sum_by_entry(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each entry's range ``ptr[i]:ptr[i+1]``."""
    csum = np.concatenate([[0.0], np.cumsum(values)])
    return csum[ptr[1:]] - csum[ptr[:-1]]


def _word_scores(index: Index, words: list[str], prefix_last: bool) -> np.ndarray:
    """(query words, V) similarity 0–1 of every query word to every vocabulary word.

    Words of three characters or fewer (and numbers) must match exactly. With
    ``prefix_last`` the last query word also matches the start of longer words
    (the person is still typing it), at 0.95.
    """
    sim = process.cdist(words, index.vocab, scorer=fuzz.ratio, dtype=np.float32,
                        workers=1) / 100.0
    for r, w in enumerate(words):
        if len(w) <= 3 or w.isdigit():
            sim[r] = sim[r] >= 1.0
    sim[sim < WORD_SIMILARITY / 100.0] = 0.0
    if prefix_last and words:
        last = words[-1]
        heads = [v[: len(last)] for v in index.vocab]
        pre = process.cdist([last], heads, scorer=fuzz.ratio, dtype=np.float32,
                            workers=1)[0] / 100.0
        pre = np.where(pre >= (1.0 if len(last) <= 3 else WORD_SIMILARITY / 100.0), 0.95 * pre,
                       0.0)
        sim[-1] = np.maximum(sim[-1], pre)
    return sim


def _scores(index: Index, text: str, prefix_last: bool, limit: int) -> dict[int, float]:
    """Score 0–100 of the best entries for the normalised ``text``."""
    words = text.split()
    if not words or not index.vocab:
        return {}
    sim = _word_scores(index, words, prefix_last)
    qw = np.array([_word_weight(w) for w in words])
    # how well each entry explains each query word: best similarity among its words
    ptr = index.word_ptr
    per_word = sim[:, index.word_idx]  # (query words, entry words)
    empty = np.diff(ptr) == 0
    best = np.maximum.reduceat(per_word, np.minimum(ptr[:-1], max(len(index.word_idx) - 1, 0)),
                               axis=1)
    best[:, empty] = 0.0
    query_cov = qw @ best / qw.sum()
    matched = sim.max(axis=0)[index.word_idx]
    entry_cov = _sum_by_entry(matched * index.word_weight, ptr)
    with np.errstate(invalid="ignore", divide="ignore"):
        entry_cov = np.where(index.entry_total > 0, entry_cov / index.entry_total, 0.0)
    score = 100.0 * (QUERY_SHARE * query_cov + (1 - QUERY_SHARE) * entry_cov)
    score[query_cov <= 0] = 0.0
    top = np.flatnonzero(score >= MIN_SCORE)
    top = top[np.argsort(-score[top], kind="stable")[:limit]]
    return {int(i): float(score[i]) for i in top}


def _with_number(index: Index, i: int, number: str, score: float) -> Suggestion:
    """The address ``number`` on street entry ``i``: exact, else the nearest number."""
    points = index.numbers[i]
    if number in points:
        lon, lat, label = points[number]
        return Suggestion(label, "address", lon, lat, score)
    want = _number_value(number)
    near = min(points, key=lambda k: (abs(_number_value(k) - want), k))
    lon, lat, _ = points[near]
    note = f"n° {number} introuvable : position du n° {near}"
    return Suggestion(index.labels[i], "street", lon, lat, score - 1.0, note=note)


def _entry(index: Index, i: int, score: float) -> Suggestion:
    """Entry ``i`` as a suggestion (with its note)."""
    note = index.notes[i] if i < len(index.notes) else ""
    return Suggestion(index.labels[i], str(index.kinds[i]), float(index.lon[i]),
                      float(index.lat[i]), score, index.refs[i], note)


def search(index: Index, query: str, limit: int = 6) -> list[Suggestion]:
    """Best entries for ``query``, best first (empty when nothing scores ≥ MIN_SCORE).

    The query is tried whole and without its leading number (so "22 mai" can match
    "Rue du 22 Mai" while "12 rue …" finds number 12 of the street).
    """
    number, rest = split_number(query)
    whole = normalize(query)
    typing = not query.endswith((" ", ","))
    pool = max(limit * 6, 30)
    by_rest = _scores(index, rest, typing, pool) if number else {}
    by_whole = _scores(index, whole, typing, pool)
    found: dict[int, tuple[float, bool]] = {i: (s, False) for i, s in by_whole.items()}
    for i, s in by_rest.items():
        if s >= found.get(i, (-1.0, False))[0]:
            found[i] = (s, True)
    if not found:
        return []
    order = sorted(
        found,
        key=lambda i: (-round(found[i][0], 6), KINDS.index(index.kinds[i]), -index.weight[i],
                       index.labels[i]),
    )
    out: list[Suggestion] = []
    for i in order:
        score, numbered = found[i]
        if numbered and index.kinds[i] == "street" and index.numbers.get(i):
            out.append(_with_number(index, i, number or "", score))
        else:
            out.append(_entry(index, i, score))
    # numbered addresses first among equal scores (they answer the query exactly)
    out.sort(key=lambda s: (-s.score, s.kind != "address"))
    return out[:limit]


def locate(index: Index, query: str) -> Suggestion:
    """The best match of ``query``, or a French :class:`AddressNotFound`.

    A query that is exactly the label of an entry (a suggestion that was tapped) is that
    entry: searching its label again could rank another entry first (« Sainte-Anne
    (commune) » reads like the « Centre Communal … de Sainte-Anne »).
    """
    if not normalize(query):
        raise AddressNotFound("Saisissez une adresse, une rue, une commune ou le nom d'un lieu.")
    exact = index.by_label.get(query.strip())
    if exact is not None:
        return _entry(index, exact, 100.0)
    hits = search(index, query, limit=1)
    if not hits:
        raise AddressNotFound(
            f"Adresse introuvable : « {query.strip()} ». Vérifiez l'orthographe, ajoutez la "
            "commune (par exemple « rue Victor Hugo Fort-de-France »), ou touchez la carte "
            "à l'endroit voulu.")
    return hits[0]


# --------------------------------------------------------------------------- communes

#: How far (degrees, about 110 m) a town hall may lie outside its commune's simplified
#: outline and still be taken as the bourg.
TOWN_HALL_TOLERANCE_DEG = 0.001
#: Articles that may be left out when a commune is typed (« Prêcheur » for « Le Prêcheur »).
_ARTICLES = frozenset({"le", "la", "les", "l"})


def commune_start(name: str, hall: tuple[float, float] | None, outline,
                  ) -> tuple[float, float, bool, str]:
    """Where a search for the commune ``name`` starts, and the sentence that says so.

    The bourg: the town hall ``hall`` (lon, lat) when it lies in the commune's ``outline``
    (shapely geometry, EPSG:4326), within :data:`TOWN_HALL_TOLERANCE_DEG` of it (the
    coastline is simplified) — « Départ : mairie du Prêcheur ». A town hall that is
    missing or lies elsewhere (in the source, those of Macouba and Le Marigot fall in the
    neighbouring commune) is not used: the start is the commune's centroid, or a point
    on its surface when the centroid falls outside, flagged in the sentence.
    Returns ``(lon, lat, at_town_hall, note)``.
    """
    import shapely

    if hall is not None and all(np.isfinite(hall)):
        pt = shapely.Point(float(hall[0]), float(hall[1]))
        if outline.distance(pt) <= TOWN_HALL_TOLERANCE_DEG:
            return float(hall[0]), float(hall[1]), True, f"Départ : mairie {fmt.de(name)}"
    centre = outline.centroid
    if not outline.contains(centre):
        centre = outline.point_on_surface()
    why = ("position de la mairie incertaine dans la source" if hall is not None
           else "mairie non localisée")
    return (float(centre.x), float(centre.y), False,
            f"Départ : centre de la commune {fmt.de(name)} ({why})")


@dataclass(frozen=True)
class Fallback:
    """What to offer when nothing matches: names of the commune the query mentions."""

    commune: str  # as written in the index (« Le Prêcheur »)
    suggestions: list[Suggestion]  # its closest streets and places, then the commune


def _word_matches(a: str, b: str) -> bool:
    if a == b:
        return True
    return len(a) > 3 and len(b) > 3 and fuzz.ratio(a, b) >= 80.0


def _commune_in(index: Index, words: list[str]) -> tuple[int, set[int]] | None:
    """The commune entry whose name the query ``words`` contain (the longest), and the
    positions of the words it used."""
    best: tuple[int, int, set[int]] | None = None
    for i in np.flatnonzero(index.kinds == "commune"):
        own = index.communes[i] if i < len(index.communes) and index.communes[i] else \
            normalize(index.labels[i].removesuffix(" (commune)"))
        core = own.split()
        while core and core[0] in _ARTICLES and len(core) > 1:
            core = core[1:]
        used: set[int] = set()
        for w in core:
            k = next((j for j, q in enumerate(words) if j not in used and _word_matches(w, q)),
                     None)
            if k is None:
                break
            used.add(k)
        else:
            size = sum(len(w) for w in core)
            if best is None or size > best[1]:
                best = (int(i), size, used)
    return None if best is None else (best[0], best[2])


def fallback(index: Index, query: str, limit: int = 5) -> Fallback | None:
    """Names to offer when :func:`search` finds nothing for ``query``.

    The commune the query names (« … Le Prêcheur », accents, articles and small typos
    forgiven) and, among the entries of that commune only, those closest to the rest of
    the query (``rapidfuzz`` ``WRatio``, no minimum score), best first, then the commune
    itself (its start, see :func:`commune_start`). None when no commune is named.
    """
    words = normalize(query).split()
    found = _commune_in(index, words)
    if found is None:
        return None
    ci, used = found
    key = index.communes[ci] if ci < len(index.communes) and index.communes[ci] else None
    rest = " ".join(w for j, w in enumerate(words)
                    if j not in used and w not in STOP_WORDS and not w.isdigit())
    out: list[Suggestion] = []
    if rest and key:
        mine = [i for i, c in enumerate(index.communes) if c == key and index.kinds[i] != "commune"]
        choices = {i: index.texts[i] for i in mine}
        ranked = process.extract(rest, choices, scorer=fuzz.WRatio, limit=limit)
        ranked.sort(key=lambda r: (-r[1], KINDS.index(index.kinds[r[2]]),
                                   -index.weight[r[2]], index.labels[r[2]]))
        out = [_entry(index, i, float(score)) for _, score, i in ranked]
    out.append(_entry(index, ci, 0.0))
    return Fallback(index.labels[ci].removesuffix(" (commune)"), out)
