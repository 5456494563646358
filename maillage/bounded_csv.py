"""Bounded reading of the CSV files users import (places, indicators, tour stops).

Every CSV import reads its file through :func:`open_csv`, which refuses a file as soon
as it breaks one of the import bounds of :mod:`maillage.settings` (``import_max_*``,
variables ``MAILLAGE_IMPORT_MAX_*``), each refusal naming the bound and its setting:

* the size in bytes is checked first, before anything is decoded (a path is measured
  with ``stat``, a seekable stream by seeking to its end, others while reading);
* the file is then decoded (UTF-8, BOM allowed) and parsed as it streams: one physical
  line at a time through a bounded ``readline``, each record (a row, quoted line breaks
  included) at most :attr:`Bounds.max_record_chars` characters, so a 4 MB one-line file
  is refused after reading about 1 MB of it;
* the header may have at most ``max_columns`` columns, the file at most ``max_rows``
  lines after the header;
* a row with more than ``max_columns`` cells or a cell longer than ``max_cell`` is
  reported with its line number and left out (the import is refused at the end, with
  every other problem of the file): :attr:`Reader.problems`.

Every check is linear in the input; nothing holds the file twice (bytes are wrapped,
never copied; the text is decoded line by line). Line numbers are record numbers, the
header being line 1 (the row numbers a spreadsheet shows). Pure Python, no Streamlit.

Usage::

    with bounded_csv.open_csv(data, bounds, error=ValidationError) as reader:
        header = reader.header
        for line, cells in reader.rows():
            ...
    problems = reader.problems  # rows left out, (line, French message)
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from maillage.errors import MaillageError

#: One mebibyte: Streamlit's ``server.maxUploadSize`` counts in these, so do we (« Mo »).
MIB = 1024 * 1024
#: The progress callback is called every this many rows (and once at the end).
PROGRESS_EVERY = 1000

Problem = tuple[int | None, str]
#: What :func:`open_csv` reads: the bytes, a path, a binary stream (or a text stream).
Source = bytes | bytearray | memoryview | str | Path | IO[bytes] | IO[str]
#: ``progress(done_rows, bytes_read, total_bytes)``; ``total_bytes`` is 0 when unknown.
Progress = Callable[[int, int, int], None]

_UTF8 = "le fichier n'est pas encodé en UTF-8 (enregistrez-le en « CSV UTF-8 »)"


class Refused(MaillageError):
    """A file broke a bound (or is not a readable CSV); nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"ligne {n} : {m}" if n is not None else m for n, m in problems]
        super().__init__("\n".join(["Le fichier est refusé ; rien n'a été enregistré.",
                                    *lines[:200]]))


@dataclass(frozen=True)
class Bounds:
    """The import bounds (see :func:`of` for the ones of the settings)."""

    max_bytes: int
    max_rows: int
    max_columns: int
    max_cell: int

    @property
    def max_record_chars(self) -> int:
        """Longest record accepted: every column full, quoted, its quotes doubled."""
        return self.max_columns * (2 * self.max_cell + 3) + 2


def of(s: Any = None) -> Bounds:
    """The bounds of settings ``s`` (default: the process settings)."""
    if s is None:
        from maillage import settings

        s = settings.get()
    return Bounds(s.import_max_bytes, s.import_max_rows, s.import_max_columns,
                  s.import_max_cell)


# --------------------------------------------------------------------------- French numbers


def fmt_int(n: int) -> str:
    """An integer the French way (20 000)."""
    return f"{n:,}".replace(",", "\u202f")


def fmt_size(n: int) -> str:
    """A size in Mo (1 Mo = 1 048 576 octets, as Streamlit counts), Ko or octets."""
    if n >= MIB:
        value, unit = n / MIB, "Mo"
    elif n >= 1024:
        value, unit = n / 1024, "Ko"
    else:
        return f"{fmt_int(n)} octet{'s' if n > 1 else ''}"
    return f"{value:.1f}".replace(".", ",") + f" {unit}"


