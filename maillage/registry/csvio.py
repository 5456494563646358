"""CSV and GeoJSON files in the national standard: read, validate, write.

CSV: UTF-8, ``,`` separator, the 32 standard columns in schema order, then optional
local columns (:data:`standard.LOCAL_FIELDS`). Cells a spreadsheet would run as a
formula are written with a leading ``'`` (:func:`escape_cell`); reading removes
exactly the prefixes writing added (:func:`unescape_cell`), so export → import is
lossless. A file with any invalid row is refused as a whole (:func:`parse`); rows
without coordinates are first placed from their address when :func:`parse` is given a
way to (``place``, see :mod:`maillage.registry.geocoding`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable

import numpy as np

from maillage import bounded_csv, csvsafe
from maillage.registry import geocoding, location, standard
from maillage.registry.errors import ValidationError

#: First characters that make a spreadsheet evaluate a cell (see :mod:`maillage.csvsafe`).
FORMULA_START = csvsafe.FORMULA_START
#: Neutralise a formula-like cell by prefixing ``'`` (plain numbers are left alone).
escape_cell = csvsafe.cell
#: Inverse of :func:`escape_cell`: remove the ``'`` that :func:`escape_cell` added.
unescape_cell = csvsafe.uncell


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


def _read(source: bounded_csv.Source, bounds: bounded_csv.Bounds | None = None,
          progress: bounded_csv.Progress | None = None
          ) -> tuple[list[dict[str, str]], list[tuple[int | None, str]]]:
    """Rows of a CSV file, and the rows left out for a bound (read within ``bounds``).

    Structural problems (header, cell counts, a bound of the whole file) raise at once;
    rows left out for a bound (a cell too long…) are returned, so that the other rows
    are still checked and every problem of the file is listed together.
    """
    with bounded_csv.open_csv(source, bounds, progress=progress,
                              error=ValidationError) as reader:
        header = [h.strip() for h in reader.header]
        problems: list[tuple[int | None, str]] = []
        if len(header) == 1 and ";" in header[0]:
            raise ValidationError([(1, "le séparateur doit être la virgule « , », pas le "
                                       "point-virgule")])
        known = set(standard.fields()) | set(standard.LOCAL_FIELDS)
        present = set(header)
        missing = [c for c in standard.fields() if c not in present]
        unknown = [c for c in header if c not in known]
        dupes = bounded_csv.duplicates(header)
        if missing:
            problems.append((1, "colonnes du standard absentes : " + ", ".join(missing)))
        if unknown:
            problems.append((1, "colonnes inconnues : " + bounded_csv.listing(unknown)))
        if dupes:
            problems.append((1, "colonnes en double : " + bounded_csv.listing(dupes)))
        if problems:
            raise ValidationError(problems)
        rows = []
        for line_no, cells in reader.rows():
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append((line_no, f"{len(cells)} cellules au lieu de {len(header)}"))
                continue
            row = {h: unescape_cell(c) for h, c in zip(header, cells, strict=True)}
            row["_line"] = str(line_no)
            rows.append(row)
    if problems:
        raise ValidationError(sorted(problems + reader.problems, key=_line_key))
    if not rows and not reader.problems:
        raise ValidationError([(None, "le fichier ne contient aucun lieu")])
    return rows, reader.problems


def _line_key(problem: tuple[int | None, str]) -> int:
    return problem[0] or 0


def read_csv(source: bounded_csv.Source, bounds: bounded_csv.Bounds | None = None
             ) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of strings (header checked, formula prefixes removed).

    ``source`` is the file's bytes, its path or a binary stream, read within the
    import bounds (default: those of the settings, see :mod:`maillage.bounded_csv`).
    """
    rows, left_out = _read(source, bounds)
    if left_out:
        raise ValidationError(left_out)
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
        warnings += [(line, msg) for msg in standard.check_warnings(clean)]
        if row.get("_geocoded"):
            warnings.append((line, standard.Problem(
                f"position trouvée d'après l'adresse : {row['_geocoded']} (approximative)",
                "latitude")))
        rid = clean.get("id", "")
        if rid:
            if rid in seen:
                errors.append((line, standard.Problem(
                    f"identifiant « {rid} » déjà utilisé ligne {seen[rid]}", "id")))
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
                errors.append((line, standard.Problem(
                    f"coordonnées {lat}, {lon} hors de la Martinique{hint}", "latitude")))
                continue
            stated = (by_line[line].get("code_insee") or "").strip()
            if stated and code and stated != code:
                warnings.append((line, standard.Problem(
                    f"le point est à {names[code]}, pas dans la commune déclarée "
                    f"({names.get(stated, stated)})", "code_insee")))
    return errors, warnings


def parse(source: bounded_csv.Source,
          isl: location.Island | Callable[[], location.Island] | None = None,
          bounds: bounded_csv.Bounds | None = None,
          progress: bounded_csv.Progress | None = None,
          place: Callable[[list[dict[str, str]], location.Island], object] | None = None,
          ) -> tuple[list[dict[str, str]], list[tuple[int | None, str]]]:
    """Read and validate a file; raise :class:`ValidationError` if any row is invalid.

    ``isl`` may be a function giving the island, called once the file is read (a file
    refused for a bound costs no loading). ``progress(done_rows, bytes_read,
    total_bytes)`` follows the reading (see :func:`maillage.bounded_csv.open_csv`).
    ``place(rows, island)`` fills the coordinates missing from rows (e.g.
    :func:`maillage.registry.geocoding.fill`); rows it placed carry ``_geocoded`` and
    a warning each.
    """
    rows, left_out = _read(source, bounds, progress)
    if callable(isl):
        isl = isl()
    if place is not None and any(geocoding.needs_position(r) for r in rows):
        place(rows, isl or location.island())
    errors, warnings = check_rows(rows, isl)
    if left_out:
        raise ValidationError(sorted(errors + left_out, key=_line_key))
    if errors:
        raise ValidationError(errors)
    return rows, warnings
