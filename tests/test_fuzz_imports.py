"""Fuzzed imports: 500 malformed files per import, each refused in French, nothing written.

The places and indicators imports run against one SQLite store per test (the store's
full table dump is compared after every file); the stops file is read the way
``maillage tours --stops`` reads it (from a file on disk). Any exception that is not a
:class:`geo.errors.MaillageError` is a crash and fails the test. Counts are printed at
the end of the run (section « imports fuzzés ») and saved as ``fuzz-counts.json``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from geo import tours_io
from geo.errors import MaillageError
from maillage import auth, db
from maillage.indicators import store as ind_store
from maillage.registry import csvio, standard, store
from maillage.settings import Settings
from tests import fuzz_files as ff
from tests.registry_fixtures import row

FED = auth.Actor("fede", "federation")
TODAY = date(2026, 6, 15)
FUZZ = settings(max_examples=500, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])


def _places_spec() -> ff.Spec:
    cols = tuple(standard.fields() + standard.LOCAL_FIELDS)
    rows = []
    for i in range(5):
        r = row(id=f"fuzz-{i}", nom=f"Médiathèque n° {i} « Aimé Césaire »",
                adresse=f"{i} rue Lamartine, Fort-de-France", notes="à revoir",
                latitude=f"{14.6065 + 0.001 * i:.4f}", longitude=f"{-61.0695 + 0.001 * i:.4f}",
                presentation_detail="Accueil sans rendez-vous ; café offert.")
        rows.append(tuple(r[c] for c in cols))
    bad = {
        "id": ("",), "nom": ("", "  "), "pivot": ("123", "=cmd|' /C calc'!A0", ""),
        # empty coordinates are not here: the row is then placed from its address
        "latitude": ("14,6065", "quatorze", "14.6.1", "1e999", "nan"),
        "longitude": ("-61,0695", "61.0695", "-inf"),
        "date_maj": ("15/01/2025", "2025-13-01", "2025-1-5", "hier", "", "=TODAY()"),
        "code_postal": ("<script>alert(1)</script>", "=cmd|' /C calc'!A0", "9720", "97 200",
                        ""),
        "telephone": ("=HYPERLINK(\"http://x.test\")", "0596 00 00 00", "<b>tél</b>"),
        # nor the typology: the schema puts no constraint on it (unknown codes: warnings)
        "label_status": ("=1+1", "inconnu", "<i>labellisé</i>"),
        "possible_stop": ("peut-être", "+1"),
        "label_since": ("01/02/2025", "2025-02-30", "2025-00-10"),
        "labelled_on": ("2025-02-30", "hier", "2025-13-45"),
        "code_insee": ("97299", "<script>", "972O9"),
        "services": ("Tout", "=1+1"),
        "horaires": ("lundi matin", "Mo-Fr 25:00-26:00", "<script>alert(1)</script>"),
        "itinerance": ("Partout", "=1+1"),
    }
    return ff.Spec("lieux (maillage places import)", cols, tuple(rows), bad,
                   free_text=("nom", "adresse", "presentation_detail", "notes",
                              "complement_adresse"),
                   id_col="id", lon_col="longitude", lat_col="latitude",
                   max_cell=standard.MAX_CELL, required=standard.fields(),
                   big=("nom", "adresse", "presentation_detail", "notes"))


INDICATORS = ff.Spec(
    "indicateurs (maillage indicators import)",
    ("indicateur", "mois", "code_insee", "lieu", "dimension", "valeur", "libelle"),
    (("workshops_held", "2026-01", "97209", "", "", "3", "Ateliers tenus à Fort-de-France"),
     ("workshops_held", "2026-02", "97213", "", "", "2", "Ateliers tenus au Lamentin"),
     ("remote_sessions", "2026-02", "", "", "vidéo", "40", "Séances à distance"),
     ("mediators_active", "2026-03", "", "", "Banque", "6", "Médiateurs"),
     ("devices_collected", "2026-04", "97213", "", "", "1 200", "Équipements")),
    {"indicateur": ("", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "ateliers",
                    "places_labelled"),
     "mois": ("01/2026", "2026-13", "2026-1", "", "2099-01", "1999-12", "janvier 2026",
              "=TODAY()"),
     "valeur": ("1,2,3", "abc", "-2", "inf", "nan", "1e400", "", "=1+1", "9" * 500, "2.5",
                "+cmd|' /C calc'!A0"),
     "code_insee": ("97299", "<img src=x onerror=alert(1)>", "=1+1", "9720"),
     "lieu": ("inexistant-42", "<b>lieu</b>"),
     "dimension": ("fax", "<b>x</b>", "@SUM(A1)")},
    free_text=("libelle",), id_col="", lon_col="", lat_col="",
    max_cell=200, required=("indicateur", "mois", "code_insee", "lieu", "dimension", "valeur"),
    big=("indicateur", "lieu", "valeur", "dimension"),
)

STOPS = ff.Spec(
    "arrêts des tournées (maillage tours --stops)",
    ("id", "nom", "longitude", "latitude", "frequence", "duree_min", "fenetres", "adresse"),
    tuple((f"arret-{i}", f"Place de l'Église n° {i}", f"{-61.05 + 0.01 * i:.4f}",
           f"{14.62 + 0.005 * i:.4f}", "hebdomadaire", "120", "sam 07:00-12:00; mer 14:00-17:00",
           f"{i} rue Schœlcher") for i in range(5)),
    {"nom": ("", " "),
     "longitude": ("abc", "61.07", "", "1e999", "nan", "14.62"),
     "latitude": ("x", "", "14.6.2", "nan", "-14.6"),
     "frequence": ("tous les jours", "=cmd|' /C calc'!A0", "<b>hebdo</b>"),
     "duree_min": ("inf", "1e9", "abc", "5", "-30", "nan", "=1+1", "1e400", "-inf"),
     "fenetres": ("lundi 25:00-26:00", "<script>alert(1)</script>", "=cmd|' /C calc'!A0",
                  "sam 12:00-07:00")},
    free_text=("nom", "adresse"), id_col="id", lon_col="longitude", lat_col="latitude",
    max_cell=tours_io.MAX_CELL, required=tours_io.REQUIRED, big=("nom", "adresse", "id"),
)


@pytest.fixture(scope="module")
def fuzz_store(real_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """One SQLite store (with a place and a figure in it) and its full dump."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    s = replace(real_settings, database_url=f"sqlite:///{path}")
    db.migrate(s)
    store.import_csv(FED, csvio.write_csv([row()], True, True), "base.csv", s)
    ind_store.import_csv(FED, b"indicateur,mois,code_insee,lieu,dimension,valeur\n"
                              b"workshops_held,2026-01,97209,,,1\n", "base.csv", s, TODAY)
    yield s, db.dump(s)
    db.engine(s).dispose()


