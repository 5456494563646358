"""Bounded imports (issue #13): size, rows, columns and cell length, on every import path.

Each path (places store, indicators store, tour stops, and their three commands) gets a
small valid file; the bounds are set from that file's own measures (its bytes, rows,
columns and longest cell, computed here with the csv module): at those values the file
is accepted, one below and it is refused with a French message naming the setting, the
store left exactly as it was. Small bounds stand in for huge files.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from geo import tours_io
from maillage import auth, bounded_csv, cli, db
from maillage import settings as settings_mod
from maillage.indicators import csvio as ind_csvio
from maillage.indicators import store as ind_store
from maillage.registry import csvio, store
from maillage.registry.errors import ValidationError
from maillage.settings import Settings
from tests.registry_fixtures import row

FED = auth.Actor("fede", "federation")
TODAY = date.today()
YEAR = TODAY.year - 1  # every month of last year is in the past
#: Setting name of each bound, and the field of :class:`Settings` it sets.
BOUNDS = {"bytes": "import_max_bytes", "rows": "import_max_rows",
          "columns": "import_max_columns", "cell": "import_max_cell"}
ENV = {k: f"MAILLAGE_{v.upper()}" for k, v in BOUNDS.items()}


# --------------------------------------------------------------------------- files


def places_file(n: int = 4) -> bytes:
    """``n`` valid places, the last one with a long (but valid) description."""
    rows = [row(id=f"borne-{i}", nom=f"Lieu borné {i}",
                latitude=f"{14.6065 + 0.0005 * i:.4f}") for i in range(n)]
    rows[-1]["presentation_detail"] = "Accueil sans rendez-vous. " * 40
    return csvio.write_csv(rows, include_local=True, private=True)


def indicators_file(n: int = 4) -> bytes:
    """``n`` valid figures (one commune each), the last with a long informative label."""
    lines = ["indicateur,mois,code_insee,lieu,dimension,valeur,libelle"]
    for i in range(n):
        label = "Ateliers tenus" + (" dans la commune" * 8 if i == n - 1 else "")
        lines.append(f"workshops_held,{YEAR}-03,972{i + 1:02d},,,{i + 1},{label}")
    return ("\n".join(lines) + "\n").encode()


def stops_file(n: int = 4) -> bytes:
    """``n`` town halls as stops, the last with a long address."""
    halls = tours_io.town_halls()[6:6 + n]
    lines = ["nom,longitude,latitude,duree_min,adresse"]
    for i, h in enumerate(halls):
        address = "Rue de la Mairie" + (", bâtiment annexe" * 15 if i == n - 1 else "")
        lines.append(f"{h.name},{h.lon},{h.lat},60,\"{address}\"")
    return ("\n".join(lines) + "\n").encode()


def measures(data: bytes) -> dict[str, int]:
    """The file's own value of each bound (bytes, data rows, columns, longest cell)."""
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return {"bytes": len(data), "rows": len(records) - 1, "columns": len(records[0]),
            "cell": max(len(c) for r in records for c in r)}


def exact(s: Settings, data: bytes, over: str | None = None) -> Settings:
    """Settings whose bounds are the file's measures (``over``: that one made 1 smaller)."""
    m = measures(data)
    if over is not None:
        m[over] -= 1
    return replace(s, **{BOUNDS[k]: v for k, v in m.items()})


def _setting_named(message: str, bound: str) -> None:
    assert ENV[bound] in message, message[:600]
    assert "refusé" in message and "trop" in message.lower(), message[:600]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture()
def s(real_settings: Settings, store_url: str) -> Settings:
    """The real island's communes, a store (SQLite, then PostgreSQL) with one place and figure."""
    settings = replace(real_settings, database_url=store_url)
    db.migrate(settings)
    store.import_csv(FED, csvio.write_csv([row()], True, True), "base.csv", settings)
    ind_store.import_csv(FED, f"indicateur,mois,code_insee,lieu,dimension,valeur\n"
                              f"workshops_held,{YEAR}-01,97209,,,1\n".encode(), "base.csv",
                         settings, TODAY)
    yield settings
    db.engine(settings).dispose()


@pytest.fixture()
def cli_env(s: Settings, monkeypatch: pytest.MonkeyPatch):
    """Run the command line on the test store; returns a function setting the bounds."""
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
    if s.data_mirror is not None:
        monkeypatch.setenv("MAILLAGE_DATA_MIRROR", str(s.data_mirror))

    def set_bounds(b: Settings) -> None:
        for k, field in BOUNDS.items():
            monkeypatch.setenv(ENV[k], str(getattr(b, field)))
        settings_mod.get.cache_clear()

    yield set_bounds
    settings_mod.get.cache_clear()


