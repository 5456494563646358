"""Every payload of the adversarial corpus, in through every entry path, comes back exactly.

The entry paths are the ones the pages and the command line call: the place form
(``store.save_place``), the registry CSV import, the label form, the stops file → plan
→ saved and published plan, the indicators import and form, and the ``maillage``
commands with ``--json``. A payload is kept exactly (stripped at both ends) in every
free-text field, or refused with a French message and nothing written where the field
rightly refuses it. The exports give it back: CSV cells that a spreadsheet would run
are neutralised and read back losslessly, iCalendar and JSON parse back to the same
text, the printable sheet holds it as HTML text. No template payload ever runs (the
canary folder stays empty). The browser side is ``tests/browser/test_adversarial.py``.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from icalendar import Calendar

from analysis import tours
from analysis.schedule import Period
from analysis.tours import Problem, Travel, Van
from geo import tours_io
from maillage import auth, cli, db, settings, tour_store
from maillage.indicators import store as indicators
from maillage.registry import csvio, store
from maillage.registry.errors import ValidationError
from maillage.settings import Settings
from tests import adversarial as adv
from tests.registry_fixtures import row

FED = auth.Actor("fede", "federation")
TEXT_FIELDS = (*adv.PLACE_TEXT_FIELDS, "nom", "id", "presentation_resume",
               *adv.PLACE_LINK_FIELDS)


@pytest.fixture()
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "canary" / "canary"
    path.parent.mkdir()
    for name, value in adv.canary_env(path).items():
        monkeypatch.setenv(name, value)
    yield path
    assert adv.canary_files(path) == []  # no payload ever ran


@pytest.fixture()
def s(real_settings: Settings, tmp_path: Path) -> Settings:
    """The real island's communes and a private SQLite store."""
    settings_ = replace(real_settings, database_url=f"sqlite:///{tmp_path / 'adv.db'}")
    db.migrate(settings_)
    yield settings_
    db.engine(settings_).dispose()


def _rows(s: Settings) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in store.rows(s)}


def _assert_kept(got: dict[str, str], sent: dict[str, str], what: str) -> None:
    for f in TEXT_FIELDS:
        assert got[f] == adv.stored(sent[f]), (what, f, got[f][:80], sent[f][:80])


def test_corpus_has_every_kind_of_payload() -> None:
    assert len(adv.PAYLOADS) >= 40
    assert {p.category for p in adv.PAYLOADS} == set(adv.CATEGORIES)
    assert all(p.text("/x/c") for p in adv.PAYLOADS)
    assert not any("\x00" in p.raw for p in adv.PAYLOADS)
    assert [p.id for p in adv.PAYLOADS if p.is_template][:3] == [
        "tpl-canary", "tpl-canary-env", "tpl-canary-set"]


def test_place_form_keeps_every_payload(s: Settings, canary: Path) -> None:
    for _, p, r in adv.place_rows(canary):
        store.save_place(FED, r, None, s)
        got = _rows(s)[adv.stored(r["id"])]
        _assert_kept(got, r, p.id)
        # an edit through the form keeps it too (a new version, same text)
        version = store.save_place(FED, {**r, "notes": r["notes"] + " (revu)"}, 1, s)
        assert version == 2 and _rows(s)[adv.stored(r["id"])]["nom"] == adv.stored(r["nom"])


def test_the_form_refuses_what_a_field_rightly_refuses(s: Settings, canary: Path) -> None:
    before = store.rows(s)
    long = adv.place_row(42, adv.BY_ID["long-5000"], canary)
    with pytest.raises(ValidationError, match="2000 au plus"):
        store.save_place(FED, long, None, s)
    for field, value in (("horaires", "{{ 7*7 }}"), ("telephone", "<img src=x>"),
                         ("code_postal", "97200;DROP"), ("latitude", "$x$")):
        with pytest.raises(ValidationError) as refused:
            store.save_place(FED, row(id="refus", **{field: value}), None, s)
        assert value in str(refused.value) or field == "latitude"
    assert store.rows(s) == before  # nothing written


