"""The indicators' store: all-or-nothing imports, registry count, exports, report, CLI."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from analysis import indicators as ind
from geo import communes as communes_mod
from maillage import auth, db
from maillage.indicators import csvio, report, store
from maillage.registry import store as registry
from maillage.registry.errors import ConflictError, ValidationError
from maillage.settings import Settings
from tests.registry_fixtures import row

FED = auth.Actor("fede", "federation")
TODAY = date(2026, 6, 15)
HEADER = "indicateur,mois,code_insee,lieu,dimension,valeur\n"
GOOD = HEADER + (
    "workshops_held,2026-01,97209,,,3\n"
    "workshop_attendance,2026-01,97209,,,25\n"
    "workshop_attendance_seniors,2026-01,97209,,,11\n"
    "workshops_held,2026-02,97213,,,2\n"
    "remote_sessions,2026-02,,,video,40\n"
    "mediators_active,2026-03,,,Banque,6\n"
    "devices_collected,2026-04,97213,,,\"1 200\"\n"
)


@pytest.fixture()
def s(real_settings: Settings, store_url: str) -> Settings:
    """The real island's communes, and a fresh store on SQLite then PostgreSQL."""
    settings = replace(real_settings, database_url=store_url)
    db.migrate(settings)
    yield settings
    db.engine(settings).dispose()


def everything(s: Settings) -> dict[str, list[tuple]]:
    """Every row of every table of the store."""
    with db.read_session(s) as session:
        names = inspect(session.get_bind()).get_table_names()
        return {n: sorted(map(tuple, session.execute(text(f'SELECT * FROM "{n}"')).all()),
                          key=repr) for n in names}


