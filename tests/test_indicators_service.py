"""The indicators service: the CLI and the Indicateurs page show what it computes.

``maillage indicators overview --json`` (the console script, in a subprocess) prints the
service's ``to_json()`` for the same request, on the island and for one EPCI;
``summary --json`` prints its summary rows. The page (Streamlit AppTest) shows the
service's headline figures, charts and EPCI table, refuses a typed figure until a commune
is chosen, and shows an empty state instead of a uniform map when nothing is recorded. The
no-default-commune rule is the store's: a figure without a chosen commune is refused
there, whoever calls.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from analysis import indicators as ind
from maillage import auth, cli, db, fmt
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.indicators import charts, store
from maillage.registry import store as registry
from maillage.registry.errors import ValidationError
from maillage.services.indicators import IndicatorsRequest, IndicatorsService
from maillage.settings import Settings
from tests.registry_fixtures import row

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("maillage")
FED = auth.Actor("fede", "federation")
#: The day the figures were typed (and the window of the CLI requests ends).
TODAY = date(2026, 6, 15)
FIGURES = (
    "indicateur,mois,code_insee,lieu,dimension,valeur\n"
    "workshops_held,2026-01,97209,,,3\n"        # Fort-de-France (CACEM)
    "workshop_attendance,2026-01,97209,,,25\n"
    "workshops_held,2026-03,97228,,,2\n"        # Le Robert (CAP Nord)
    "workshop_attendance,2026-03,97228,,,14\n"
    "workshop_attendance_seniors,2026-03,97228,,,6\n"
    "remote_sessions,2026-02,,,vidéo,40\n"      # no commune: the island only
    "remote_sessions,2026-04,97228,,chat,7\n"
    "mediators_active,2026-03,97228,,banque,4\n"
    "devices_collected,2026-05,97213,,,12\n"    # Le Lamentin (CACEM)
)


@pytest.fixture()
def s(real_settings: Settings, tmp_path: Path) -> Settings:
    """The real communes and a private SQLite store."""
    settings = replace(real_settings, database_url=f"sqlite:///{tmp_path / 'maillage.db'}")
    db.migrate(settings)
    yield settings
    db.dispose_all()


@pytest.fixture()
def filled(s: Settings) -> Settings:
    """The store with a few figures, two targets and one labelled place."""
    store.import_csv(FED, FIGURES.encode(), "chiffres.csv", s, TODAY)
    store.set_target(FED, "workshops_held", 2026, 20, "", s)
    store.set_target(FED, "workshops_held", 2026, 8, "CAP Nord", s)
    registry.save_place(FED, row(id="lieu-fdf", label_status="labellisé"), None, s)
    return s


@pytest.fixture()
def service(s: Settings) -> IndicatorsService:
    return IndicatorsService.load(s)


def _env(s: Settings) -> dict[str, str]:
    return {**os.environ, "MAILLAGE_DATA_DIR": str(s.data_dir),
            "MAILLAGE_DATA_MIRROR": str(s.data_mirror), "MAILLAGE_DATABASE_URL": s.db_url}


def _maillage(args: list[str], s: Settings) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=_env(s), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


# --------------------------------------------------------------------------- CLI = service


@pytest.mark.parametrize(("epci", "extra", "request_map"), [
    ("", [], {}),
    ("CAP Nord", ["--map-indicator", "remote_sessions", "--map-level", "epci"],
     {"map_indicator": "remote_sessions", "map_level": "epci"}),
])
def test_the_cli_prints_the_services_json(filled: Settings, service: IndicatorsService,
                                          epci: str, extra: list[str],
                                          request_map: dict[str, str]) -> None:
    args = ["indicators", "overview", "--year", "2026", "--today", TODAY.isoformat(),
            "--json", *(["--epci", epci] if epci else []), *extra]
    out = _maillage(args, filled)
    assert out.returncode == 0, out.stderr
    expected = service.run(IndicatorsRequest(2026, epci, TODAY, **request_map)).to_json()
    assert json.loads(out.stdout) == expected
    # The figures are really there (not two empty answers that agree).
    assert expected["has_data"] and expected["monthly"]["workshops_held"]
    held = {r["indicator"]: r for r in expected["summary"]}["workshops_held"]
    assert (held["value"], held["target"]) == ((5.0, 20.0) if not epci else (2.0, 8.0))
    assert expected["map"]["has_data"]


def test_summary_json_is_the_services_summary(filled: Settings, service: IndicatorsService,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(filled.data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", filled.db_url)
    settings_mod.get.cache_clear()
    try:
        assert cli.main(["indicators", "summary", "--year", "2026", "--epci", "CAP Nord",
                         "--today", TODAY.isoformat(), "--json"]) == 0
    finally:
        settings_mod.get.cache_clear()
    rows = json.loads(capsys.readouterr().out)
    result = service.run(IndicatorsRequest(2026, "CAP Nord", TODAY))
    assert rows == result.summary_rows()
    assert [r["indicator"] for r in rows] == list(ind.INDICATORS)


@pytest.mark.parametrize(("args", "request_"), [
    (["--epci", "Atlantide"], IndicatorsRequest(2026, "Atlantide")),
    (["--year", "1999"], IndicatorsRequest(1999)),
    (["--map-indicator", "workshop_held"],
     IndicatorsRequest(2026, map_indicator="workshop_held")),
    (["--map-level", "iris"], IndicatorsRequest(2026, map_level="iris")),
])
def test_the_cli_and_the_service_refuse_alike(s: Settings, service: IndicatorsService,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str], args,
                                              request_) -> None:
    with pytest.raises(MaillageError) as refused:
        service.run(request_)
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
    settings_mod.get.cache_clear()
    try:
        code = cli.main(["indicators", "overview", "--year", "2026", *args, "--json"])
    finally:
        settings_mod.get.cache_clear()
    assert code == cli.EXIT_USAGE
    assert json.loads(capsys.readouterr().out)["erreur"] == str(refused.value)


def test_an_epci_is_matched_whatever_its_case(filled: Settings,
                                              service: IndicatorsService) -> None:
    result = service.run(IndicatorsRequest(2026, "cap nord", TODAY))
    assert result.request.epci == "CAP Nord"
    assert result.to_json() == service.run(IndicatorsRequest(2026, "CAP Nord", TODAY)).to_json()


# --------------------------------------------------------------------------- no default commune


def _form(**values: str | None) -> dict[str, str | None]:
    return {"indicateur": "workshops_held", "mois": "2026-05", "code_insee": None, "lieu": "",
            "dimension": "", "valeur": "4", **values}


def test_a_figure_whose_commune_nobody_chose_is_refused_by_the_store(
        s: Settings, service: IndicatorsService) -> None:
    refusals = [
        _form(),                                                   # commune not chosen
        _form(code_insee=""),                                      # by commune: "" is no choice
        _form(indicateur="remote_sessions", dimension="chat"),     # island or commune: None
        _form(indicateur="beneficiaries", code_insee="97209"),     # by place: no place
    ]
    for form in refusals:
        with pytest.raises(ValidationError, match="choisi") as err:
            store.save(FED, form, None, s, TODAY)
        assert "Rien n'a été enregistré" in str(err.value)
        with pytest.raises(ValidationError, match="choisi"):
            service.record(FED, form, None, TODAY)
    assert store.dump(s)["indicator_values"] == []
    # The role is checked first: an anonymous visitor learns nothing about the form.
    with pytest.raises(auth.AuthError):
        store.save(None, _form(), None, s, TODAY)
    # Once chosen (« Toute la Martinique » is a choice for remote support), it is saved.
    assert service.record(FED, _form(code_insee="97213"), None, TODAY) == 1
    assert service.record(FED, _form(indicateur="remote_sessions", dimension="chat",
                                     code_insee=""), None, TODAY) == 1
    assert store.current_value(("workshops_held", date(2026, 5, 1), "97213", "", ""),
                               s) == (4.0, 1)
    assert store.current_value(("remote_sessions", date(2026, 5, 1), "", "", "chat"),
                               s) == (4.0, 1)
    # Nothing points at a figure until the commune is chosen.
    assert service.current(_form(), TODAY) is None
    assert service.current(_form(code_insee="97213"), TODAY) == (4.0, 1)


# --------------------------------------------------------------------------- the page


@pytest.fixture()
def page_env(monkeypatch: pytest.MonkeyPatch):
    """Point the page at ``s`` (env read by ``settings.get``)."""
    def use(s: Settings) -> None:
        monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
        monkeypatch.setenv("MAILLAGE_DATA_MIRROR", str(s.data_mirror))
        monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.db_url)
        settings_mod.get.cache_clear()

    yield use
    settings_mod.get.cache_clear()


def _page(actor: auth.Actor | None = None):
    """The Indicateurs page run on its own (it needs the communes and the store only)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "indicateurs.py"), default_timeout=300)
    if actor is not None:
        at.session_state["maillage_actor"] = actor
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _expected_metrics(result) -> dict[str, tuple[str, str]]:
    """Indicator label → (value, « objectif … · … % ») as the page should show them."""
    out = {}
    for spec in ind.INDICATORS.values():
        r = result.row(spec.key)
        value = charts.fmt(r["value"], spec) if r["has_data"] else "—"
        delta = ""
        if math.isfinite(r["target"]):
            delta = f"objectif {charts.fmt(r['target'], spec)}"
            if r["progress"] is not None and math.isfinite(r["progress"]):
                delta += f" · {fmt.percent(r['progress'], 0)}"
        out[spec.label] = (value, delta)
    return out


