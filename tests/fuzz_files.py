"""Hypothesis strategies that break a valid CSV file in the ways hand-typed spreadsheets do.

A file is a :class:`Table` (header and rows of strings). :func:`malformed` draws one to
three *breaking* mutations (each certain to make the file invalid: a bad cell, a
missing/renamed/duplicated column, a wrong cell count, swapped coordinates, a duplicate
id, an enormous field, ``;`` separators, a non UTF-8 encoding, an empty file) plus
optional harmless ones (UTF-8 BOM, CRLF line ends, HTML or formula text in free-text
cells). It returns the bytes and what the refusal must name (:class:`Expect`).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import strategies as st

#: Files generated and refused per import, filled by the fuzz tests (printed at the end).
COUNTS: dict[str, Counter] = {}

HTML = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>")
FORMULAS = ("=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x.test\",\"clic\")", "+1+1", "-2+3",
            "@SUM(A1:A9)", "=1+1")


@dataclass(frozen=True)
class Spec:
    """One import: its valid base file and the cells known to be refused, by column."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: column → values that are always refused in that column
    bad: dict[str, tuple[str, ...]]
    #: free-text columns where HTML or formulas are accepted as text (harmless mutation)
    free_text: tuple[str, ...]
    #: column holding the unique id (duplicate ids), and the (lon, lat) columns
    id_col: str
    lon_col: str
    lat_col: str
    #: the longest cell the import accepts (longer is refused)
    max_cell: int
    #: columns the import cannot do without (dropping or renaming one is refused)
    required: tuple[str, ...]
    #: columns whose length the import checks (the enormous-field mutation)
    big: tuple[str, ...]


@dataclass
class Expect:
    """What the refusal must say: line numbers it names, and file-level words."""

    lines: set[int] = field(default_factory=set)
    #: lines of structural breaks (wrong cell count, a cell beyond the csv module's limit):
    #: reading stops or skips the other checks there, so at least one of them is named
    any_lines: set[int] = field(default_factory=set)
    words: list[str] = field(default_factory=list)  # any one of them (file-level problem)
    kinds: list[str] = field(default_factory=list)