BAD_ROWS = {
    "formula": "devices_collected,2026-04,97213,,,=1+1",
    "formula_in_place": "beneficiaries,2026-04,,=cmd|' /C calc'!A0,,3",
    "future_month": "workshops_held,2099-01,97209,,,3",
    "french_date": "workshops_held,01/2026,97209,,,3",
    "unknown_commune": "workshops_held,2026-01,97299,,,3",
    "decimal_count": "workshops_held,2026-01,97209,,,2.5",
    "negative": "workshops_held,2026-01,97209,,,-2",
    "unknown_channel": "remote_sessions,2026-01,,,fax,2",
    "computed": "places_labelled,2026-01,97209,,,2",
    "seniors_over_attendance": "workshop_attendance_seniors,2026-01,97209,,,26",
    "duplicate": "workshops_held,2026-01,97209,,,4",
    "missing_place": "beneficiaries,2026-01,97209,,,4",
    "html": "<script>alert(1)</script>,2026-01,97209,,,4",
    "rating_out_of_range": "remote_rating,2026-01,,,chat,7",
    "huge": "workshops_held,2026-01,97209,,," + "9" * 500,
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_import_is_refused_whole_and_the_store_is_unchanged(s: Settings,
                                                                   case: str) -> None:
    store.import_csv(FED, GOOD.encode(), "bon.csv", s, TODAY)
    store.set_target(FED, "workshops_held", 2026, 40, "", s)
    before = everything(s)
    good_new = "devices_refurbished,2026-05,97209,,,8\n"
    data = (GOOD + good_new + BAD_ROWS[case] + "\n").encode()
    bad_line = GOOD.count("\n") + 2  # header is line 1, the bad row comes last
    with pytest.raises(ValidationError) as err:
        store.import_csv(FED, data, "mauvais.csv", s, TODAY)
    message = str(err.value)
    assert "Rien n'a été enregistré" in message
    assert f"ligne {bad_line} :" in message
    assert everything(s) == before


@pytest.mark.parametrize("data, needle", [
    (GOOD.replace(",", ";").encode(), "point-virgule"),
    (GOOD.replace("valeur", "montant").encode(), "colonnes absentes : valeur"),
    (b"indicateur,mois,code_insee,lieu,dimension,valeur,extra\n", "colonnes inconnues"),
    (GOOD.replace("Banque", "Crédit agricole").encode("latin-1"), "UTF-8"),
    (b"", "vide"),
    (HEADER.encode(), "aucune ligne"),
    ((GOOD + "workshops_held,2026-01\n").encode(), "2 cellules au lieu de 6"),
])
def test_malformed_files_get_a_french_reason(s: Settings, data: bytes, needle: str) -> None:
    before = everything(s)
    with pytest.raises(ValidationError, match=re.escape(needle)):
        store.import_csv(FED, data, "x.csv", s, TODAY)
    assert everything(s) == before


def test_a_utf8_bom_and_quoted_french_numbers_are_read(s: Settings) -> None:
    result = store.import_csv(FED, b"\xef\xbb\xbf" + GOOD.encode(), "bom.csv", s, TODAY)
    assert result["added"] == GOOD.count("\n") - 1
    df = store.recorded(s)
    got = df.loc[df["indicator"] == "devices_collected", "value"].iloc[0]
    assert got == float("1 200".replace(" ", ""))
    assert set(df.loc[df["indicator"] == "remote_sessions", "dimension"]) == {"vidéo"}


def test_reimporting_updates_only_what_changed(s: Settings) -> None:
    n = GOOD.count("\n") - 1
    assert store.import_csv(FED, GOOD.encode(), "a.csv", s, TODAY)["added"] == n
    again = store.import_csv(FED, GOOD.encode(), "a.csv", s, TODAY)
    assert again == {"rows": n, "added": 0, "updated": 0, "unchanged": n}
    changed = GOOD.replace("workshops_held,2026-01,97209,,,3", "workshops_held,2026-01,97209,,,5")
    res = store.import_csv(FED, changed.encode(), "a.csv", s, TODAY)
    assert (res["updated"], res["unchanged"]) == (1, n - 1)
    df = store.recorded(s)
    row_ = df[(df["indicator"] == "workshops_held") & (df["code_insee"] == "97209")].iloc[0]
    assert (row_["value"], row_["version"]) == (5.0, 2)


def test_places_labelled_equals_the_registry_count(s: Settings) -> None:
    lamentin = {"commune": "Le Lamentin", "code_postal": "97232", "code_insee": "97213",
                "latitude": "14.6097", "longitude": "-60.9990"}
    for k in range(5):
        registry.save_place(FED, row(id=f"lieu-{k}", nom=f"Lieu {k}",
                                     **(lamentin if k % 2 else {})), None, s)
    for k in (0, 1, 2, 3):
        registry.change_label(FED, f"lieu-{k}", "labellisé", 1, "test", s,
                              on=date(2026, 1, 10))
    registry.change_label(FED, "lieu-3", "retiré", 2, "test", s)
    expected = registry.count_labelled(s)
    df = store.frame(s)
    year = date.today().year
    start, end = ind.year_window(year)
    assert ind.total(df, "places_labelled", start, end) == expected
    table = ind.summary(df, store.targets(s), year).set_index("indicator")
    assert table.loc["places_labelled", "value"] == expected
    communes = communes_mod.load(s)
    by_commune = ind.by_area(df, "places_labelled", communes, "commune", start, end)
    frame = registry.places_frame(s)
    counts = frame[frame["label_status"] == "labellisé"].groupby("code_insee").size()
    got = by_commune.set_index("code_insee")["value"]
    assert got[got > 0].to_dict() == {k: float(v) for k, v in counts.items()}
    # Nothing was copied into the indicators' table: it is read from the registry.
    assert store.dump(s)["indicator_values"] == []
    # Recording it by hand is refused.
    with pytest.raises(ValidationError, match="registre des lieux"):
        store.import_csv(FED, (HEADER + "places_labelled,2026-01,97209,,,9\n").encode(),
                         "x.csv", s, TODAY)


def test_beneficiaries_are_recorded_per_place_and_take_its_commune(s: Settings) -> None:
    registry.save_place(FED, row(id="lieu-fdf"), None, s)
    data = HEADER + "beneficiaries,2026-02,,lieu-fdf,,17\n"
    store.import_csv(FED, data.encode(), "b.csv", s, TODAY)
    got = store.recorded(s).iloc[0]
    assert (got["place_id"], got["code_insee"]) == ("lieu-fdf", row()["code_insee"])
    wrong = HEADER + "beneficiaries,2026-02,97213,lieu-fdf,,17\n"
    with pytest.raises(ValidationError, match="ligne 2 : lieu « lieu-fdf » : il est à"):
        store.import_csv(FED, wrong.encode(), "b.csv", s, TODAY)


def test_recording_needs_a_federation_account(s: Settings) -> None:
    for actor in (None, auth.Actor("epci-nord", "epci")):
        with pytest.raises(auth.AuthError):
            store.import_csv(actor, GOOD.encode(), "a.csv", s, TODAY)
        with pytest.raises(auth.AuthError):
            store.set_target(actor, "workshops_held", 2026, 10, "", s)
    assert store.dump(s) == {"indicator_values": [], "indicator_targets": []}


def test_the_second_of_two_concurrent_form_saves_is_refused(s: Settings) -> None:
    form = {"indicateur": "devices_collected", "mois": "2026-03", "code_insee": "97209",
            "lieu": "", "dimension": "", "valeur": "4"}
    assert store.save(FED, form, None, s, TODAY) == 1
    key = ("devices_collected", date(2026, 3, 1), "97209", "", "")
    value, version = store.current_value(key, s)
    assert (value, version) == (4.0, 1)
    assert store.save(FED, {**form, "valeur": "6"}, version, s, TODAY) == 2
    with pytest.raises(ConflictError):  # a second editor opened version 1
        store.save(auth.Actor("autre", "federation"), {**form, "valeur": "9"}, version, s,
                   TODAY)
    assert store.current_value(key, s) == (6.0, 2)


def test_targets_are_set_per_year_and_epci(s: Settings) -> None:
    store.set_target(FED, "workshops_held", 2026, 40, "", s)
    store.set_target(FED, "workshops_held", 2026, 12, "CACEM", s)
    store.set_target(FED, "workshops_held", 2026, 45, "", s)
    t = store.targets(s).set_index("scope")["value"].to_dict()
    assert t == {"": 45.0, "CACEM": 12.0}
    with pytest.raises(ValidationError, match="EPCI « Atlantide » inconnu"):
        store.set_target(FED, "workshops_held", 2026, 3, "Atlantide", s)


def test_export_neutralises_formula_cells(s: Settings) -> None:
    evil = auth.Actor("=HYPERLINK(\"http://x\")", "federation")
    store.import_csv(evil, GOOD.encode(), "@evil.csv", s, TODAY)
    data = store.export_csv(s)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == GOOD.count("\n") - 1
    for r in rows:
        for cell in r.values():
            assert cell == csvio.escape_cell(csvio.unescape_cell(cell))
            assert not cell.startswith(("=", "+", "@")) or cell.startswith("'")
    assert rows[0]["saisi_par"].startswith("'=")


def test_templates_are_valid_once_filled(s: Settings) -> None:
    registry.save_place(FED, row(id="lieu-fdf", label_status="labellisé"), None, s)
    ctx = store.context(s, TODAY)
    for key in csvio.recordable_keys():
        data = csvio.template(key, ctx.communes, store.labelled_places(s), date(2026, 5, 1))
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert rows, key
        filled = io.StringIO()
        writer = csv.DictWriter(filled, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{**r, "valeur": "1"} for r in rows])
        records = csvio.parse(filled.getvalue().encode(), ctx)
        assert {r.indicator for r in records} == {key}
        assert len(records) == len(rows)