def _by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_the_page_shows_the_services_figures(filled: Settings, service: IndicatorsService,
                                             page_env) -> None:
    page_env(filled)
    today = date.today()
    at = _page()
    assert not at.error, [e.value for e in at.error]
    assert _by_label(at.selectbox, "Année").value == 2026
    for epci in ("", "CAP Nord"):
        if epci:
            _by_label(at.radio, "Territoire").set_value(epci).run()
            assert not at.exception and not at.error
        result = service.run(IndicatorsRequest(2026, epci, today))
        shown = {m.label: (m.value, m.delta) for m in at.metric}
        assert len(at.metric) == len(shown) == len(ind.INDICATORS)
        assert shown == _expected_metrics(result)
        dims = sum(any(s.key in result.dimensions for s in ind.of_solution(sol))
                   for sol in ind.SOLUTIONS)
        assert len(at.get("plotly_chart")) == len(result.monthly) + dims
    held = result.by_epci.loc["workshops_held"]
    table = at.dataframe[0].value
    label = f"{ind.SOLUTIONS['mobile'].title} — {ind.INDICATORS['workshops_held'].label}"
    assert table.loc[label].tolist() == [charts.fmt(v, ind.INDICATORS["workshops_held"])
                                         for v in held]
    # The map of the default indicator is drawn, with its legend.
    assert [m for m in at.markdown if "maillage-legend" in m.value]
    assert not [i for i in at.info if i.value.startswith("Pas de carte")]
    assert [t.label for t in at.tabs] == [sol.short for sol in ind.SOLUTIONS.values()]


