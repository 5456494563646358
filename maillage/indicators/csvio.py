"""CSV files of the indicators: templates, reading and validation, export.

One long format for every indicator: UTF-8, ``,`` separator, the columns
:data:`COLUMNS` (``indicateur, mois, code_insee, lieu, dimension, valeur``) and,
optionally, the informative columns :data:`INFO_COLUMNS` (ignored on import, written
by templates and exports). A file with any invalid row is refused as a whole with
the row numbers and French reasons (:class:`maillage.registry.errors.ValidationError`,
the registry's own mechanism); cells a spreadsheet would run as formulas are refused
on import and neutralised on export (:func:`maillage.csvsafe.cell`).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from analysis import indicators as ind
from geo.errors import MaillageError
from maillage import bounded_csv
from maillage.csvsafe import cell as escape_cell
from maillage.csvsafe import uncell as unescape_cell
from maillage.registry.errors import ValidationError

#: Columns every indicator file has.
COLUMNS = ("indicateur", "mois", "code_insee", "lieu", "dimension", "valeur")
#: Columns written for people (names, who and when), ignored on import.
INFO_COLUMNS = ("commune", "libelle", "source", "saisi_par", "saisi_le")
#: Longest cell accepted.
MAX_CELL = 200
#: Oldest year accepted.
FIRST_YEAR = 2000

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


@dataclass(frozen=True)
class Context:
    """What a file is checked against: the communes and the places of the registry."""

    communes: Mapping[str, str]  # code_insee → name
    places: Mapping[str, str] = field(default_factory=dict)  # place id → code_insee or ""
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Record:
    """One validated figure, ready to be stored."""

    indicator: str
    period: date
    code_insee: str
    place_id: str
    dimension: str
    value: float
    line: int

    @property
    def key(self) -> tuple[str, date, str, str, str]:
        """What makes the figure unique in the store."""
        return (self.indicator, self.period, self.code_insee, self.place_id, self.dimension)


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _fmt(x: float) -> str:
    """A bound written the French way (1 000 000, 4,5)."""
    text = f"{x:,.0f}" if x == int(x) else f"{x:,.2f}".rstrip("0")
    return text.replace(",", "\u202f").replace(".", ",")


def _fold(text: str) -> str:
    """Lower case without accents (to match « video » with « vidéo »)."""
    norm = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in norm if not unicodedata.combining(c))


def _read(source: bounded_csv.Source, bounds: bounded_csv.Bounds | None = None,
          progress: bounded_csv.Progress | None = None
          ) -> tuple[list[dict[str, str]], list[tuple[int | None, str]]]:
    """Rows of a file (with ``_line``), and the rows left out for an import bound.

    The file is read within ``bounds`` (:mod:`maillage.bounded_csv`); structural
    problems raise at once, rows left out are returned so the other rows are checked.
    """
    with bounded_csv.open_csv(source, bounds, progress=progress,
                              error=ValidationError) as reader:
        header = [h.strip().lower() for h in reader.header]
        if len(header) == 1 and ";" in header[0]:
            raise ValidationError([(1, "le séparateur doit être la virgule « , », pas le "
                                       "point-virgule")])
        problems: list[tuple[int | None, str]] = []
        present = set(header)
        missing = [c for c in COLUMNS if c not in present]
        unknown = [c for c in header if c not in COLUMNS + INFO_COLUMNS]
        dupes = bounded_csv.duplicates(header)
        if missing:
            problems.append((1, "colonnes absentes : " + ", ".join(missing)))
        if unknown:
            problems.append((1, "colonnes inconnues : " + bounded_csv.listing(unknown)
                             + f" (colonnes attendues : {', '.join(COLUMNS)})"))
        if dupes:
            problems.append((1, "colonnes en double : " + bounded_csv.listing(dupes)))
        if problems:
            raise ValidationError(problems)
        rows: list[dict[str, str]] = []
        for line, cells in reader.rows():
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append((line, f"{len(cells)} cellules au lieu de {len(header)}"))
                continue
            row = {h: c for h, c in zip(header, cells, strict=True)}
            row["_line"] = str(line)
            rows.append(row)
    if problems:
        raise ValidationError(sorted(problems + reader.problems, key=_line_key))
    if not rows and not reader.problems:
        raise ValidationError([(None, "le fichier ne contient aucune ligne de données")])
    return rows, reader.problems


def _line_key(problem: tuple[int | None, str]) -> int:
    return problem[0] or 0


def read(source: bounded_csv.Source, bounds: bounded_csv.Bounds | None = None
         ) -> list[dict[str, str]]:
    """Rows of a file as dicts of strings, with ``_line`` (header and cells checked).

    ``source`` is the file's bytes, its path or a binary stream, read within the
    import bounds (default: those of the settings).
    """
    rows, left_out = _read(source, bounds)
    if left_out:
        raise ValidationError(left_out)
    return rows


def _cell(row: dict[str, str], name: str, line: int,
          problems: list[tuple[int | None, str]]) -> str | None:
    """The cleaned cell, or None when it is refused (the problem is recorded)."""
    raw = row.get(name) or ""
    value = unescape_cell(raw).strip()
    if len(value) > MAX_CELL:
        problems.append((line, f"{name} : cellule de {len(value)} caractères, "
                               f"{MAX_CELL} au plus"))
        return None
    if escape_cell(value) != value:
        problems.append((line, f"{name} : « {_short(value)} » ressemble à une formule de "
                               "tableur : refusé"))
        return None
    if any(ord(c) < 32 for c in value):
        problems.append((line, f"{name} : caractères de contrôle refusés"))
        return None
    return value


def _indicator(text: str, line: int, problems: list) -> ind.Indicator | None:
    if not text:
        problems.append((line, "indicateur : vide"))
        return None
    found = ind.INDICATORS.get(text) or ind.INDICATORS.get(text.lower())
    if found is None:
        close = difflib.get_close_matches(text.lower(), list(ind.INDICATORS), n=1)
        hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else \
            " (voir « maillage indicators list »)"
        problems.append((line, f"indicateur « {_short(text)} » inconnu{hint}"))
        return None
    if found.computed:
        problems.append((line, f"indicateur « {found.key} » : calculé par Maillage depuis le "
                               "registre des lieux, il ne se saisit pas (retirez la ligne)"))
        return None
    if found.kind == "ratio":
        a, b = found.ratio
        problems.append((line, f"indicateur « {found.key} » : calculé à partir de « {a} » et "
                               f"« {b} », saisissez ces deux-là"))
        return None
    return found


def _month(text: str, line: int, today: date, problems: list) -> date | None:
    match = _MONTH.match(text)
    if not match:
        problems.append((line, f"mois « {_short(text)} » : attendu AAAA-MM, par exemple "
                               f"{today.year}-03"))
        return None
    period = date(int(match[1]), int(match[2]), 1)
    if period.year < FIRST_YEAR:
        problems.append((line, f"mois {text} : avant {FIRST_YEAR}, refusé"))
        return None
    if period > date(today.year, today.month, 1):
        problems.append((line, f"mois {text} : dans le futur, refusé"))
        return None
    return period


def _number(text: str, spec: ind.Indicator, line: int, problems: list) -> float | None:
    if not text:
        problems.append((line, "valeur : vide (complétez-la ou supprimez la ligne)"))
        return None
    clean = _SPACES.sub("", text).replace(",", ".")
    try:
        value = float(clean)
    except ValueError:
        problems.append((line, f"valeur « {_short(text)} » : ce n'est pas un nombre"))
        return None
    if not math.isfinite(value):
        problems.append((line, f"valeur « {_short(text)} » : ce n'est pas un nombre fini"))
        return None
    if spec.integer and value != int(value):
        problems.append((line, f"valeur {_short(text)} : un nombre entier est attendu pour "
                               f"« {spec.key} »"))
        return None
    if not spec.minimum <= value <= spec.maximum:
        problems.append((line, f"valeur {_short(text)} : attendu entre {_fmt(spec.minimum)} "
                               f"et {_fmt(spec.maximum)} pour « {spec.key} »"))
        return None
    return value


def _dimension(text: str, spec: ind.Indicator, line: int, problems: list) -> str | None:
    if not spec.dimensions:
        if text:
            problems.append((line, f"dimension « {_short(text)} » : « {spec.key} » n'en a "
                                   "pas (laissez la cellule vide)"))
            return None
        return ""
    by_fold = {_fold(d): d for d in spec.dimensions}
    if _fold(text) not in by_fold:
        what = "vide" if not text else f"« {_short(text)} » inconnue"
        problems.append((line, f"dimension {what} : valeurs permises pour « {spec.key} » : "
                               f"{', '.join(spec.dimensions)}"))
        return None
    return by_fold[_fold(text)]


def _where(code: str, place: str, spec: ind.Indicator, ctx: Context, line: int,
           problems: list) -> tuple[str, str] | None:
    ok = True
    if code and code not in ctx.communes:
        problems.append((line, f"code_insee « {_short(code)} » : pas une commune de "
                               "Martinique (972xx)"))
        ok = False
    if place and place not in ctx.places:
        problems.append((line, f"lieu « {_short(place)} » : absent du registre des lieux "
                               "(identifiant du lieu ou de l'arrêt)"))
        ok = False
    if spec.scope == "commune" and not code:
        problems.append((line, f"code_insee : obligatoire pour « {spec.key} » (par commune)"))
        ok = False
    if spec.scope == "place" and not place:
        problems.append((line, f"lieu : obligatoire pour « {spec.key} » (par lieu)"))
        ok = False
    if not ok:
        return None
    if place:
        home = ctx.places[place]
        if code and home and code != home:
            problems.append((line, f"lieu « {_short(place)} » : il est à "
                                   f"{ctx.communes.get(home, home)}, pas à "
                                   f"{ctx.communes.get(code, code)}"))
            return None
        code = code or home
    return code, place


def check(rows: Iterable[dict[str, str]], ctx: Context) -> list[Record]:
    """Validate rows of strings; every problem of every row, or the records."""
    problems: list[tuple[int | None, str]] = []
    records: list[Record] = []
    seen: dict[tuple, int] = {}
    for k, row in enumerate(rows):
        line = int(row.get("_line") or k + 2)
        # A refused cell (None) has its problem recorded; the checks using it are skipped.
        cells = {c: _cell(row, c, line, problems) for c in COLUMNS}
        c = cells
        spec = None if c["indicateur"] is None else _indicator(c["indicateur"], line, problems)
        period = None if c["mois"] is None else _month(c["mois"], line, ctx.today, problems)
        if spec is None:
            continue
        value = None if c["valeur"] is None else _number(c["valeur"], spec, line, problems)
        dim = None if c["dimension"] is None else _dimension(c["dimension"], spec, line,
                                                              problems)
        where = (None if c["code_insee"] is None or c["lieu"] is None
                 else _where(c["code_insee"], c["lieu"], spec, ctx, line, problems))
        if period is None or value is None or dim is None or where is None:
            continue
        rec = Record(spec.key, period, where[0], where[1], dim, value, line)
        if rec.key in seen:
            problems.append((line, f"même indicateur, mois, commune, lieu et dimension que la "
                                   f"ligne {seen[rec.key]}"))
            continue
        seen[rec.key] = line
        records.append(rec)
    problems += check_parts(records)
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: (p[0] or 0)))
    return records


def check_parts(records: list[Record]) -> list[tuple[int | None, str]]:
    """A part (seniors, satisfied) larger than its whole for the same month and place."""
    by_key = {r.key: r for r in records}
    problems: list[tuple[int | None, str]] = []
    for part, whole in ind.PARTS:
        for r in records:
            if r.indicator != part:
                continue
            w = by_key.get((whole, *r.key[1:]))
            if w is not None and r.value > w.value:
                problems.append((r.line, f"{part} = {r.value:g} dépasse {whole} = "
                                         f"{w.value:g} (ligne {w.line})"))
    return problems


def parse(source: bounded_csv.Source, ctx: Context | Callable[[], Context],
          bounds: bounded_csv.Bounds | None = None,
          progress: bounded_csv.Progress | None = None) -> list[Record]:
    """Read and validate a file; raise :class:`ValidationError` if any row is invalid.

    ``ctx`` may be a function giving the context, called once the file is read (a file
    refused for a bound costs no query). ``progress(done_rows, bytes_read,
    total_bytes)`` follows the reading (see :func:`maillage.bounded_csv.open_csv`).
    """
    rows, left_out = _read(source, bounds, progress)
    if callable(ctx):
        ctx = ctx()
    if not left_out:
        return check(rows, ctx)
    try:
        check(rows, ctx)
    except ValidationError as exc:
        raise ValidationError(sorted(exc.problems + left_out, key=_line_key)) from None
    raise ValidationError(left_out)


# --------------------------------------------------------------------------- writing


def _write(header: Iterable[str], rows: Iterable[Iterable[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([escape_cell("" if v is None else str(v)) for v in row])
    return buf.getvalue().encode("utf-8")


def template(key: str, communes: Mapping[str, str], places: Mapping[str, tuple[str, str]],
             month: date) -> bytes:
    """A CSV to fill for indicator ``key``: one row per commune, place or dimension.

    ``places`` maps place id → (code_insee, name) for indicators by place (typically
    the labelled places). The ``valeur`` column is left empty for the user.
    """
    spec = ind.INDICATORS.get(key)
    if spec is None or not spec.recordable:
        raise MaillageError(f"« {key} » n'est pas un indicateur à saisir (indicateurs : "
                            f"{', '.join(recordable_keys())}).")
    mois = f"{month.year}-{month.month:02d}"
    dims = spec.dimensions or ("",)
    rows: list[list[str]] = []
    if spec.scope == "commune":
        for code, name in sorted(communes.items()):
            rows += [[key, mois, code, "", d, "", name, spec.label] for d in dims]
    elif spec.scope == "place":
        for pid, (code, name) in sorted(places.items()):
            rows += [[key, mois, code, pid, d, "", communes.get(code, ""), f"{spec.label} — "
                      f"{name}"] for d in dims]
    else:
        rows += [[key, mois, "", "", d, "", "", spec.label] for d in dims]
    return _write([*COLUMNS, "commune", "libelle"], rows)


def recordable_keys() -> list[str]:
    """Keys of the indicators people record."""
    return [k for k, i in ind.INDICATORS.items() if i.recordable]


def export(df: pd.DataFrame, communes: Mapping[str, str]) -> bytes:
    """The measurement table as CSV (formula-like cells neutralised with a ``'``).

    ``df`` has the columns of :data:`analysis.indicators.COLUMNS` plus ``source``,
    ``recorded_by`` and ``recorded_at``.
    """
    header = [*COLUMNS, *INFO_COLUMNS]
    out = []
    for r in df.sort_values(["indicator", "period", "code_insee", "place_id",
                             "dimension"]).itertuples(index=False):
        spec = ind.INDICATORS.get(r.indicator)
        value = float(r.value)
        text = f"{value:.0f}" if spec is not None and spec.integer else f"{value:g}"
        at = getattr(r, "recorded_at", "")
        out.append([r.indicator, f"{r.period:%Y-%m}", r.code_insee, r.place_id, r.dimension,
                    text, communes.get(r.code_insee, ""), spec.label if spec else "",
                    getattr(r, "source", ""), getattr(r, "recorded_by", ""),
                    at.isoformat(timespec="seconds") if hasattr(at, "isoformat") else at])
    return _write(header, out)