# --------------------------------------------------------------------------- stores


@pytest.mark.parametrize("bound", sorted(BOUNDS))
def test_places_import_over_a_bound_is_refused_and_the_store_unchanged(s: Settings,
                                                                       bound: str) -> None:
    data = places_file()
    before, rev = db.dump(s), store.revision(s)
    with pytest.raises(ValidationError) as err:
        store.import_csv(FED, data, "lieux.csv", exact(s, data, over=bound))
    _setting_named(str(err.value), bound)
    assert "Rien n'a été enregistré" in str(err.value)
    assert db.dump(s) == before and store.revision(s) == rev


def test_places_import_at_the_bounds_is_accepted(s: Settings) -> None:
    data = places_file()
    result = store.import_csv(FED, data, "lieux.csv", exact(s, data))
    assert result["imported"] == measures(data)["rows"]
    assert {f"borne-{i}" for i in range(measures(data)["rows"])} <= {
        r["id"] for r in store.rows(s)}


@pytest.mark.parametrize("bound", sorted(BOUNDS))
def test_indicators_import_over_a_bound_is_refused_and_the_store_unchanged(
        s: Settings, bound: str) -> None:
    data = indicators_file()
    before = db.dump(s)
    with pytest.raises(ValidationError) as err:
        ind_store.import_csv(FED, data, "chiffres.csv", exact(s, data, over=bound), TODAY)
    _setting_named(str(err.value), bound)
    assert db.dump(s) == before


def test_indicators_import_at_the_bounds_is_accepted(s: Settings) -> None:
    data = indicators_file()
    result = ind_store.import_csv(FED, data, "chiffres.csv", exact(s, data), TODAY)
    assert result["rows"] == result["added"] == measures(data)["rows"]


@pytest.mark.parametrize("bound", sorted(BOUNDS))
@pytest.mark.parametrize("as_path", [False, True])
def test_stops_over_a_bound_are_refused(tmp_settings: Settings, tmp_path: Path, bound: str,
                                        as_path: bool) -> None:
    data = stops_file()
    path = tmp_path / "arrets.csv"
    path.write_bytes(data)
    bounds = bounded_csv.of(exact(tmp_settings, data, over=bound))
    with pytest.raises(tours_io.StopsFileError) as err:
        tours_io.read_stops(path if as_path else data, bounds=bounds)
    _setting_named(str(err.value), bound)


def test_stops_at_the_bounds_are_accepted(tmp_settings: Settings) -> None:
    data = stops_file()
    stops = tours_io.read_stops(io.BytesIO(data), bounds=bounded_csv.of(exact(tmp_settings,
                                                                              data)))
    assert len(stops) == measures(data)["rows"]
    assert stops[-1].address.startswith("Rue de la Mairie, bâtiment annexe")


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize("bound", sorted(BOUNDS))
def test_places_command_over_a_bound_exits_2_and_writes_nothing(
        s: Settings, cli_env, tmp_path: Path, capsys, bound: str) -> None:
    data = places_file()
    f = tmp_path / "lieux.csv"
    f.write_bytes(data)
    cli_env(exact(s, data, over=bound))
    before = db.dump(s)
    assert cli.main(["places", "import", str(f)]) == cli.EXIT_USAGE
    _setting_named(capsys.readouterr().err, bound)
    assert db.dump(s) == before


