"""The store: round-trip in the standard, all-or-nothing imports, sign-in, concurrent edits."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from maillage import auth, db
from maillage.db.models import Base, LabelEvent
from maillage.registry import csvio, standard, store
from maillage.registry.errors import ConflictError, ValidationError
from maillage.settings import Settings
from tests.registry_fixtures import row, settings_with_db

FED = auth.Actor("fede", "federation")

TRICKY = row(
    id="tricky-1", nom="<img src=x onerror=alert(1)>", adresse="=cmd|' /C calc'!A0",
    complement_adresse="'quoted", presentation_resume="@SUM(1) « guillemets », virgule, \"quote\"",
    presentation_detail="ligne 1\nligne 2 ; point-virgule | barre",
    courriels="a@b.fr|c@d.fr", site_web="https://a.fr|https://b.fr", notes="-note interne",
    label_status="labellisé", label_since="2025-02-01", labelled_on="2025-02-01",
    kind="arrêt de l'atelier mobile", host_type="café", possible_stop="oui",
    origin="test:1", structure_parente="+HYPERLINK(\"x\")",
)


@pytest.fixture()
def s(real_settings: Settings, store_url: str) -> Settings:
    """The real island's communes, and a fresh store on SQLite then PostgreSQL."""
    settings = replace(real_settings, database_url=store_url)
    db.migrate(settings)
    yield settings
    db.engine(settings).dispose()


def _csv(rows: list[dict[str, str]]) -> bytes:
    return csvio.write_csv(rows, include_local=True, private=True)


def dump(s: Settings) -> dict[str, list[tuple]]:
    """Every row of every table, to compare the store before and after."""
    with db.read_session(s) as session:
        names = inspect(session.get_bind()).get_table_names()
        return {n: sorted(map(tuple, session.execute(text(f'SELECT * FROM "{n}"')).all()),
                          key=repr) for n in names}


def test_export_then_import_loses_nothing(s: Settings, tmp_path: Path) -> None:
    rows = [row(), TRICKY, row(id="test-2", nom="Deuxième", services="", horaires="")]
    store.import_csv(FED, _csv(rows), "a.csv", s)
    exported = csvio.write_csv(store.rows(s), include_local=True, private=True)
    back = {r["id"]: r for r in csv.DictReader(io.StringIO(exported.decode()))}
    assert back["tricky-1"]["adresse"].startswith("'=")  # neutralised in the file
    parsed = {r["id"]: {k: v for k, v in r.items() if k != "_line"}
              for r in csvio.read_csv(exported)}
    for original in rows:
        assert parsed[original["id"]] == original
    other = settings_with_db(s, tmp_path / "second")
    (tmp_path / "second").mkdir()
    db.migrate(other)
    store.import_csv(FED, exported, "b.csv", other)
    assert store.rows(other) == store.rows(s)
    assert store.import_csv(FED, exported, "c.csv", s)["unchanged"] == len(rows)
    db.engine(other).dispose()