def fmt_bound(n: int) -> str:
    """A size bound, without a useless decimal (20 Mo, 1,5 Mo, 300 octets)."""
    text = fmt_size(n)
    return text.replace(",0 ", " ")


def listing(items: Iterable[str], limit: int = 20, width: int = 40) -> str:
    """At most ``limit`` names, each cut at ``width`` characters, and how many in all."""
    items = list(items)
    shown = [i if len(i) <= width else i[: width - 1] + "…" for i in items[:limit]]
    more = f" … ({fmt_int(len(items))} en tout)" if len(items) > limit else ""
    return ", ".join(shown) + more


def duplicates(names: Iterable[str]) -> list[str]:
    """Names present more than once, sorted (linear: one :class:`Counter`)."""
    return sorted(n for n, k in Counter(names).items() if k > 1)


# --------------------------------------------------------------------------- messages


def _bytes_message(size: int, bounds: Bounds, at_least: bool = False) -> str:
    what = f"plus de {fmt_size(size)}" if at_least else fmt_size(size)
    return (f"Fichier trop volumineux : {what} pour {fmt_bound(bounds.max_bytes)} au plus "
            "(réglage MAILLAGE_IMPORT_MAX_BYTES).")


def _columns_message(n: int, bounds: Bounds) -> str:
    return (f"Trop de colonnes : l'en-tête en a {fmt_int(n)} pour "
            f"{fmt_int(bounds.max_columns)} au plus (réglage MAILLAGE_IMPORT_MAX_COLUMNS).")


def _rows_message(bounds: Bounds) -> str:
    return (f"Trop de lignes : le fichier dépasse {fmt_int(bounds.max_rows)} lignes après "
            "l'en-tête, le maximum (réglage MAILLAGE_IMPORT_MAX_ROWS). Découpez-le en "
            "plusieurs fichiers.")


def _record_message(bounds: Bounds) -> str:
    return (f"ligne trop longue : plus de {fmt_int(bounds.max_record_chars)} caractères, "
            f"soit plus de {fmt_int(bounds.max_columns)} colonnes de "
            f"{fmt_int(bounds.max_cell)} caractères (réglages MAILLAGE_IMPORT_MAX_COLUMNS "
            "et MAILLAGE_IMPORT_MAX_CELL)")


def _cell_message(column: str, length: int, bounds: Bounds, at_least: bool = False) -> str:
    what = f"plus de {fmt_int(length)}" if at_least else fmt_int(length)
    where = f"cellule « {column[:40]} »" if column else "cellule"
    return (f"{where} trop longue : {what} caractères pour {fmt_int(bounds.max_cell)} au "
            "plus (réglage MAILLAGE_IMPORT_MAX_CELL)")


def _row_width_message(n: int, bounds: Bounds) -> str:
    return (f"{fmt_int(n)} cellules pour {fmt_int(bounds.max_columns)} au plus "
            "(réglage MAILLAGE_IMPORT_MAX_COLUMNS)")


