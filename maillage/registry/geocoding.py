"""Positions from addresses, for places typed or imported without coordinates.

The product's own address index (:func:`geo.addresses.index`: the BANO address points,
streets and communes of Martinique, searched by :mod:`analysis.geocode`) reads the
place's address. Only a numbered address or a street, well matched
(:data:`MIN_SCORE`) and inside the commune the place states, is kept: a place is never
put in another commune. The position is approximate and flagged so (``coord_source`` =
« adresse géocodée »); a place this cannot place stays refused, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from analysis import geocode
from maillage import settings as settings_mod
from maillage.registry import location
from maillage.settings import Settings

#: The value of ``coord_source`` for a position found from the address.
GEOCODED = "adresse géocodée"
#: Lowest score (0–100, :func:`analysis.geocode.search`) of an address kept.
MIN_SCORE = 85.0
#: Kinds of index entries precise enough to place a place.
PRECISE_KINDS = ("address", "street")
#: Candidates read per address (the best one in the stated commune is kept).
CANDIDATES = 8


@dataclass(frozen=True)
class Found:
    """Where the address is: the point, the address as the index names it, a note."""

    lon: float
    lat: float
    label: str
    note: str = ""


@lru_cache(maxsize=2)
def _index(s: Settings) -> geocode.Index:
    from geo import addresses

    return addresses.index(s)


def index(s: Settings | None = None) -> geocode.Index:
    """The address index of the island (built once per process, about 3 s)."""
    return _index(s or settings_mod.get())


def _commune_code(row: dict[str, str], isl: location.Island) -> str | None:
    """The INSEE code the row states (its code, else its commune's name), or None."""
    code = (row.get("code_insee") or "").strip()
    if code:
        return code
    name = geocode.fold((row.get("commune") or "").strip())
    if not name:
        return None
    by_name = {geocode.fold(n): c for c, n in location.commune_names(isl).items()}
    return by_name.get(name)


def locate(row: dict[str, str], s: Settings | None = None,
           isl: location.Island | None = None) -> Found | str:
    """The position of the row's address, or a French reason why it cannot be placed."""
    address = " ".join((row.get("adresse") or "").split())
    commune = " ".join((row.get("commune") or "").split())
    if not address:
        return "adresse vide : rien à chercher"
    isl = isl or location.island(s)
    hits = [h for h in geocode.search(index(s), f"{address}, {commune}", limit=CANDIDATES)
            if h.kind in PRECISE_KINDS and h.score >= MIN_SCORE]
    where = f"« {address}{', ' + commune if commune else ''} »"
    if not hits:
        return f"adresse {where} introuvable dans la base d'adresses"
    wanted = _commune_code(row, isl)
    if wanted is not None:
        _, codes = location.locate(np.array([h.lon for h in hits]),
                                   np.array([h.lat for h in hits]), isl)
        hits = [h for h, c in zip(hits, codes, strict=True) if c == wanted]
        if not hits:
            return f"adresse {where} introuvable dans la commune indiquée"
    best = hits[0]
    return Found(round(best.lon, 6), round(best.lat, 6), best.label, best.note)


def needs_position(row: dict[str, str]) -> bool:
    """Whether the row lacks its latitude or its longitude."""
    return not (row.get("latitude") or "").strip() or not (row.get("longitude") or "").strip()


def fill(rows: Iterable[dict[str, str]], s: Settings | None = None,
         isl: location.Island | None = None) -> list[dict[str, str]]:
    """Place every row without coordinates from its address, in place.

    A row placed gets ``latitude``, ``longitude``, ``coord_source`` = :data:`GEOCODED`
    and ``_geocoded`` (the address found); a row that cannot be gets ``_unplaced`` (the
    reason, quoted by the validation's refusal). Returns one entry per row placed:
    ``{"ligne", "id", "adresse"}``.
    """
    placed: list[dict[str, str]] = []
    for k, row in enumerate(rows):
        if not needs_position(row):
            continue
        isl = isl or location.island(s)
        found = locate(row, s, isl)
        if isinstance(found, str):
            row["_unplaced"] = found
            continue
        row["latitude"], row["longitude"] = repr(found.lat), repr(found.lon)
        row["coord_source"] = GEOCODED
        row["_geocoded"] = found.label + (f" ({found.note})" if found.note else "")
        placed.append({"ligne": row.get("_line") or str(k + 2), "id": row.get("id", ""),
                       "adresse": row["_geocoded"]})
    return placed


@lru_cache(maxsize=2)
def _address_points(s: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from geo import addresses

    addr = addresses.load(s)
    return (addr["lon"].to_numpy(float), addr["lat"].to_numpy(float),
            addr["code_insee"].to_numpy(str), addr["code_post"].to_numpy(str))


@lru_cache(maxsize=2)
def _town_hall_postcodes(s: Settings) -> dict[str, str]:
    """INSEE code → postcode of the town hall's address (``mairies`` source)."""
    import json
    import re

    from geo import fetch
    from geo.errors import DataError

    try:
        feats = json.loads(fetch.resolve("mairies", s).path.read_text(encoding="utf-8"))[
            "features"]
    except (DataError, OSError, KeyError, ValueError):
        return {}
    out = {}
    for f in feats:
        props = f.get("properties") or {}
        found = re.search(r"\b972\d\d\b", str(props.get("mairie_adresse") or ""))
        if found and props.get("code_insee"):
            out[str(props["code_insee"])] = found.group()
    return out


def commune_at(lon: float, lat: float, s: Settings | None = None) -> dict[str, str] | None:
    """The commune of a point and the postcode of the nearest address in it, or None at sea.

    ``{"code_insee", "commune", "code_postal"}``: what a click on the map fills in the
    place form. The postcode is the nearest address point's in the commune, else the
    town hall's ('' when neither is known).
    """
    s = s or settings_mod.get()
    isl = location.island(s)
    inside, codes = location.locate(np.array([lon]), np.array([lat]), isl)
    if not inside[0] or codes[0] is None:
        return None
    code = codes[0]
    xs, ys, insee, post = _address_points(s)
    same = np.flatnonzero(insee == code)
    postcode = ""
    if len(same):
        scale = np.cos(np.radians(lat))
        d2 = ((xs[same] - lon) * scale) ** 2 + (ys[same] - lat) ** 2
        postcode = str(post[same[int(np.argmin(d2))]])
    if not postcode:
        postcode = _town_hall_postcodes(s).get(code, "")
    return {"code_insee": code, "commune": location.commune_names(isl)[code],
            "code_postal": postcode}