def test_csv_import_export_keep_every_payload(s: Settings, canary: Path) -> None:
    places = adv.place_rows(canary)
    sent = {adv.stored(r["id"]): r for *_, r in places}
    result = store.import_csv(FED, adv.registry_csv(list(sent.values())),
                              "lieux {{ 7*7 }} <b>.csv", s)
    assert result["imported"] == len(sent) == len(adv.PAYLOADS) - 1
    for pid, got in _rows(s).items():
        _assert_kept(got, sent[pid], pid)
    # CSV export: formula cells neutralised, and read back exactly
    exported = csvio.write_csv(store.rows(s), include_local=True, private=True)
    cells = list(csv.DictReader(io.StringIO(exported.decode("utf-8"))))
    for cell in (c for r in cells for c in r.values()):
        assert cell[:1] not in adv.FORMULA_START or cell.startswith("'") or \
            csvio.escape_cell(cell) == cell
    assert {csvio.unescape_cell(r["nom"]) for r in cells} == {
        adv.stored(r["nom"]) for r in sent.values()}
    again = store.import_csv(FED, exported, "export.csv", s)
    assert again["imported"] == 0 and again["updated"] == 0  # lossless round trip
    # GeoJSON export: JSON strings equal to the stored text
    doc = json.loads(csvio.write_geojson(store.rows(s), private=False))
    props = {f["properties"]["id"]: f["properties"] for f in doc["features"]}
    for pid, r in sent.items():
        assert props[pid]["nom"] == adv.stored(r["nom"])
        assert props[pid]["adresse"] == adv.stored(r["adresse"])
        assert "notes" not in props[pid]  # private fields stay out of the public export
    # the one refused payload: the whole file is refused, nothing written
    before = store.rows(s)
    with pytest.raises(ValidationError):
        store.import_csv(FED, adv.registry_csv([adv.place_row(42, adv.BY_ID["long-5000"],
                                                              canary)]), "x.csv", s)
    assert store.rows(s) == before


def test_label_comments_keep_every_payload(s: Settings, canary: Path) -> None:
    places = adv.place_rows(canary)
    store.import_csv(FED, adv.registry_csv([r for *_, r in places]), "lieux.csv", s)
    for _, p, r in places:
        pid = adv.stored(r["id"])
        store.change_label(FED, pid, "labellisé", 1, p.text(canary), s)
        history = store.label_history(pid, s)
        assert history[-1]["comment"] == adv.stored(p.text(canary)), p.id