def _os_message(path: str | Path, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"fichier introuvable : {path}"
    if isinstance(exc, IsADirectoryError):
        return f"{path} est un dossier, pas un fichier"
    if isinstance(exc, PermissionError):
        return f"fichier illisible (droits insuffisants) : {path}"
    return f"fichier illisible : {path}"


# --------------------------------------------------------------------------- streams


class _TooBig(Exception):
    def __init__(self, count: int) -> None:
        self.count = count


class _RecordTooLong(Exception):
    pass


class _Nul(Exception):
    pass


class _Counted(io.RawIOBase):
    """A binary stream counting the bytes read; raises :class:`_TooBig` past ``limit``.

    Closing it does not close the wrapped stream (it belongs to the caller).
    """

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        readinto = getattr(self._raw, "readinto", None)
        if readinto is not None:
            n = readinto(b) or 0
        else:  # a stream without readinto (read only)
            chunk = self._raw.read(len(b))
            n = len(chunk)
            b[:n] = chunk
        self.count += n
        if self.count > self._limit:
            raise _TooBig(self.count)
        return n


class _Text:
    """A text stream given as such: counts characters against the byte bound."""

    def __init__(self, text: IO[str], limit: int) -> None:
        self._text = text
        self._limit = limit
        self.count = 0

    def readline(self, size: int) -> str:
        line = self._text.readline(size)
        self.count += len(line)
        if self.count > self._limit:
            raise _TooBig(self.count)
        return line


class _Lines:
    """Physical lines for :func:`csv.reader`, at most ``limit`` characters per record.

    The reader resets :attr:`used` before each record; a record (quoted line breaks
    included) longer than the budget raises :class:`_RecordTooLong` at once, having
    read at most ``limit + 1`` characters of it.
    """

    def __init__(self, text, limit: int) -> None:
        self._text = text
        self._limit = limit
        self.used = 0
        self.first: str | None = None  # a line read ahead (the header's first line)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.first is not None:
            line, self.first = self.first, None
            self.used += len(line)
            return line
        line = self._text.readline(self._limit - self.used + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self._limit:
            raise _RecordTooLong
        if "\x00" in line:
            raise _Nul
        return line


def _size_of(source: Any) -> int | None:
    """Bytes left in ``source`` without reading it (None when it cannot tell)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).nbytes
    if isinstance(source, str | Path):
        return os.stat(source).st_size
    try:
        if source.seekable():
            here = source.tell()
            end = source.seek(0, io.SEEK_END)
            source.seek(here)
            return end - here
    except (AttributeError, OSError, ValueError):
        pass
    size = getattr(source, "size", None)  # Streamlit's UploadedFile
    return size if isinstance(size, int) else None


# --------------------------------------------------------------------------- the reader


@dataclass
class Reader:
    """The header and rows of a file being read (see :func:`open_csv`)."""

    header: list[str]
    bounds: Bounds
    #: rows left out for a bound (too many cells, a cell too long), with French reasons
    problems: list[Problem] = field(default_factory=list)
    _pending: list[tuple[int, list[str]]] = field(default_factory=list)
    _next: Callable[[], tuple[int, list[str]] | None] | None = None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, cells)`` of every row after the header (blank ones too)."""
        assert self._next is not None
        while True:
            record = self._next()
            if record is None:
                return
            line, cells = record
            if len(cells) > self.bounds.max_columns:
                self.problems.append((line, _row_width_message(len(cells), self.bounds)))
                continue
            if cells and max(map(len, cells)) > self.bounds.max_cell:
                k = max(range(len(cells)), key=lambda i: len(cells[i]))
                name = self.header[k].strip() if k < len(self.header) else ""
                self.problems.append((line, _cell_message(name, len(cells[k]), self.bounds)))
                continue
            yield line, cells


@contextmanager
def open_csv(source: Source, bounds: Bounds | None = None, *,
             delimiter: str | Callable[[str], str] = ",", progress: Progress | None = None,
             error: Callable[[list[Problem]], Exception] = Refused) -> Iterator[Reader]:
    """Open a CSV file (bytes, path, binary or text stream) within ``bounds``.

    ``delimiter`` may be a function of the header's first line (to tell ``;`` from ``,``).
    A file breaking a bound, not UTF-8, holding NUL characters, empty or unreadable is
    refused with ``error(problems)`` (French, naming the bound and its setting), raised
    on entry or while iterating :meth:`Reader.rows`. ``progress(done_rows, bytes_read,
    total_bytes)`` is called every :data:`PROGRESS_EVERY` rows and at the end.
    """
    bounds = bounds or of()
    if isinstance(source, str | Path):
        try:
            size = _size_of(source)
        except OSError as exc:
            raise error([(None, _os_message(source, exc))]) from None
    else:
        size = _size_of(source)
    if size is not None and size > bounds.max_bytes:
        raise error([(None, _bytes_message(size, bounds))])
    opened: IO[bytes] | None = None
    if isinstance(source, str | Path):
        try:
            opened = open(source, "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise error([(None, _os_message(source, exc))]) from None
        binary: IO[bytes] | None = opened
    elif isinstance(source, bytes | bytearray | memoryview):
        binary = io.BytesIO(source)  # shares the bytes, no copy
    elif isinstance(source, io.TextIOBase):
        binary = None
    else:
        binary = source  # type: ignore[assignment]
    counter: _Counted | _Text
    if binary is None:
        counter = _Text(source, bounds.max_bytes)  # type: ignore[arg-type]
        text: Any = counter
    else:
        counter = _Counted(binary, bounds.max_bytes)
        text = io.TextIOWrapper(io.BufferedReader(counter, 64 * 1024), encoding="utf-8-sig",
                                newline="")
    total = size or 0
    lines = _Lines(text, bounds.max_record_chars)
    if bounds.max_cell >= csv.field_size_limit():  # only ever raised (it is process-wide)
        csv.field_size_limit(bounds.max_cell + 1)
    state = {"record": 0, "rows": 0}

    def guarded(read: Callable[[], list[str] | None]) -> list[str] | None:
        """One record, every failure turned into a French refusal."""
        line = state["record"] + 1
        lines.used = 0
        try:
            return read()
        except _TooBig as exc:
            raise error([(None, _bytes_message(exc.count, bounds, at_least=True))]) from None
        except _RecordTooLong:
            raise error([(line, _record_message(bounds))]) from None
        except _Nul:
            raise error([(None, "le fichier contient des caractères nuls : ce n'est pas "
                               "un CSV texte")]) from None
        except UnicodeDecodeError:
            raise error([(None, _UTF8)]) from None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise error([(line, _cell_message("", csv.field_size_limit(), bounds,
                                                 at_least=True))]) from None
            where = "en-tête illisible" if line == 1 else "ligne CSV illisible"
            raise error([(line, f"{where} ({exc})")]) from None

    try:
        first = guarded(lambda: next(lines, None))  # type: ignore[arg-type]
        if first is None:
            raise error([(None, "le fichier est vide")])
        lines.first = first
        delim = delimiter(first) if callable(delimiter) else delimiter
        records = csv.reader(lines, delimiter=delim)
        reader = Reader([], bounds)

        def pull() -> tuple[int, list[str]] | None:
            """The next record and its number (the header is 1)."""
            if reader._pending:
                return reader._pending.pop()
            cells = guarded(lambda: next(records, None))
            if cells is None:
                return None
            state["record"] += 1
            return state["record"], cells

        first_record = pull()
        assert first_record is not None
        header = first_record[1]
        if not any(c.strip() for c in header):  # blank first line: empty file?
            blank = 0
            while (ahead := pull()) is not None and not any(c.strip() for c in ahead[1]):
                blank += 1
                if blank > bounds.max_rows:
                    raise error([(None, _rows_message(bounds))])
            if ahead is None:
                raise error([(None, "le fichier est vide")])
            reader._pending.append(ahead)
        if len(header) > bounds.max_columns:
            raise error([(1, _columns_message(len(header), bounds))])
        reader.header = header

        def next_row() -> tuple[int, list[str]] | None:
            record = pull()
            if record is None:
                if progress is not None:
                    progress(state["rows"], counter.count, total)
                return None
            state["rows"] = record[0] - 1  # rows after the header, blank ones too
            if state["rows"] > bounds.max_rows:
                raise error([(None, _rows_message(bounds))])
            if progress is not None and state["rows"] % PROGRESS_EVERY == 0:
                progress(state["rows"], counter.count, total)
            return record

        reader._next = next_row
        yield reader
    finally:
        if isinstance(text, io.TextIOWrapper):
            with contextlib.suppress(ValueError, OSError):
                text.detach()  # closing it would close the caller's stream
        if opened is not None:
            opened.close()

