"""Cells of the CSV files people download and open in a spreadsheet (OWASP CSV injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may
be run as a formula by a spreadsheet (``=HYPERLINK(…)``, ``@SUM(…)``, DDE); such a cell
gets a leading ``'``, which spreadsheets show as text. Plain numbers (``-61.07``,
``+596``) are left as they are, so numbers stay numbers. A cell that already starts
with ``'`` followed by a formula gets one more ``'``, so :func:`uncell` gives back
exactly what was written (export → import is lossless).

Every CSV that leaves Maillage (page downloads, ``maillage … --out``) goes through
:func:`cell`: the registry (:mod:`maillage.registry.csvio`), the indicators
(:mod:`maillage.indicators.csvio`), the tours (:func:`geo.tours_io.plan_csv`) and the
tables of the pages (:func:`french_excel`, the form French Excel opens in columns, or
:func:`frame_csv`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _needs_prefix(value: str) -> bool:
    """True when the cell must carry a protective ``'`` (recursive on existing quotes)."""
    if not value:
        return False
    if value[0] in FORMULA_START:
        return not _NUMBER.match(value)  # plain numbers (-61.07, +596…) are not formulas
    return value[0] == "'" and _needs_prefix(value[1:])


def cell(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet could run it as a formula."""
    return "'" + value if _needs_prefix(value) else value


def uncell(value: str) -> str:
    """Inverse of :func:`cell`: remove the ``'`` that :func:`cell` added (nothing else)."""
    if value.startswith("'") and _needs_prefix(value[1:]):
        return value[1:]
    return value


def frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells went through :func:`cell`.

    Only text cells change (numeric columns, and numbers inside text columns, stay as
    they are); missing values stay missing.
    """
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            continue
        out[col] = out[col].map(lambda v: cell(v) if isinstance(v, str) else v)
    return out


def frame_csv(df: pd.DataFrame, encoding: str = "utf-8-sig") -> bytes:
    """The CSV bytes of a table for a download (text cells neutralised, no index).

    ``utf-8-sig`` (the default) lets spreadsheets recognise the accents.
    """
    return frame(df).to_csv(index=False).encode(encoding)


def french_excel(df: pd.DataFrame, *, whole: Iterable[str] = (),
                 decimals: int | None = None) -> bytes:
    """The CSV bytes of a table as French Excel opens it, in columns.

    ``;`` between cells, decimal comma, UTF-8 with a byte-order mark (the accents), Windows
    line ends, no index; text cells neutralised by :func:`frame`. The ``whole`` columns
    (counts of people, of households) are rounded to whole numbers; the other float
    columns to ``decimals`` when given. Missing and infinite values are empty cells.
    """
    whole = list(whole)
    unknown = [c for c in whole if c not in df.columns]
    if unknown:
        raise ValueError(f"unknown columns: {unknown}")
    out = frame(df)
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            continue
        if pd.api.types.is_float_dtype(s):
            s = s.mask(s.abs() == float("inf"))
        if col in whole:
            s = s.round().astype("Int64")
        elif decimals is not None and pd.api.types.is_float_dtype(s):
            s = s.round(decimals)
        out[col] = s
    text = out.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    return text.encode("utf-8-sig")
