"""CSV and GeoJSON files in the national standard: read, validate, write.

CSV: UTF-8, ``,`` separator, the 32 standard columns in schema order, then optional
local columns (:data:`standard.LOCAL_FIELDS`). Cells a spreadsheet would run as a
formula are written with a leading ``'`` (:func:`escape_cell`); reading removes
exactly the prefixes writing added (:func:`unescape_cell`), so export → import is
lossless. A file with any invalid row is refused as a whole (:func:`parse`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterable

import numpy as np

from maillage.registry import location, standard
from maillage.registry.errors import ValidationError

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _needs_prefix(value: str) -> bool:
    """True when the cell must carry a protective ``'`` (recursive on existing quotes)."""
    if not value:
        return False
    if value[0] in FORMULA_START:
        return not _NUMBER.match(value)  # plain numbers (-61.07, +596…) are not formulas
    return value[0] == "'" and _needs_prefix(value[1:])


def escape_cell(value: str) -> str:
    """Neutralise a formula-like cell by prefixing ``'`` (plain numbers are left alone)."""
    return "'" + value if _needs_prefix(value) else value


def unescape_cell(value: str) -> str:
    """Inverse of :func:`escape_cell`: remove the ``'`` that :func:`escape_cell` added."""
    if value.startswith("'") and _needs_prefix(value[1:]):
        return value[1:]
    return value


def columns(include_local: bool, private: bool) -> list[str]:
    """Columns of an export: the standard's, then local ones (private ones on request)."""
    cols = list(standard.fields())
    if include_local:
        cols += [c for c in standard.LOCAL_FIELDS if private or c not in standard.PRIVATE_FIELDS]
    return cols


def write_csv(rows: Iterable[dict[str, str]], include_local: bool = True,
              private: bool = False) -> bytes:
    """The CSV bytes of ``rows`` (values as strings)."""
    cols = columns(include_local, private)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        writer.writerow([escape_cell(row.get(c) or "") for c in cols])
    return buf.getvalue().encode("utf-8")


def write_geojson(rows: Iterable[dict[str, str]], include_local: bool = True,
                  private: bool = False) -> bytes:
    """A GeoJSON FeatureCollection (EPSG:4326) with every column as a property."""
    cols = columns(include_local, private)
    features = []
    for row in rows:
        lon, lat = row.get("longitude"), row.get("latitude")
        geom = ({"type": "Point", "coordinates": [float(lon), float(lat)]}
                if lon and lat else None)
        features.append({"type": "Feature", "geometry": geom,
                         "properties": {c: row.get(c) or "" for c in cols}})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, indent=1).encode("utf-8")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError([(None, "le fichier n'est pas encodé en UTF-8 (enregistrez-le "
                                      "en « CSV UTF-8 »)")]) from exc


def _csv_reason(exc: csv.Error) -> str:
    """A French reason for the csv module's errors."""
    text = str(exc)
    if "field larger than field limit" in text:
        return f"une cellule dépasse {csv.field_size_limit()} caractères"
    if "NUL" in text:
        return "caractère nul : ce n'est pas un fichier texte"
    return text


def read_csv(data: bytes) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of strings (header checked, formula prefixes removed)."""
    text = _decode(data)
    if not text.strip():
        raise ValidationError([(None, "le fichier est vide")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise ValidationError([(1, f"en-tête illisible ({_csv_reason(exc)})")]) from exc
    problems: list[tuple[int | None, str]] = []
    if len(header) == 1 and ";" in header[0]:
        raise ValidationError([(1, "le séparateur doit être la virgule « , », pas le "
                                   "point-virgule")])
    known = set(standard.fields()) | set(standard.LOCAL_FIELDS)
    missing = [c for c in standard.fields() if c not in header]
    unknown = [c for c in header if c not in known]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if missing:
        problems.append((1, "colonnes du standard absentes : " + ", ".join(missing)))
    if unknown:
        problems.append((1, "colonnes inconnues : " + ", ".join(unknown)))
    if dupes:
        problems.append((1, "colonnes en double : " + ", ".join(dupes)))
    if problems:
        raise ValidationError(problems)
    rows = []
    line_no = 1
    try:
        for line_no, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append((line_no, f"{len(cells)} cellules au lieu de {len(header)}"))
                continue
            row = {h: unescape_cell(c) for h, c in zip(header, cells, strict=True)}
            row["_line"] = str(line_no)
            rows.append(row)
    except csv.Error as exc:
        problems.append((line_no + 1, f"ligne CSV illisible ({_csv_reason(exc)})"))
    if problems:
        raise ValidationError(problems)
    if not rows:
        raise ValidationError([(None, "le fichier ne contient aucun lieu")])
    return rows


def check_rows(rows: list[dict[str, str]], isl: location.Island | None = None
               ) -> tuple[list[tuple[int | None, str]], list[tuple[int | None, str]]]:
    """Errors and warnings of every row: standard, local rules, Martinique, duplicates."""
    errors: list[tuple[int | None, str]] = []
    warnings: list[tuple[int | None, str]] = []
    seen: dict[str, int] = {}
    coords: list[tuple[int, float, float]] = []
    for k, row in enumerate(rows):
        line = int(row.get("_line") or k + 2)
        clean = {c: (row.get(c) or "").strip() for c in row}
        for msg in standard.check_standard(clean) + standard.check_local_rules(clean):
            errors.append((line, msg))
        rid = clean.get("id", "")
        if rid:
            if rid in seen:
                errors.append((line, f"identifiant « {rid} » déjà utilisé ligne {seen[rid]}"))
            seen.setdefault(rid, line)
        with contextlib.suppress(KeyError, ValueError):
            coords.append((line, float(clean["longitude"]), float(clean["latitude"])))
    if coords:
        isl = isl or location.island()
        names = location.commune_names(isl)
        lines = [c[0] for c in coords]
        inside, codes = location.locate(np.array([c[1] for c in coords]),
                                        np.array([c[2] for c in coords]), isl)
        by_line = {int(r.get("_line") or k + 2): r for k, r in enumerate(rows)}
        for line, ok, code, (_, lon, lat) in zip(lines, inside, codes, coords, strict=True):
            if not ok:
                hint = " (latitude et longitude inversées ?)" if location.in_bbox(lat, lon) else ""
                errors.append((line, f"coordonnées {lat}, {lon} hors de la Martinique{hint}"))
                continue
            stated = (by_line[line].get("code_insee") or "").strip()
            if stated and code and stated != code:
                warnings.append((line, f"le point est à {names[code]}, pas dans la commune "
                                       f"déclarée ({names.get(stated, stated)})"))
    return errors, warnings


def parse(data: bytes, isl: location.Island | None = None
          ) -> tuple[list[dict[str, str]], list[tuple[int | None, str]]]:
    """Read and validate a file; raise :class:`ValidationError` if any row is invalid."""
    rows = read_csv(data)
    errors, warnings = check_rows(rows, isl)
    if errors:
        raise ValidationError(errors)
    return rows, warnings
