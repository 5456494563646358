"""Label applications: filing (bounded, rate-limited, never public), review, decision, outbox.

Every store test runs on SQLite and on PostgreSQL (``store_url``). The public read paths
are compared before and after an application is filed (nothing may change), then after
it is labelled (the place must be in each of them).
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from maillage import auth, cli, db
from maillage import settings as settings_mod
from maillage.db.application_models import Application
from maillage.registry import applications as ap
from maillage.registry import csvio, store
from maillage.registry.errors import ConflictError, ValidationError
from maillage.services.applications import (
    ApplicationsQuery,
    ApplicationsService,
    OutboxQuery,
)
from maillage.services.places import PlacesQuery, PlacesService
from maillage.settings import Settings
from tests.registry_fixtures import row

FED = auth.Actor("coordinatrice", "federation")
EPCI = auth.Actor("planif", "epci")
#: A point in Fort-de-France (a click on the map).
LAT, LON = "14.6065", "-61.0695"
APPLICATION_TABLES = {"applications", "application_events"}


@pytest.fixture()
def s(real_settings: Settings, store_url: str) -> Settings:
    """The real island and a fresh store (SQLite, then PostgreSQL) holding one place."""
    settings = replace(real_settings, database_url=store_url)
    db.migrate(settings)
    store.save_place(auth.Actor("admin", "admin"), row(), None, settings)
    yield settings
    db.engine(settings).dispose()


def form(**values) -> ap.ApplicationForm:
    """A valid application from a café placed by a click on the map; override any field."""
    base = {"nom": "Café des Flamboyants", "host_type": "café",
            "adresse": "12 rue Victor Hugo", "commune": "Fort-de-France",
            "latitude": LAT, "longitude": LON, "telephone": "0596 52 00 00",
            "services": ("Accès internet et matériel informatique",),
            "publics": ("Seniors",), "contact_name": "Marie Joseph",
            "contact_email": "marie.joseph@exemple.fr", "consent": True}
    base.update(values)
    return ap.ApplicationForm(**base)


def _tables_changed(before: dict, after: dict) -> set[str]:
    return {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}


# --------------------------------------------------------------------------- public paths


def _cli_json(args: list[str], s: Settings, monkeypatch, capsys) -> object:
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
    settings_mod.get.cache_clear()
    try:
        code = cli.main(args)
    finally:
        settings_mod.get.cache_clear()
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out) if "--json" in args else out


def _records(frame) -> list[dict]:
    """A frame's rows as JSON values (NaN as null: comparable)."""
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def public_views(s: Settings, monkeypatch, capsys, tmp_path) -> dict[str, object]:
    """What the public can read of the registry, every way it can read it."""
    from geo import public_places, supply
    from maillage.indicators import store as ind_store

    rows = store.rows(s)
    frame = store.places_frame(s, public=True).drop(columns=["open_now", "geometry"])
    listed = _cli_json(["places", "list", "--json"], s, monkeypatch, capsys)
    for place in listed["lieux"]:
        place.pop("open_now")  # changes with the clock, not with the registry
    out = tmp_path / "export.csv"
    _cli_json(["places", "export", "--out", str(out), "--public"], s, monkeypatch, capsys)
    return {
        "rows": rows,
        "frame": _records(frame),
        "revision": store.revision(s),
        "labelled": store.count_labelled(s),
        "service": _records(PlacesService(s).run(PlacesQuery()).listing().drop(
            columns=["open_now"])),
        "csv": csvio.write_csv(rows, include_local=False),
        "geojson": csvio.write_geojson(rows, private=False),
        "finder": _records(public_places.load(s)),
        "supply": _records(supply.places(s).drop(columns="geometry")),
        "indicator_places": ind_store.labelled_places(s),
        "indicator_communes": ind_store.place_communes(s),
        "indicators": _records(ind_store.from_registry(s)),
        "cli_list": listed,
        "cli_export": out.read_bytes(),
    }