def test_tour_visits_become_workshops_and_attendance() -> None:
    visits = pd.DataFrame({"visit_date": [date(2026, 3, 2), date(2026, 3, 9), date(2026, 4, 6)],
                           "stop_key": ["arret-1", "arret-1", "arret-2"],
                           "code_insee": [None, None, "97213"],
                           "attendance": [8, 5, 12], "attendance_seniors": [3, 2, 9]})
    out = store.visits_to_rows(visits, {"arret-1": "97209"})
    for key, col in (("workshops_held", None), ("workshop_attendance", "attendance"),
                     ("workshop_attendance_seniors", "attendance_seniors")):
        got = out[out["indicator"] == key].set_index(["place_id", "period"])["value"]
        for (stop, month), group in visits.groupby(
                ["stop_key", pd.to_datetime(visits["visit_date"]).dt.to_period("M")]):
            want = len(group) if col is None else group[col].sum()
            assert got[(stop, month.to_timestamp())] == want
    assert dict(zip(out["place_id"], out["code_insee"], strict=True)) == {
        "arret-1": "97209", "arret-2": "97213"}


def test_the_yearly_report_is_self_contained_and_escaped(s: Settings) -> None:
    store.import_csv(FED, GOOD.encode(), "a.csv", s, TODAY)
    communes = communes_mod.load(s).copy()
    communes.loc[communes["epci_court"] == "CACEM", "epci_court"] = "<script>x()</script>"
    df = store.frame(s, TODAY)
    page = report.build(df, store.targets(s), communes, 2026, TODAY)
    assert "<script>x()</script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js is inlined
    charted = sum(ind.has_data(df, k) for k, spec in ind.INDICATORS.items())
    assert page.count("Plotly.newPlot") == charted
    assert page.count("<script type=\"text/javascript\">/**") <= 1  # plotly.js once