def _check_refusal(name: str, exc: MaillageError, exp: ff.Expect) -> None:
    msg = str(exc)
    assert "refusé" in msg, msg[:500]
    for line in exp.lines:
        assert re.search(rf"\bligne {line}\b", msg), (exp.kinds, line, msg[:800])
    if exp.any_lines:
        assert any(re.search(rf"\bligne {n}\b", msg) for n in exp.any_lines), (
            exp.kinds, exp.any_lines, msg[:800])
    if exp.words:
        assert any(w in msg for w in exp.words), (exp.kinds, exp.words, msg[:800])


def _run(name: str, call, exp: ff.Expect, s: Settings | None = None,
         before: dict | None = None) -> None:
    try:
        call()
    except MaillageError as exc:
        partial = s is not None and db.dump(s) != before
        ff.record(name, refused=not partial, partial=partial)
        assert not partial, "écriture partielle"
        _check_refusal(name, exc, exp)
        return
    except Exception:
        ff.record(name, crashed=True)
        raise
    ff.record(name)
    pytest.fail(f"fichier accepté alors qu'il est faux ({exp.kinds})")


@FUZZ
@given(case=ff.malformed(_places_spec()))
def test_places_import_refuses_every_malformed_file(fuzz_store, case) -> None:
    s, before = fuzz_store
    data, exp = case
    _run(_places_spec().name, lambda: store.import_csv(FED, data, "fuzz.csv", s), exp, s,
         before)


@FUZZ
@given(case=ff.malformed(INDICATORS))
def test_indicators_import_refuses_every_malformed_file(fuzz_store, case) -> None:
    s, before = fuzz_store
    data, exp = case
    _run(INDICATORS.name, lambda: ind_store.import_csv(FED, data, "fuzz.csv", s, TODAY), exp,
         s, before)


@FUZZ
@given(case=ff.malformed(STOPS))
def test_stops_file_refuses_every_malformed_file(tmp_path_factory, case) -> None:
    data, exp = case
    path = Path(tmp_path_factory.getbasetemp()) / "fuzz-arrets.csv"
    path.write_bytes(data)
    _run(STOPS.name, lambda: tours_io.read_stops(path), exp)


def test_the_base_files_are_valid(fuzz_store, tmp_path: Path) -> None:
    """The mutations start from files the imports accept (else a refusal proves nothing)."""
    import csv
    import io

    s, _ = fuzz_store
    for spec in (_places_spec(), INDICATORS, STOPS):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([spec.header, *spec.rows])
        data = buf.getvalue().encode()
        if spec is STOPS:
            (tmp_path / "a.csv").write_bytes(data)
            assert len(tours_io.read_stops(tmp_path / "a.csv")) == len(spec.rows)
        elif spec is INDICATORS:
            assert csvio_parse_ok(data, s)
        else:
            parsed, _ = csvio.parse(data)
            assert len(parsed) == len(spec.rows)


def csvio_parse_ok(data: bytes, s: Settings) -> bool:
    """The indicators file is valid against the store's context."""
    from maillage.indicators import csvio as ind_csvio

    return len(ind_csvio.parse(data, ind_store.context(s, TODAY))) == len(INDICATORS.rows)