def test_an_application_is_public_nowhere_until_labelled(s, monkeypatch, capsys,
                                                         tmp_path) -> None:
    name = "Café des Flamboyants"
    before_rows = db.dump(s)
    before = public_views(s, monkeypatch, capsys, tmp_path)
    filed = ap.file_application(None, form(nom=name), "203.0.113.7", s)
    assert filed.recorded and filed.ref.startswith("CAND-")
    assert _tables_changed(before_rows, db.dump(s)) == APPLICATION_TABLES
    after = public_views(s, monkeypatch, capsys, tmp_path)
    for view, value in before.items():
        assert after[view] == value, f"la candidature se voit dans : {view}"
    assert name.encode() not in after["csv"] + after["geojson"] + after["cli_export"]
    # only the Fédération's queue has it
    assert [a["nom"] for a in ap.pending(FED, s)] == [name]

    done = ap.decide(FED, filed.ref, "labellisé", 1, ap.CRITERIA_CODES, "Bienvenue !", s)
    labelled = public_views(s, monkeypatch, capsys, tmp_path)
    assert labelled["labelled"] == before["labelled"] + 1
    assert labelled["revision"] != before["revision"]  # the pages' caches reload
    for view in ("rows", "frame", "service", "finder", "supply"):
        ids = {r["id"] if "id" in r else r["place_id"] for r in labelled[view]}
        assert done.place_id in ids, view
    assert done.place_id in labelled["indicator_places"]
    assert {r["id"] for r in labelled["cli_list"]["lieux"]} >= {done.place_id}
    assert name.encode() in labelled["csv"] and name.encode() in labelled["cli_export"]
    place = {r["id"]: r for r in labelled["rows"]}[done.place_id]
    assert place["label_status"] == "labellisé" and place["telephone"] == "+596596520000"
    assert place["coord_source"] == "clic sur la carte" and place["host_type"] == "café"
    assert [(h["from"], h["to"]) for h in store.label_history(done.place_id, s)] == [
        ("", "candidat"), ("candidat", "labellisé")]
    assert ap.pending(FED, s) == []


def test_a_refused_or_pending_application_never_reaches_the_registry(s) -> None:
    places = store.rows(s)
    one = ap.file_application(None, form(nom="Épicerie Solidaire"), "198.51.100.1", s)
    two = ap.file_application(None, form(nom="Salle de sport du Bourg", host_type="salle de "
                                         "sport"), "198.51.100.2", s)
    ap.decide(FED, one.ref, "refusé", 1, ["accueil"], "Pas d'accès à internet sur place.", s)
    ap.decide(FED, two.ref, "à compléter", 1, [], "Envoyez vos horaires, s'il vous plaît.", s)
    assert store.rows(s) == places
    assert [a["ref"] for a in ap.pending(FED, s)] == [two.ref]  # still in the queue
    assert {a["ref"]: a["status"] for a in ap.list_applications(FED, s)} == {
        one.ref: "refusé", two.ref: "à compléter"}


# --------------------------------------------------------------------------- decisions


def test_each_decision_writes_its_message_in_the_outbox_with_the_history(s) -> None:
    filed = ap.file_application(None, form(), "192.0.2.10", s)
    ap.decide(FED, filed.ref, "à compléter", 1, ["accueil", "acces"],
              "Précisez qui accueille les visiteurs.", s)
    done = ap.decide(FED, filed.ref, "labellisé", 2, ap.CRITERIA_CODES, "", s)
    mails = ap.outbox(FED, s)
    assert [m["application"] for m in mails] == [filed.ref, filed.ref]
    assert {m["status"] for m in mails} == {"à envoyer"}
    assert {m["recipient"] for m in mails} == {"marie.joseph@exemple.fr"}
    newest, first = mails
    assert "Précisez qui accueille les visiteurs." in first["body"]
    assert "à compléter" in first["subject"] and "labellisée" in newest["subject"]
    assert "- [x] " + dict(ap.CRITERIA)["accueil"] in first["body"]
    assert "- [ ] " + dict(ap.CRITERIA)["fiche"] in first["body"]
    assert "\n" not in newest["subject"] and "Café" not in newest["subject"]
    steps = ap.history(FED, filed.ref, s)
    assert [(h["action"], h["by"], h["from"], h["to"]) for h in steps] == [
        ("dépôt", ap.PUBLIC, "", "candidat"),
        ("décision", FED.username, "candidat", "à compléter"),
        ("décision", FED.username, "à compléter", "labellisé")]
    assert steps[1]["criteria_met"] == ["accueil", "acces"]
    assert steps[2]["criteria_met"] == list(ap.CRITERIA_CODES)
    assert done.version == 3 and done.mail_pk == newest["pk"]