def test_places_command_at_the_bounds_imports(s: Settings, cli_env, tmp_path: Path,
                                              capsys) -> None:
    data = places_file()
    f = tmp_path / "lieux.csv"
    f.write_bytes(data)
    cli_env(exact(s, data))
    assert cli.main(["places", "import", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == measures(data)["rows"]


@pytest.mark.parametrize("bound", sorted(BOUNDS))
def test_indicators_command_over_a_bound_exits_2_and_writes_nothing(
        s: Settings, cli_env, tmp_path: Path, capsys, bound: str) -> None:
    data = indicators_file()
    f = tmp_path / "chiffres.csv"
    f.write_bytes(data)
    cli_env(exact(s, data, over=bound))
    before = db.dump(s)
    assert cli.main(["indicators", "import", str(f)]) == cli.EXIT_USAGE
    _setting_named(capsys.readouterr().err, bound)
    assert db.dump(s) == before


def test_indicators_command_at_the_bounds_imports(s: Settings, cli_env, tmp_path: Path,
                                                  capsys) -> None:
    data = indicators_file()
    f = tmp_path / "chiffres.csv"
    f.write_bytes(data)
    cli_env(exact(s, data))
    assert cli.main(["indicators", "import", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == measures(data)["rows"]


@pytest.fixture()
def bounds_env(monkeypatch: pytest.MonkeyPatch):
    """Set the bounds' variables only (the tours command keeps the default data folder)."""
    def set_bounds(b: Settings) -> None:
        for k, field in BOUNDS.items():
            monkeypatch.setenv(ENV[k], str(getattr(b, field)))
        settings_mod.get.cache_clear()

    yield set_bounds
    settings_mod.get.cache_clear()


def _tours_args(stops: Path, out: Path) -> list[str]:
    return ["tours", "--stops", str(stops), "--vans", "1", "--weeks", "1", "--out", str(out),
            "--depot", "-61.07,14.61", "--start", "2026-06-01", "--time-limit", "2"]


@pytest.mark.parametrize("bound", sorted(BOUNDS))
def test_tours_command_over_a_bound_exits_2_and_writes_nothing(
        tmp_settings: Settings, bounds_env, tmp_path: Path, capsys, bound: str) -> None:
    data = stops_file()
    f, out = tmp_path / "arrets.csv", tmp_path / "plan.json"
    f.write_bytes(data)
    bounds_env(exact(tmp_settings, data, over=bound))
    assert cli.main(_tours_args(f, out)) == cli.EXIT_USAGE
    _setting_named(capsys.readouterr().err, bound)
    assert not out.exists()


def test_tours_command_at_the_bounds_plans(tmp_settings: Settings, bounds_env,
                                           tmp_path: Path, capsys) -> None:
    data = stops_file()
    f, out = tmp_path / "arrets.csv", tmp_path / "plan.json"
    f.write_bytes(data)
    bounds_env(exact(tmp_settings, data))
    assert cli.main(_tours_args(f, out)) == 0, capsys.readouterr().err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["problem"]["stops"]) == measures(data)["rows"]


# --------------------------------------------------------------------------- the reader


B = bounded_csv.Bounds(max_bytes=20 * bounded_csv.MIB, max_rows=20_000, max_columns=100,
                       max_cell=5_000)


class Reads(io.RawIOBase):
    """A binary stream recording how many bytes were read from it."""

    def __init__(self, data: bytes, seekable: bool = True) -> None:
        self._data = io.BytesIO(data)
        self._seekable = seekable
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, b) -> int:
        n = self._data.readinto(b)
        self.read_bytes += n
        return n


def _refusal(source, bounds: bounded_csv.Bounds = B, **kw) -> str:
    with pytest.raises(bounded_csv.Refused) as err, \
            bounded_csv.open_csv(source, bounds, **kw) as reader:
        for _ in reader.rows():
            pass
    return str(err.value)


def test_a_file_too_big_is_refused_before_a_byte_is_read() -> None:
    data = b"\xff" * (B.max_bytes + 1)  # not even UTF-8: the size is checked first
    stream = Reads(data)
    message = _refusal(stream)
    assert "Fichier trop volumineux : 20,0 Mo pour 20 Mo au plus" in message
    assert "MAILLAGE_IMPORT_MAX_BYTES" in message and "UTF-8" not in message
    assert stream.read_bytes == 0


def test_a_stream_of_unknown_size_is_cut_at_the_bound() -> None:
    small = bounded_csv.Bounds(max_bytes=100_000, max_rows=10**6, max_columns=5, max_cell=10)
    stream = Reads(b"a,b\n" + b"1,2\n" * 100_000, seekable=False)
    message = _refusal(io.BufferedReader(stream), small)
    assert "plus de" in message and "MAILLAGE_IMPORT_MAX_BYTES" in message
    assert stream.read_bytes < 300_000  # stopped well before the end (400 004)


def test_a_4_mb_one_line_file_is_refused_after_reading_a_fraction_of_it() -> None:
    data = b"colonne," * (4 * bounded_csv.MIB // 8)
    stream = Reads(data)
    message = _refusal(stream)
    assert "ligne 1 : ligne trop longue" in message
    assert "MAILLAGE_IMPORT_MAX_COLUMNS" in message and "MAILLAGE_IMPORT_MAX_CELL" in message
    assert stream.read_bytes < len(data) // 2


def test_a_header_of_40000_cells_is_refused_for_its_columns() -> None:
    header = ",".join(f"c{i}" for i in range(40_000)).encode()
    message = _refusal(header + b"\n1,2\n")
    assert "Trop de colonnes : l'en-tête en a 40\u202f000 pour 100 au plus" in message
    assert "MAILLAGE_IMPORT_MAX_COLUMNS" in message


def test_too_many_rows_are_refused_with_the_bound() -> None:
    few = replace(B, max_rows=5)
    message = _refusal(b"a,b\n" + b"1,2\n" * 6, few)
    assert "dépasse 5 lignes" in message and "MAILLAGE_IMPORT_MAX_ROWS" in message
    with bounded_csv.open_csv(b"a,b\n" + b"1,2\n" * 5, few) as reader:
        assert len(list(reader.rows())) == 5


def test_a_long_cell_leaves_its_row_out_and_names_it() -> None:
    short = replace(B, max_cell=10)
    with bounded_csv.open_csv(b"nom,adresse\nA,rue\nB," + b"x" * 11 + b"\nC,0123456789\n",
                              short) as reader:
        rows = list(reader.rows())
    assert [r[1][0] for r in rows] == ["A", "C"]
    assert len(reader.problems) == 1 and reader.problems[0][0] == 3
    assert "« adresse » trop longue : 11 caractères pour 10 au plus" in reader.problems[0][1]
    assert "MAILLAGE_IMPORT_MAX_CELL" in reader.problems[0][1]


def test_progress_is_reported_as_rows_are_read() -> None:
    n = 2 * bounded_csv.PROGRESS_EVERY + 7
    data = b"a,b\n" + b"1,2\n" * n
    calls: list[tuple[int, int, int]] = []
    with bounded_csv.open_csv(data, B, progress=lambda *a: calls.append(a)) as reader:
        assert sum(1 for _ in reader.rows()) == n
    rows = [c[0] for c in calls]
    assert rows == sorted(rows) and rows[-1] == n
    assert bounded_csv.PROGRESS_EVERY in rows
    assert calls[-1][1] == calls[-1][2] == len(data)


def test_every_problem_of_a_file_is_listed_with_the_long_cell(s: Settings) -> None:
    """A row left out for a long cell does not hide the other rows' problems."""
    rows = [row(id="a-1"), row(id="a-2", date_maj="hier"), row(id="a-3")]
    rows[2]["presentation_detail"] = "x" * 101
    before = db.dump(s)
    with pytest.raises(ValidationError) as err:
        store.import_csv(FED, csvio.write_csv(rows, True, True), "x.csv",
                         replace(s, import_max_cell=100))
    message = str(err.value)
    assert "ligne 3 :" in message and "« hier » n'est pas une date" in message
    assert "ligne 4 : cellule « presentation_detail » trop longue" in message
    assert db.dump(s) == before


# --------------------------------------------------------------------------- linear checks


def _dup_header(n: int, first: list[str]) -> bytes:
    return (",".join(first + ["doublon"] * n) + "\n").encode()


def test_duplicates_are_counted_in_linear_time() -> None:
    """40 000 columns: a quadratic check would take minutes (pytest would hang visibly)."""
    names = [f"c{i % 20_000}" for i in range(40_000)]
    dupes = bounded_csv.duplicates(names)
    assert len(dupes) == 20_000 and dupes[0] == "c0"


def test_40000_duplicate_columns_are_reported_by_each_import() -> None:
    wide = replace(B, max_columns=50_000)
    places = _dup_header(40_000, list(csvio.columns(True, True)))
    with pytest.raises(ValidationError, match="colonnes en double : doublon"):
        csvio.read_csv(places, wide)
    figures = _dup_header(40_000, list(ind_csvio.COLUMNS))
    with pytest.raises(ValidationError, match="colonnes en double : doublon"):
        ind_csvio.read(figures, wide)
    stops = _dup_header(40_000, list(tours_io.REQUIRED))
    with pytest.raises(tours_io.StopsFileError, match="colonne\\(s\\) en double : doublon"):
        tours_io.read_stops(stops, bounds=wide)


def test_unknown_columns_are_listed_briefly() -> None:
    wide = replace(B, max_columns=50_000)
    data = (",".join(list(ind_csvio.COLUMNS) + [f"x{i}" for i in range(30_000)]) + "\n")
    with pytest.raises(ValidationError) as err:
        ind_csvio.read(data.encode(), wide)
    assert "x0, x1" in str(err.value) and "(30\u202f000 en tout)" in str(err.value)
    assert len(str(err.value)) < 2_000


def test_settings_read_the_bounds_from_the_environment(monkeypatch) -> None:
    for k, v in {"BYTES": "1000", "ROWS": "7", "COLUMNS": "9", "CELL": "11"}.items():
        monkeypatch.setenv(f"MAILLAGE_IMPORT_MAX_{k}", v)
    got = bounded_csv.of(settings_mod.from_env())
    assert got == bounded_csv.Bounds(1000, 7, 9, 11)
    monkeypatch.setenv("MAILLAGE_IMPORT_MAX_ROWS", "beaucoup")
    with pytest.raises(ValueError, match="MAILLAGE_IMPORT_MAX_ROWS"):
        settings_mod.from_env()