def test_standard_only_export_is_valid_for_frictionless(s: Settings, tmp_path: Path) -> None:
    from frictionless import Resource, Schema

    store.import_csv(FED, _csv([row(), TRICKY]), "a.csv", s)
    path = tmp_path / "standard.csv"
    path.write_bytes(csvio.write_csv(store.rows(s), include_local=False))
    schema = Schema.from_descriptor(json.loads(standard.schema_text()))
    report = Resource(path=path.name, basepath=str(tmp_path), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_geojson_export_has_every_place(s: Settings) -> None:
    store.import_csv(FED, _csv([row(), TRICKY]), "a.csv", s)
    gj = json.loads(csvio.write_geojson(store.rows(s), include_local=True, private=False))
    assert len(gj["features"]) == 2
    assert "notes" not in gj["features"][0]["properties"]
    assert gj["features"][0]["geometry"]["type"] == "Point"


@pytest.mark.parametrize("bad", [
    {"code_postal": "75001"},
    {"latitude": "48.85", "longitude": "2.35"},
    {"horaires": "lundi matin"},
    {"telephone": "0596 00 00 00"},
    {"pivot": "21972213900018"},
    {"services": "Réparer des vélos"},
    {"date_maj": "15/01/2025"},
    {"nom": ""},
])
def test_a_file_with_one_bad_row_is_refused_and_nothing_written(s: Settings, bad: dict) -> None:
    store.import_csv(FED, _csv([row()]), "a.csv", s)
    before = dump(s)
    rows = [row(id="ok-2", nom="Changé"), row(id="ok-3"), row(id="bad-4", **bad)]
    with pytest.raises(ValidationError) as err:
        store.import_csv(FED, _csv(rows), "b.csv", s)
    assert "ligne 4" in str(err.value) and "Rien n'a été enregistré" in str(err.value)
    assert dump(s) == before


def test_semicolon_files_and_missing_columns_are_refused(s: Settings) -> None:
    with pytest.raises(ValidationError, match="virgule"):
        store.import_csv(FED, b"id;nom\n1;x\n", "a.csv", s)
    with pytest.raises(ValidationError, match="colonnes du standard absentes"):
        store.import_csv(FED, b"id,nom\n1,x\n", "a.csv", s)


def test_a_failure_in_the_middle_of_a_write_leaves_the_store_unchanged(
        s: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store.import_csv(FED, _csv([row()]), "a.csv", s)
    before = dump(s)
    real = store.to_values
    calls = {"n": 0}

    def failing(r: dict[str, str]) -> dict:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disque plein")
        return real(r)

    monkeypatch.setattr(store, "to_values", failing)
    rows = [row(id=f"n-{i}") for i in range(6)]
    with pytest.raises(OSError):
        store.import_csv(FED, _csv(rows), "b.csv", s)
    assert dump(s) == before


def test_editing_is_refused_when_signed_out_or_without_the_role(s: Settings) -> None:
    before = dump(s)
    for actor in (None, auth.Actor("planif", "epci")):
        with pytest.raises(auth.AuthError):
            store.save_place(actor, row(), None, s)
        with pytest.raises(auth.AuthError):
            store.import_csv(actor, _csv([row()]), "a.csv", s)
        with pytest.raises(auth.AuthError):
            store.change_label(actor, "test-1", "candidat", 1, s=s)
    assert dump(s) == before


def test_the_second_of_two_concurrent_edits_is_refused(s: Settings) -> None:
    store.save_place(FED, row(), None, s)
    alice = auth.Actor("alice", "federation")
    bob = auth.Actor("bob", "federation")
    opened = 1  # both opened version 1
    assert store.save_place(alice, row(nom="Nom d'Alice"), opened, s) == 2
    with pytest.raises(ConflictError, match="alice"):
        store.save_place(bob, row(nom="Nom de Bob"), opened, s)
    with db.read_session(s) as session:
        assert store.get_place(session, "test-1").nom == "Nom d'Alice"
    with pytest.raises(ConflictError):
        store.change_label(bob, "test-1", "candidat", opened, s=s)


def test_label_changes_are_kept_with_who_when_and_why(s: Settings) -> None:
    store.save_place(FED, row(), None, s)
    v = store.change_label(FED, "test-1", "candidat", 1, "demande reçue", s=s)
    v = store.change_label(auth.Actor("chef", "admin"), "test-1", "labellisé", v, "visite ok", s=s)
    history = store.label_history("test-1", s)
    assert [(h["from"], h["to"], h["by"]) for h in history] == [
        ("", "candidat", "fede"), ("candidat", "labellisé", "chef")]
    assert store.count_labelled(s) == 1
    with db.read_session(s) as session:
        place = store.get_place(session, "test-1")
        assert place.labelled_on is not None and place.version == v == 3


def test_places_frame_serves_the_coverage_engine(s: Settings) -> None:
    store.import_csv(FED, _csv([row(), TRICKY]), "a.csv", s)
    gdf = store.places_frame(s, public=True)
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 2
    assert "notes" not in gdf.columns
    assert set(gdf["epci_court"]) == {"CACEM"}
    assert gdf["open_now"].isin([True, False]).all()


def test_migrations_match_the_models(s: Settings) -> None:
    import importlib
    import pkgutil

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import maillage

    for info in pkgutil.walk_packages(maillage.__path__, "maillage."):
        if info.name.endswith(("models", "_models")):  # every feature's tables, one metadata
            importlib.import_module(info.name)

    with db.engine(s).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(real_settings: Settings,
                                                     tmp_path: Path) -> None:
    s = settings_with_db(real_settings, tmp_path)
    db.migrate(s)
    with db.read_session(s) as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.scalars(select(LabelEvent)).all() == []


# --------------------------------------------------------------------------- typed places


def _address(real_settings: Settings, code_insee: str = "97209") -> dict[str, object]:
    """A real numbered address of the island (BANO), the first of the commune."""
    from geo import addresses

    addr = addresses.load(real_settings)
    a = addr[addr["code_insee"] == code_insee].sort_values(["voie", "numero"]).iloc[0]
    return {"adresse": f"{a['numero']} {a['voie']}", "code_postal": a["code_post"],
            "code_insee": code_insee, "lon": float(a["lon"]), "lat": float(a["lat"])}


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    import math

    dx = (lon1 - lon2) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, (lat1 - lat2) * 110_540)


def test_a_typed_place_gets_an_id_an_international_phone_and_an_unknown_siret(
        s: Settings) -> None:
    typed = row(id="", pivot="", telephone="0596 52 00 00", nom="Boutique Ti Kaz' à Zot")
    first = store.save_entry(FED, typed, None, s)
    second = store.save_entry(FED, typed, None, s)
    assert first.created and first.version == 1
    assert first.id.startswith("fed-boutique-ti-kaz-a-zot-") and second.id != first.id
    places = store.places_frame(s, public=False).set_index("id")
    assert set(places.index) == {first.id, second.id}
    place = places.loc[first.id]
    assert place["telephone"] == "+596596520000"
    assert place["pivot"] == standard.PIVOT_UNKNOWN and bool(place["siret_a_completer"])
    assert any("SIRET à compléter" in n for n in first.notes)
    assert any("+596596520000" in n for n in first.notes)
    # a known SIRET, typed with spaces, is kept and not flagged
    known = store.save_entry(FED, row(id="", pivot="219 722 139 00017"), None, s)
    assert not store.places_frame(s).set_index("id").loc[known.id, "siret_a_completer"]


def test_a_phone_that_is_no_number_is_refused_in_french_and_nothing_written(
        s: Settings) -> None:
    before = dump(s)
    with pytest.raises(ValidationError) as err:
        store.save_entry(FED, row(id="", telephone="05 96"), None, s)
    assert "« 05 96 » n'est pas un numéro valide" in str(err.value)
    assert "La fiche est refusée" in str(err.value)
    assert [d["champ"] for d in err.value.details] == ["telephone"]
    assert dump(s) == before


def test_a_place_typed_without_coordinates_is_placed_from_its_address(
        s: Settings, real_settings: Settings) -> None:
    where = _address(real_settings)
    saved = store.save_entry(FED, row(id="", latitude="", longitude="",
                                      adresse=where["adresse"],
                                      code_postal=where["code_postal"]), None, s)
    place = store.places_frame(s).set_index("id").loc[saved.id]
    assert place["coord_source"] == "adresse géocodée"
    assert _metres(float(place["longitude"]), float(place["latitude"]),
                   where["lon"], where["lat"]) < 50
    assert any("d'après l'adresse" in n for n in saved.notes)
    # an address the index does not know cannot place it: refused, with the reason
    with pytest.raises(ValidationError, match="introuvable"):
        store.save_entry(FED, row(id="", latitude="", longitude="",
                                  adresse="Zzyzx Qwertyuiop"), None, s)


def test_the_standards_example_without_coordinates_is_imported_geocoded_and_flagged(
        s: Settings, real_settings: Settings) -> None:
    """The official example row, moved to a real address of Martinique (the registry
    only holds the island's places: its Reims address would be refused for that), with
    its latitude and longitude emptied."""
    from geo import fetch

    example = next(csv.DictReader(io.StringIO(fetch.text("schema_example"))))
    where = _address(real_settings)
    example.update(commune="Fort-de-France", code_postal=where["code_postal"],
                   code_insee="97209", adresse=where["adresse"], latitude="", longitude="")
    assert standard.check_standard(example) == []  # still valid under the standard
    result = store.import_csv(FED, _csv([example, row()]), "exemple.csv", s)
    assert result["imported"] == 2
    assert [(g["ligne"], g["id"]) for g in result["geocoded"]] == [(2, "structure-1")]
    assert any(w.startswith("ligne 2 : position trouvée d'après l'adresse")
               for w in result["warnings"])
    places = store.places_frame(s).set_index("id")
    place = places.loc["structure-1"]
    assert place["coord_source"] == "adresse géocodée"
    assert _metres(float(place["longitude"]), float(place["latitude"]),
                   where["lon"], where["lat"]) < 50
    assert not places.loc["test-1", "coord_source"]  # given coordinates: not flagged


def test_a_typology_outside_the_list_is_imported_with_a_warning(s: Settings) -> None:
    result = store.import_csv(FED, _csv([row(typologie="CCAS,MUNI"),
                                         row(id="t-2", typologie="EPN|INCONNU")]), "a.csv", s)
    assert result["imported"] == 2
    assert any(w.startswith("ligne 2 : Typologie") and "CCAS|MUNI" in w
               for w in result["warnings"])
    assert any(w.startswith("ligne 3 : Typologie") and "« INCONNU »" in w
               for w in result["warnings"])
    assert store.places_frame(s).set_index("id").loc["test-1", "typologie"] == "CCAS,MUNI"


def test_places_import_json_refusal_is_json_with_details(
        s: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from maillage import cli
    from maillage import settings as settings_mod

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
    if s.data_mirror is not None:
        monkeypatch.setenv("MAILLAGE_DATA_MIRROR", str(s.data_mirror))
    settings_mod.get.cache_clear()
    f = tmp_path / "lieux.csv"
    f.write_bytes(_csv([row(), row(id="b-2", code_postal="75001", horaires="lundi matin")]))
    before = dump(s)
    try:
        code = cli.main(["places", "import", str(f), "--json"])
    finally:
        settings_mod.get.cache_clear()
    assert code == cli.EXIT_USAGE == 2
    out = json.loads(capsys.readouterr().out)
    assert "refusé" in out["erreur"]
    assert {(d["ligne"], d["champ"]) for d in out["details"]} == {(3, "code_postal"),
                                                                 (3, "horaires")}
    assert all(d["message"] for d in out["details"])
    assert dump(s) == before