def test_the_outbox_is_written_in_the_decisions_transaction(s, monkeypatch) -> None:
    filed = ap.file_application(None, form(), "192.0.2.11", s)
    before = db.dump(s)

    def broken(**_kw):
        raise RuntimeError("panne pendant l'écriture du message")

    monkeypatch.setattr(ap, "OutboxMail", broken)
    with pytest.raises(RuntimeError):
        ap.decide(FED, filed.ref, "labellisé", 1, ap.CRITERIA_CODES, "", s)
    assert db.dump(s) == before  # no place, no status, no history without its message
    monkeypatch.undo()
    done = ap.decide(FED, filed.ref, "labellisé", 1, ap.CRITERIA_CODES, "", s)
    changed = _tables_changed(before, db.dump(s))
    assert changed == {"applications", "application_events", "mail_outbox", "places",
                       "label_events"}
    assert [m["pk"] for m in ap.outbox(FED, s)] == [done.mail_pk]


def test_decisions_follow_the_rules(s) -> None:
    filed = ap.file_application(None, form(), "192.0.2.12", s)
    before = db.dump(s)
    cases = {
        ("labellisé", tuple(ap.CRITERIA_CODES[:-1]), ""): "tous les critères",
        ("refusé", (), ""): "écrivez au candidat",
        ("à compléter", (), "  "): "écrivez au candidat",
        ("approuvé", (), "ok"): "inconnue",
        ("refusé", ("inventé",), "non"): "critère inconnu",
        ("refusé", (), "x" * (ap.MAX_MESSAGE + 1)): "au plus",
    }
    for (decision, met, message), words in cases.items():
        with pytest.raises(ValidationError) as err:
            ap.decide(FED, filed.ref, decision, 1, met, message, s)
        assert words in str(err.value) and "Rien n'a été enregistré" in str(err.value)
    assert db.dump(s) == before
    with pytest.raises(ConflictError, match="examinée par"):  # a stale version
        ap.decide(FED, filed.ref, "refusé", 7, [], "non", s)
    ap.decide(FED, filed.ref, "refusé", 1, [], "Lieu fermé au public.", s)
    with pytest.raises(ConflictError, match="déjà décidée"):
        ap.decide(FED, filed.ref, "labellisé", 2, ap.CRITERIA_CODES, "", s)


def test_reviewing_needs_the_federation_and_anonymous_filing_is_the_only_public_write(
        s) -> None:
    filed = ap.file_application(None, form(), "192.0.2.13", s)
    before = db.dump(s)
    for actor in (None, EPCI, auth.Actor("x", "lecture"), "federation"):
        for read in (lambda a: ap.pending(a, s), lambda a: ap.list_applications(a, s),
                     lambda a: ap.history(a, filed.ref, s), lambda a: ap.outbox(a, s),
                     lambda a: ApplicationsService(s).run(a, ApplicationsQuery())):
            with pytest.raises(auth.AuthError):
                read(actor)
        with pytest.raises(auth.AuthError):
            ap.decide(actor, filed.ref, "labellisé", 1, ap.CRITERIA_CODES, "", s)
    assert db.dump(s) == before
    admin = auth.Actor("admin", "admin")
    assert [a["ref"] for a in ap.pending(admin, s)] == [filed.ref]


# --------------------------------------------------------------------------- filing


def test_the_form_is_checked_before_anything_is_written(s) -> None:
    before = db.dump(s)
    cases = {
        "nom": form(nom=""),
        "nom ": form(nom="x" * (ap.MAX["nom"] + 1)),
        "contact_email": form(contact_email="marie@exemple"),
        "contact_email ": form(contact_email="marie joseph@exemple.fr"),
        "courriel": form(courriel="contact@@cafe.fr"),
        "telephone": form(telephone="12"),
        "contact_phone": form(contact_phone="0596 52"),
        "commune": form(commune="Paris"),
        "host_type": form(host_type="château"),
        "services": form(services=("Réparation de vélos",)),
        "services ": form(services=()),
        "publics": form(publics=("Martiens",)),
        "consent": form(consent=False),
        "latitude": form(latitude="16.2", longitude="-61.5"),  # Guadeloupe
        "latitude ": form(latitude="14.6", longitude=""),
        "site_web": form(site_web="javascript:alert(1)"),
        "motivation": form(motivation="y" * (ap.MAX["motivation"] + 1)),
        "adresse": form(adresse="1 rue\x00 nulle"),
        "code_postal": form(code_postal="75001"),
        "pivot": form(pivot="21972213900018"),  # wrong SIRET key (registry rule)
        "horaires": form(horaires="tous les jours"),  # registry rule (opening_hours)
    }
    for field, bad in cases.items():
        with pytest.raises(ValidationError) as err:
            ap.file_application(None, bad, "192.0.2.20", s)
        message = str(err.value)
        assert "Rien n'a été enregistré" in message, field
        champs = {d["champ"] for d in err.value.details}
        assert field.strip() in champs, (field, err.value.details)
    assert db.dump(s) == before