def test_migrations_have_a_single_head_and_match_the_models(s: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from maillage.db.models import Base

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, heads
    with db.engine(s).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert {"indicator_values", "indicator_targets"} <= set(
            inspect(conn).get_table_names())


def test_the_command_line_imports_refuses_and_reports(s: Settings, tmp_path: Path,
                                                      monkeypatch, capsys) -> None:
    from maillage import cli
    from maillage import settings as settings_mod

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
    settings_mod.get.cache_clear()
    try:
        good, bad = tmp_path / "bon.csv", tmp_path / "mauvais.csv"
        good.write_text(GOOD.replace("2026-0", f"{date.today().year}-0"), encoding="utf-8")
        bad.write_text(HEADER + "workshops_held,2026-01,97209,,,beaucoup\n", encoding="utf-8")
        assert cli.main(["indicators", "import", str(good)]) == 0
        before = everything(s)
        assert cli.main(["indicators", "import", str(bad)]) == cli.EXIT_USAGE
        err = capsys.readouterr().err
        assert "ligne 2 : valeur « beaucoup » : ce n'est pas un nombre" in err
        assert everything(s) == before
        assert cli.main(["indicators", "targets", "set", "workshops_held", "--year",
                         str(date.today().year), "--value", "50"]) == 0
        capsys.readouterr()
        assert cli.main(["indicators", "summary", "--json"]) == 0
        import json

        figures = {r["indicator"]: r for r in json.loads(capsys.readouterr().out)}
        expected = ind.summary(store.frame(s), store.targets(s), date.today().year)
        held = expected.set_index("indicator").loc["workshops_held"]
        assert figures["workshops_held"]["value"] == held["value"]
        assert figures["workshops_held"]["target"] == 50.0
        out = tmp_path / "rapport.html"
        assert cli.main(["indicators", "report", "--year", str(date.today().year),
                         "--out", str(out)]) == 0
        assert "Plotly.newPlot" in out.read_text(encoding="utf-8")
        capsys.readouterr()
        assert cli.main(["indicators", "template", "remote_sessions"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 1 + len(ind.CHANNELS)
    finally:
        settings_mod.get.cache_clear()