def test_the_entry_form_has_no_default_commune(s: Settings, page_env) -> None:
    page_env(s)
    at = _page(FED)
    commune = _by_label(at.selectbox, "Commune")
    assert commune.value is None
    value = next(n for n in at.number_input if n.label.startswith("Valeur"))
    value.set_value(4).run()
    _by_label(at.button, "Enregistrer ce chiffre").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "choisissez une commune" in errors[0], errors
    assert store.dump(s)["indicator_values"] == []

    _by_label(at.selectbox, "Commune").set_value("97213").run()
    _by_label(at.button, "Enregistrer ce chiffre").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [m.value for m in at.success] == ["Chiffre enregistré."]
    month = date.today().replace(day=1)
    assert store.current_value(("workshops_held", month, "97213", "", ""), s) == (4.0, 1)
    at.run()  # the figures were read again after the save
    held = _by_label(at.metric, ind.INDICATORS["workshops_held"].label)
    assert held.value == charts.fmt(4.0, ind.INDICATORS["workshops_held"])


def test_with_no_figure_the_map_is_an_empty_state(s: Settings, service: IndicatorsService,
                                                  page_env) -> None:
    result = service.run(IndicatorsRequest(date.today().year))
    assert not result.has_data and not result.map_has_data
    page_env(s)
    at = _page()
    assert not at.error, [e.value for e in at.error]
    infos = [i.value for i in at.info]
    assert any("Aucun chiffre enregistré pour l'instant" in i for i in infos), infos
    assert any(i.startswith("Pas de carte pour") for i in infos), infos
    legends = [m.value for m in at.markdown if "maillage-legend" in m.value]
    assert legends == []  # no « 0 – 0 » legend under a uniform map
    assert [m.value for m in at.metric] == ["—"] * len(ind.INDICATORS)