def test_an_address_is_placed_by_the_address_index_or_refused(s) -> None:
    filed = ap.file_application(None, form(latitude="", longitude="", code_postal=""),
                                "192.0.2.30", s)
    place = ap.pending(FED, s)[0]["place"]
    assert place["coord_source"] == "adresse géocodée"
    assert place["code_postal"] == "97200" and place["code_insee"] == "97209"
    assert any("d'après l'adresse" in n for n in filed.notes)
    before = db.dump(s)
    with pytest.raises(ValidationError, match="cliquez sur la carte") as err:
        ap.file_application(None, form(latitude="", longitude="",
                                       adresse="Chemin des Licornes Introuvables"),
                            "192.0.2.31", s)
    assert "adresse" in {d["champ"] for d in err.value.details}
    assert db.dump(s) == before


def test_a_filled_honeypot_writes_nothing(s) -> None:
    before = db.dump(s)
    filed = ap.file_application(None, form(honeypot="https://spam.example"), "192.0.2.40", s)
    assert not filed.recorded and filed.ref.startswith("CAND-")
    assert db.dump(s) == before


def test_filings_are_limited_per_client_and_per_hour_across_processes(s) -> None:
    limited = replace(s, applications_per_client=2, applications_per_hour=3)
    now = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    for minute in (0, 10):
        ap.file_application(None, form(), "198.51.100.7", limited, now + timedelta(minutes=minute))
    before = db.dump(s)
    with pytest.raises(ap.RateLimited, match="depuis votre connexion") as err:
        ap.file_application(None, form(), "198.51.100.7", limited, now + timedelta(minutes=20))
    assert "réessayez dans 40 minutes" in str(err.value)  # when the first one is an hour old
    assert db.dump(s) == before
    db.dispose_all()  # another process (replica) sees the same counts: they are in the store
    ap.file_application(None, form(), "198.51.100.8", limited, now + timedelta(minutes=21))
    with pytest.raises(ap.RateLimited, match="beaucoup de candidatures"):
        ap.file_application(None, form(), "198.51.100.9", limited, now + timedelta(minutes=22))
    # an hour after the first one, the client may file again
    ap.file_application(None, form(), "198.51.100.7", limited, now + timedelta(minutes=61))
    with db.read_session(s) as session:
        keys = set(session.scalars(select(Application.client_key)))
    assert "198.51.100.7" not in "".join(keys) and len(keys) == 2  # hashed, one per client


def test_simultaneous_filings_cannot_pass_the_limit(s) -> None:
    limited = replace(s, applications_per_client=1, applications_per_hour=100)
    ap.check_form(form(), limited)  # the island and address index loaded before the race
    results: list[object] = []

    def file_one() -> None:
        try:
            results.append(ap.file_application(None, form(), "198.51.100.50", limited))
        except ap.RateLimited as exc:
            results.append(exc)

    threads = [threading.Thread(target=file_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, ap.Filed) for r in results) == 1, results
    assert sum(isinstance(r, ap.RateLimited) for r in results) == 3


# --------------------------------------------------------------------------- service and CLI


def test_the_cli_prints_the_services_json_and_french_errors(s, monkeypatch, capsys) -> None:
    filed = ap.file_application(None, form(), "192.0.2.60", s)
    ap.decide(FED, filed.ref, "à compléter", 1, [], "Vos horaires ?", s)
    admin = auth.Actor("cli:test", "admin")
    service = ApplicationsService(s)
    listed = _cli_json(["applications", "list", "--json"], s, monkeypatch, capsys)
    assert listed == json.loads(json.dumps(service.run(admin, ApplicationsQuery()).to_json()))
    assert listed["par_statut"]["à compléter"] == 1
    mails = _cli_json(["applications", "outbox", "--json"], s, monkeypatch, capsys)
    assert mails == json.loads(json.dumps(service.outbox(admin, OutboxQuery()).to_json()))
    assert mails["a_envoyer"] == 1
    shown = _cli_json(["applications", "show", filed.ref, "--json"], s, monkeypatch, capsys)
    assert [h["to"] for h in shown["historique"]] == ["candidat", "à compléter"]
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
    settings_mod.get.cache_clear()
    try:
        for args in (["applications", "list", "--status", "perdu", "--json"],
                     ["applications", "show", "CAND-0000", "--json"]):
            assert cli.main(args) == 2
            payload = json.loads(capsys.readouterr().out)
            assert set(payload) == {"erreur", "details"} and payload["erreur"]
    finally:
        settings_mod.get.cache_clear()