def _serialise(header: list[str], rows: list[list[str]], delimiter: str, newline: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


ROW_KINDS = ("bad_cell", "empty_required", "enormous", "cell_count", "swap_coords",
             "duplicate_id")
HEADER_KINDS = ("drop_column", "rename_column", "extra_column", "duplicate_column")
FILE_KINDS = ("semicolon", "encoding", "empty", "header_only")


@st.composite
def malformed(draw: st.DrawFn, spec: Spec) -> tuple[bytes, Expect]:
    """A broken version of ``spec``'s valid file, and what its refusal must name."""
    header = list(spec.header)
    rows = [list(r) for r in spec.rows]
    exp = Expect()
    n_breaks = draw(st.integers(1, 3))
    kinds = draw(st.lists(st.sampled_from(ROW_KINDS + HEADER_KINDS + FILE_KINDS),
                          min_size=n_breaks, max_size=n_breaks))
    # Harmless noise first: HTML or formula text in free-text cells.
    for _ in range(draw(st.integers(0, 2))):
        k = draw(st.integers(0, len(rows) - 1))
        col = header.index(draw(st.sampled_from(spec.free_text)))
        rows[k][col] = draw(st.sampled_from(HTML + FORMULAS))
    file_level = [k for k in kinds if k in FILE_KINDS]
    header_level = [k for k in kinds if k in HEADER_KINDS]
    free_rows = list(draw(st.permutations(range(len(rows)))))  # each row mutated once at most
    for kind in sorted((k for k in kinds if k in ROW_KINDS), key=lambda k: k != "duplicate_id"):
        _row_mutation(draw, kind, spec, header, rows, exp, free_rows)
    touched: set[str] = set()  # one header mutation per column (a duplicate then dropped
    for kind in header_level:  # column would give a valid header back)
        exp.kinds.append(kind)
        present = [c for c in header if c in spec.header and c not in touched]
        pool = [c for c in present if c in spec.required] if kind in (
            "drop_column", "rename_column") else present
        col = draw(st.sampled_from(pool))
        touched.add(col)
        i = header.index(col)
        if kind == "drop_column":
            header.pop(i)
            for r in rows:
                r.pop(i) if i < len(r) else None
        elif kind == "rename_column":
            header[i] = draw(st.sampled_from((col.upper() + "_", col + " (1)", "Colonne1",
                                              col.replace("_", " ") + "x", "")))
        elif kind == "extra_column":
            header.append(draw(st.sampled_from(("remarques", "Colonne 33", "<b>x</b>",
                                                "=cmd|' /C calc'!A0"))))
            for r in rows:
                r.append("x")
        else:
            header.append(col)
            for r in rows:
                r.append("x")
    if exp.any_lines:
        exp.lines = set()
    if header_level:
        exp.lines, exp.any_lines = {1}, set()
    delimiter, newline = ",", draw(st.sampled_from(("\n", "\r\n")))
    text_rows = rows
    if "semicolon" in file_level:
        delimiter = ";"
        exp.kinds.append("semicolon")
    text = _serialise(header, text_rows, delimiter, newline)
    if "header_only" in file_level:
        text = _serialise(header, [], delimiter, newline)
        exp.kinds.append("header_only")
    if "empty" in file_level:
        text = draw(st.sampled_from(("", "\n", "  \r\n", ",,,\n")))
        exp.kinds.append("empty")
    bom = draw(st.booleans())
    encoding = "utf-8"
    if "encoding" in file_level:
        encoding = draw(st.sampled_from(("cp1252", "latin-1", "utf-16", "mac_roman")))
    data = text.encode(encoding, errors="replace")
    if bom and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        exp.kinds.append("encoding")
        exp.words = ["UTF-8"]
        exp.lines, exp.any_lines = set(), set()
        return data, exp
    if file_level:
        exp.any_lines = set()
    if "empty" in exp.kinds:
        exp.words, exp.lines = ["vide", "aucun", "colonne"], set()
    elif "semicolon" in exp.kinds:
        exp.words, exp.lines = ["point-virgule", "colonne"], set()
    elif header_level:
        exp.words = []
    elif "header_only" in exp.kinds:
        exp.words, exp.lines = ["aucun", "vide"], set()
    return data, exp


def _row_mutation(draw: st.DrawFn, kind: str, spec: Spec, header: list[str],
                  rows: list[list[str]], exp: Expect, free_rows: list[int]) -> None:
    if kind == "duplicate_id" and len(free_rows) < 3:
        kind = "bad_cell"  # keep a free row for every later mutation
    k = free_rows.pop()
    line = k + 2
    if kind == "swap_coords" and not spec.lon_col:
        kind = "bad_cell"
    exp.kinds.append(kind)
    if kind == "bad_cell":
        col = draw(st.sampled_from(sorted(spec.bad)))
        rows[k][header.index(col)] = draw(st.sampled_from(spec.bad[col]))
    elif kind == "empty_required":
        col = draw(st.sampled_from([c for c in spec.bad if "" in spec.bad[c]]))
        rows[k][header.index(col)] = draw(st.sampled_from(("", "   ")))
    elif kind == "enormous":
        col = draw(st.sampled_from(spec.big))
        size = draw(st.sampled_from((spec.max_cell + 1, spec.max_cell * 5, 200_000)))
        rows[k][header.index(col)] = draw(st.sampled_from("xé<=")) * size
        if size > csv.field_size_limit():
            exp.any_lines.add(line)
    elif kind == "cell_count":
        if draw(st.booleans()) and len(rows[k]) > 1:
            rows[k].pop(draw(st.integers(0, len(rows[k]) - 1)))
        else:
            rows[k].append(draw(st.sampled_from(("", "en trop", "=1+1"))))
        exp.any_lines.add(line)
    elif kind == "swap_coords":
        lo, la = header.index(spec.lon_col), header.index(spec.lat_col)
        if lo < len(rows[k]) and la < len(rows[k]):
            rows[k][lo], rows[k][la] = rows[k][la], rows[k][lo]
    else:  # duplicate: row k takes row j's id (or, without id column, its whole content)
        j = free_rows.pop()
        if spec.id_col:
            i = header.index(spec.id_col)
            rows[k][i] = rows[j][i]
        else:
            rows[k] = list(rows[j])
        line = max(j, k) + 2
    exp.lines.add(line)


def record(name: str, refused: bool = False, crashed: bool = False,
           partial: bool = False) -> None:
    """Count one generated file for the summary (refused with a message, crash, partial write)."""
    c = COUNTS.setdefault(name, Counter())
    c["générés"] += 1
    c["refusés"] += int(refused)
    c["plantages"] += int(crashed)
    c["écritures partielles"] += int(partial)