def _plan(stops):
    start = date.today() + timedelta(days=7 - date.today().weekday())
    problem = Problem(stops, [Van("Camion 1", (-61.07, 14.61))], Period.with_holidays(start, 4))
    k = problem.n_locations
    sec = np.full((k, k), 600.0)
    np.fill_diagonal(sec, 0)
    return problem, tours.solve(problem, Travel(sec, np.zeros(k), np.ones(k, bool)), 3)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Text(html.parser.HTMLParser):
    """The text of an HTML page (entities decoded), and the tags it holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_stops_plan_and_tour_exports_keep_every_payload(s: Settings, canary: Path) -> None:
    accepted = adv.accepted_stops(canary)
    assert [p.id for n, p in enumerate(adv.PAYLOADS) if (n, p) not in accepted] == ["long-5000"]
    stops = tours_io.read_stops(adv.stops_csv(canary, accepted))
    sent = [adv.stop_values(n, p, canary) for n, p in accepted]
    assert [(x.name, x.address, x.key) for x in stops] == [
        (adv.stored(v["nom"]), adv.stored(v["adresse"]), adv.stored(v["id"])) for v in sent]
    problem, plan = _plan(stops)
    assert not plan.unserved
    pk = tour_store.save_plan(FED, problem, plan, "Plan {% raw %} ${alert(15)}", s)
    tour_store.publish(FED, pk, 1, s)
    stored = tour_store.visits_frame(pk, s=s)
    assert set(stored["stop_name"]) == {x.name for x in stops}
    assert set(stored["address"]) == {x.address for x in stops}
    again, _, _, status = tour_store.load_plan(pk, s=s)
    assert again.stops == stops and status == "publié"
    assert set(tour_store.list_plans(s)["name"]) == {"Plan {% raw %} ${alert(15)}"}
    # CSV: neutralised formulas, lossless
    rows = list(csv.DictReader(io.StringIO(tours_io.plan_csv(plan, problem))))
    assert {csvio.unescape_cell(r["arret"]) for r in rows} == {x.name for x in stops}
    assert all(r["arret"][:1] not in adv.FORMULA_START or r["arret"].startswith("'")
               for r in rows)
    # iCalendar: every summary and location parses back to the stop's text (the format
    # has one line break, « \n »: a CR comes back as one)
    events = Calendar.from_ical(tours_io.plan_ics(plan, problem)).walk("VEVENT")
    assert {str(e["summary"]) for e in events} == {
        _lf(f"Atelier numérique mobile – {x.name}") for x in stops}
    assert {str(e["location"]) for e in events} == {_lf(x.address or x.name) for x in stops}
    # printable sheet: the names are HTML text, no element comes from them
    for t in plan.tours:
        page = _Text()
        page.feed(tours_io.day_sheet_html(plan, problem, t.van, t.day))
        text = "".join(page.text)
        for v in t.visits:
            assert problem.stops[v.stop].name in text
        assert page.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "table",
                             "thead", "tbody", "tr", "th", "td", "p"}


def test_indicators_keep_every_place_payload(s: Settings, canary: Path) -> None:
    places = adv.place_rows(canary)
    store.import_csv(FED, adv.registry_csv([r for *_, r in places]), "lieux.csv", s)
    month = date.today().replace(day=1) - timedelta(days=1)
    rows = adv.indicator_rows(f"{month:%Y-%m}", canary)
    res = indicators.import_csv(FED, adv.indicators_csv([r for *_, r in rows]),
                                "chiffres {{ 7*7 }}.csv", s)
    assert res["added"] == len(rows)
    typed = {**rows[1][2], "mois": f"{month.replace(day=1) - timedelta(days=1):%Y-%m}"}
    assert indicators.save(FED, typed, None, s) == 1  # the form
    recorded = indicators.recorded(s)
    assert set(recorded["place_id"]) == {adv.stored(r["lieu"]) for *_, r in rows}
    exported = indicators.export_csv(s).decode("utf-8")
    assert {csvio.unescape_cell(r["lieu"]) for r in csv.DictReader(io.StringIO(exported))} \
        == set(recorded["place_id"])
    # what an indicator cell rightly refuses: > 200 characters, control characters
    refused = {p.id for n, p in adv.accepted("registry", canary)
               if adv.refused_in("indicator-place", adv.place_id(n, p, canary))}
    assert refused == {"long-450", "control-chars", "newline", "blank-lines", "crlf",
                       "md-reference"}
    before = indicators.dump(s)
    for n, p in adv.accepted("registry", canary):
        if p.id not in refused:
            continue
        bad = {"indicateur": adv.BY_PLACE, "mois": f"{month:%Y-%m}", "code_insee": "97209",
               "lieu": adv.place_id(n, p, canary), "dimension": "", "valeur": "1"}
        with pytest.raises(ValidationError, match="caractères"):
            indicators.import_csv(FED, adv.indicators_csv([bad]), "x.csv", s)
    assert indicators.dump(s) == before


@pytest.fixture()
def cli_env(prepared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            canary: Path) -> Settings:
    """The command line on the prepared data with a private copy of its database."""
    import sqlite3

    target = tmp_path / "cli.db"
    src, dst = sqlite3.connect(prepared_data_dir / "maillage.db"), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{target}"
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", url)
    settings.get.cache_clear()
    yield replace(settings.from_env(), data_dir=prepared_data_dir, database_url=url)
    db.dispose_all()
    settings.get.cache_clear()


def _json(capsys, argv: list[str]):
    code = cli.main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err or out.out
    try:
        return json.loads(out.out)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{argv[:2]} --json : pas du JSON : {out.out[:300]!r}") from exc


def test_command_line_keeps_every_payload(cli_env: Settings, canary: Path, tmp_path: Path,
                                          capsys) -> None:
    places = adv.place_rows(canary)
    file = tmp_path / "lieux {{ 7*7 }} <img src=x onerror=alert(14)>.csv"
    file.write_bytes(adv.registry_csv([r for *_, r in places]))
    result = _json(capsys, ["places", "import", str(file), "--json"])
    assert result["imported"] == len(places)
    listing = _json(capsys, ["places", "list", "--json"])
    listed = {p["id"]: p for p in listing.get("lieux", listing) if isinstance(p, dict)}
    for *_, r in places:
        assert listed[adv.stored(r["id"])]["nom"] == adv.stored(r["nom"])
    out = tmp_path / "lieux.geojson"
    assert cli.main(["places", "export", "--out", str(out)]) == 0
    capsys.readouterr()
    props = {f["properties"]["id"]: f["properties"]
             for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    assert all(props[adv.stored(r["id"])]["adresse"] == adv.stored(r["adresse"])
               for *_, r in places)

    month = date.today().replace(day=1) - timedelta(days=1)
    ind = tmp_path / "chiffres.csv"
    rows = adv.indicator_rows(f"{month:%Y-%m}", canary)
    ind.write_bytes(adv.indicators_csv([r for *_, r in rows]))
    assert _json(capsys, ["indicators", "import", str(ind), "--json"])["added"] == len(rows)
    # a refused file: the JSON error quotes the hostile cell as a plain string
    bad = tmp_path / "refus.csv"
    bad.write_bytes(adv.indicators_csv([{**rows[0][2], "lieu": "{{ 7*7 }} <b>x</b> $x$"}]))
    assert cli.main(["indicators", "import", str(bad), "--json"]) == 2
    refusal = json.loads(capsys.readouterr().out)
    assert "{{ 7*7 }} <b>x</b> $x$" in json.dumps(refusal, ensure_ascii=False)

    stops = tmp_path / "arrets.csv"
    few = adv.accepted_stops(canary)[::4]  # a dozen stops: the real road network plans them
    stops.write_bytes(adv.stops_csv(canary, few))
    plan = tmp_path / "plan.json"
    doc = _json(capsys, ["tours", "--stops", str(stops), "--out", str(plan), "--weeks", "1",
                         "--time-limit", "2", "--json"])
    names = {adv.stored(adv.stop_values(n, p, canary)["nom"]) for n, p in few}
    written = json.loads(plan.read_text(encoding="utf-8"))
    assert {x["name"] for x in written["problem"]["stops"]} == names
    assert doc["summary"] == written["summary"]
