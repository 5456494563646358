"""Stop selections in the store: who may save, what is refused, the round trip to the tours."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from analysis.schedule import Period, parse_windows
from analysis.tours import Problem, Van
from geo import tours_io
from maillage import auth, db, selection_store
from maillage.settings import MARTINIQUE_BBOX

FED = auth.Actor("fede", "federation")
EPCI = auth.Actor("planif-sud", "epci")


@pytest.fixture()
def s(tmp_settings, store_url):
    """A fresh store on SQLite, then on PostgreSQL."""
    out = replace(tmp_settings, database_url=store_url)
    db.migrate(out)
    return out


def _stops(**over) -> pd.DataFrame:
    """Three stops as the « Arrêts proposés » page hands them (extra columns included)."""
    df = pd.DataFrame({
        "rang": [1, 2, 3],
        "cand_id": ["mairie:97209", "bus:4521", "registre:lieu-7"],
        "nom": ["Mairie de Fort-de-France", "Arrêt « Église », bourg",
                "=HYPERLINK(\"http://x\") ![x](http://x/y.png)"],
        "commune": ["Fort-de-France", "Le Lamentin", "Sainte-Anne"],
        "source": ["mairie", "bus", "registre"],
        "lon": [-61.0733, -61.0021, -60.8775],
        "lat": [14.6036, 14.6110, 14.4402],
        "gain": [120.0, 80.5, 40.2],
        "frequence": ["hebdomadaire", "bimensuelle", "mensuelle"],
        "duree_min": [120, 90, 180],
        "fenetres": ["", "sam 07:00-12:00", "lun-ven 14:00-17:00; mer 08:00-11:00"],
    })
    for k, v in over.items():
        df[k] = v
    return df


PARAMS = {"mode": "walk", "minutes": 15.0, "weights": {"seniors": 1.0}, "scope": None,
          "p": 3, "method": "glouton"}


def test_the_public_is_refused_and_nothing_is_written(s) -> None:
    before = db.dump(s)
    for who in (None, "fede", {"username": "fede", "role": "federation"},
                auth.Actor("lecteur", "lecture")):
        with pytest.raises(auth.AuthError) as refused:
            selection_store.save_selection(who, "Essai", _stops(), PARAMS, s)
        assert "sélection d'arrêts" in str(refused.value)
    assert db.dump(s) == before
    assert selection_store.list_selections(s).empty


def test_epci_and_federation_save_and_everyone_lists(s) -> None:
    a = selection_store.save_selection(EPCI, "Espace Sud, 15 min", _stops(), PARAMS, s)
    b = selection_store.save_selection(FED, "  Fédération  ", _stops().head(2), PARAMS, s)
    assert (a.created_by, b.created_by, b.name) == ("planif-sud", "fede", "Fédération")
    listed = selection_store.list_selections(s)
    assert set(listed["pk"]) == {a.pk, b.pk}
    by_pk = listed.set_index("pk")
    assert by_pk.loc[a.pk, "n_stops"] == 3 and by_pk.loc[b.pk, "n_stops"] == 2
    assert by_pk.loc[b.pk, "created_by"] == "fede"
    label = selection_store.label(listed[listed["pk"] == a.pk].iloc[0].to_dict())
    day = pd.Timestamp(a.created_at).tz_convert("America/Martinique")
    assert label.startswith("Espace Sud, 15 min — planif-sud, ")
    assert f"{day:%d/%m/%Y}" in label and "(3 arrêts)" in label


def test_round_trip_gives_the_stops_the_tours_planner_reads(s, tmp_path) -> None:
    given = _stops()
    saved = selection_store.save_selection(FED, "Aller-retour", given, PARAMS, s)
    back = selection_store.get_selection(saved.pk, s)
    assert back == saved
    assert back.params == PARAMS
    assert [r["nom"] for r in back.rows] == list(given["nom"])
    assert [r["commune"] for r in back.rows] == list(given["commune"])
    assert [r["source"] for r in back.rows] == list(given["source"])
    assert [r["id"] for r in back.rows] == list(given["cand_id"])

    stops = back.stops
    assert [x.name for x in stops] == list(given["nom"])
    assert [x.lon for x in stops] == pytest.approx(list(given["lon"]))
    assert [x.lat for x in stops] == pytest.approx(list(given["lat"]))
    assert [x.frequency for x in stops] == list(given["frequence"])
    assert [x.duration for x in stops] == [m * 60 for m in given["duree_min"]]
    assert [x.windows for x in stops] == [parse_windows(w) for w in given["fenetres"]]
    # the same stops as the tours' stops file gives for the same rows
    csv = pd.DataFrame({"nom": given["nom"], "longitude": given["lon"],
                        "latitude": given["lat"], "frequence": given["frequence"],
                        "duree_min": given["duree_min"], "fenetres": given["fenetres"],
                        "id": given["cand_id"]}).to_csv(index=False)
    assert tours_io.read_stops(io.StringIO(csv)) == stops
    # and a plan keeps them through its stored form
    problem = Problem(stops, [Van("Camion 1", (-61.0733, 14.6036))],
                      Period.with_holidays(date(2026, 6, 1), 2))
    assert tours_io.problem_from_dict(tours_io.problem_to_dict(problem)).stops == stops


@pytest.mark.parametrize(("lon", "lat"), [
    (-61.5, 14.6),  # in the sea, west of the island
    (-61.07, 15.2),  # north of the bounding box (Dominica)
    (float("nan"), 14.6),
    (float("inf"), 14.6),
])
def test_points_off_the_island_are_refused_in_french(s, lon, lat) -> None:
    before = db.dump(s)
    df = _stops()
    df.loc[1, ["lon", "lat"]] = [lon, lat]
    with pytest.raises(selection_store.SelectionError) as refused:
        selection_store.save_selection(FED, "Hors de l'île", df, PARAMS, s)
    message = str(refused.value)
    assert "rien n'a été enregistré" in message and "arrêt 2" in message
    lon_min, _, lon_max, _ = MARTINIQUE_BBOX
    assert ("hors de la Martinique" in message and str(lon_min) in message
            and str(lon_max) in message) or "nombre illisible" in message
    assert db.dump(s) == before


@pytest.mark.parametrize(("column", "value", "needle"), [
    ("nom", "x" * (selection_store.MAX_TEXT + 1), "caractères, 500 au plus"),
    ("nom", "  ", "nom vide"),
    ("nom", "Arrêt\x00caché", "caractères de contrôle"),
    ("commune", "Le\nLamentin", "caractères de contrôle"),
    ("frequence", "quotidienne", "fréquence « quotidienne » inconnue"),
    ("duree_min", 5, "durée 5 min"),
    ("fenetres", "samedi matin", "illisible"),
    ("cand_id", "mairie:97209", "en double"),
])
def test_bad_stops_are_refused_whole(s, column, value, needle) -> None:
    before = db.dump(s)
    df = _stops()
    df[column] = df[column].astype(object)
    df.loc[2, column] = value
    with pytest.raises(selection_store.SelectionError, match=needle):
        selection_store.save_selection(EPCI, "Refusée", df, PARAMS, s)
    assert db.dump(s) == before


@pytest.mark.parametrize(("name", "stops", "params", "needle"), [
    ("", None, PARAMS, "nom de la sélection vide"),
    ("n" * 201, None, PARAMS, "200 au plus"),
    ("Vide", "empty", PARAMS, "aucun arrêt"),
    ("Trop", "many", PARAMS, "501 arrêts, 500 au plus"),
    ("Mode", None, {**PARAMS, "mode": "bike"}, "mode « bike » inconnu"),
    ("Minutes", None, {**PARAMS, "minutes": 0}, "hors de 0 à 60"),
    ("Poids", None, {**PARAMS, "weights": {"chats": 1}}, "Pondération inconnue"),
    ("Territoire", None, {**PARAMS, "scope": ["75056"]}, "codes INSEE de Martinique"),
    ("Inconnu", None, {**PARAMS, "cle": 1}, "paramètres inconnus : cle"),
])
def test_bad_names_and_parameters_are_refused(s, name, stops, params, needle) -> None:
    before = db.dump(s)
    df = _stops()
    if stops == "empty":
        df = df.head(0)
    elif stops == "many":
        df = pd.concat([df.head(1)] * 501, ignore_index=True)
        df["cand_id"] = [f"bus:{i}" for i in range(501)]
    with pytest.raises(selection_store.SelectionError, match=needle):
        selection_store.save_selection(FED, name, df, params, s)
    assert db.dump(s) == before


def test_a_failed_write_leaves_the_store_unchanged(s, monkeypatch) -> None:
    first = selection_store.save_selection(FED, "Tournée nord", _stops(), PARAMS, s)
    before = db.dump(s)
    # the name is taken: refused, nothing added
    with pytest.raises(selection_store.SelectionConflictError, match="s'appelle déjà"):
        selection_store.save_selection(EPCI, "Tournée nord", _stops().head(1), PARAMS, s)
    assert db.dump(s) == before

    # a failure after the row was sent to the database: rolled back
    def failing(row):
        raise OSError("disque plein")

    monkeypatch.setattr(selection_store, "_selection", failing)
    with pytest.raises(OSError):
        selection_store.save_selection(FED, "Tournée sud", _stops(), PARAMS, s)
    monkeypatch.undo()
    assert db.dump(s) == before
    assert list(selection_store.list_selections(s)["pk"]) == [first.pk]


def test_missing_or_damaged_selections_are_refused_on_read(s) -> None:
    with pytest.raises(selection_store.SelectionError, match="n° 999 introuvable"):
        selection_store.get_selection(999, s)
    saved = selection_store.save_selection(FED, "Abîmée", _stops(), PARAMS, s)
    damaged = selection_store.get_selection(saved.pk, s).rows[0] | {"lat": 16.25}
    rows = [damaged, *saved.rows[1:]]
    with db.write_session(s) as session:
        session.execute(text("UPDATE stop_selections SET stops_json = :j WHERE pk = :pk"),
                        {"j": json.dumps(rows), "pk": saved.pk})
    with pytest.raises(selection_store.SelectionError) as refused:
        selection_store.get_selection(saved.pk, s)
    assert f"n° {saved.pk} est illisible" in str(refused.value)
    assert "hors de la Martinique" in str(refused.value)


def test_the_migration_can_be_undone_and_redone(s) -> None:
    from alembic import command
    from sqlalchemy import inspect

    def tables() -> set[str]:
        with db.engine(s).connect() as conn:
            return set(inspect(conn).get_table_names())

    assert "stop_selections" in tables()
    revisions = db.known_revisions()
    cfg = db.alembic_config()
    with db.engine(s).connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revisions[revisions.index("0006_stop_selections") - 1])
        conn.commit()
    assert "stop_selections" not in tables() and "signin_throttles" in tables()
    with db.engine(s).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
    assert selection_store.save_selection(FED, "Après", _stops(), PARAMS, s).pk >= 1
