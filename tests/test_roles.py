"""Every write of every store checks the role itself: the public and the other roles write nothing.

The pages hide their forms from visitors without the right role; these tests call the
stores directly, as a page with a bug (or a forged request) would, and check that the
refusal is a French :class:`maillage.auth.AuthError` and that not one row changed. Each
refusal is followed by the same call with a role that may write, which must change the
store: the "nothing written" check would catch a write.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import pytest

from maillage import auth, db, selection_store, tour_store
from maillage.db.models import ROLES
from maillage.indicators import csvio as ind_csvio
from maillage.indicators import store as ind_store
from maillage.registry import applications, csvio
from maillage.registry import store as registry
from maillage.settings import Settings
from tests.registry_fixtures import row
from tests.test_applications import form as application_form
from tests.test_tour_store import _problem_plan

ADMIN = auth.Actor("admin-test", "admin")
TODAY = date(2026, 6, 15)
FIGURE = {"indicateur": "workshops_held", "mois": "2026-01", "code_insee": "97209",
          "lieu": "", "dimension": "", "valeur": "3"}
STOPS = pd.DataFrame({"nom": ["Mairie du Robert", "Bourg du Vauclin"],
                      "lon": [-60.9400, -60.8380], "lat": [14.6770, 14.5450]})


@dataclass
class Targets:
    """What the writes aim at in the prepared store."""

    figure_key: tuple
    problem: object
    plan: object
    plan_pk: int
    visit_pk: int
    application_ref: str


@pytest.fixture()
def store(real_settings: Settings, store_url: str):
    """A store (SQLite, then PostgreSQL) holding a place, a figure, a plan with visits."""
    s = replace(real_settings, database_url=store_url)
    db.migrate(s)
    registry.save_place(ADMIN, row(), None, s)
    ind_store.save(ADMIN, FIGURE, None, s, today=TODAY)
    key = ind_csvio.check([{**FIGURE, "_line": "1"}], ind_store.context(s, TODAY))[0].key
    problem, _, plan = _problem_plan()
    plan_pk = tour_store.save_plan(ADMIN, problem, plan, "Juin", s=s)
    visit_pk = int(tour_store.visits_frame(plan_pk, s=s).iloc[0]["pk"])
    ref = applications.file_application(None, application_form(), "192.0.2.1", s).ref
    yield s, Targets(key, problem, plan, plan_pk, visit_pk, ref)
    db.engine(s).dispose()


Write = Callable[[auth.Actor | None, Settings, Targets], object]

#: Every write reachable from a page (or the command line with ``--as``), and the roles
#: that may make it.
WRITES: dict[str, tuple[Write, frozenset[str]]] = {
    "registry.save_entry": (  # also behind registry.save_place
        lambda a, s, t: registry.save_entry(a, row(id="", telephone="0596 52 00 00"), None, s),
        auth.EDITOR_ROLES),
    "registry.change_label": (
        lambda a, s, t: registry.change_label(a, "test-1", "candidat", 1, s=s),
        auth.EDITOR_ROLES),
    "registry.import_csv": (
        lambda a, s, t: registry.import_csv(
            a, csvio.write_csv([row(id="importe-1")], include_local=True), "a.csv", s),
        auth.EDITOR_ROLES),
    "registry.delete_all_places": (
        lambda a, s, t: registry.delete_all_places(a, s), frozenset({"admin"})),
    "indicators.import_csv": (
        lambda a, s, t: ind_store.import_csv(
            a, (b"indicateur,mois,code_insee,lieu,dimension,valeur\n"
                b"workshops_held,2026-02,97213,,,2\n"), "v.csv", s, today=TODAY),
        auth.EDITOR_ROLES),
    "indicators.save": (
        lambda a, s, t: ind_store.save(a, {**FIGURE, "valeur": "4"}, 1, s, today=TODAY),
        auth.EDITOR_ROLES),
    "indicators.delete_value": (
        lambda a, s, t: ind_store.delete_value(a, t.figure_key, 1, s), auth.EDITOR_ROLES),
    "indicators.set_target": (
        lambda a, s, t: ind_store.set_target(a, "workshops_held", 2026, 10.0, s=s),
        auth.EDITOR_ROLES),
    "tour_store.save_plan": (
        lambda a, s, t: tour_store.save_plan(a, t.problem, t.plan, "Juillet", s=s),
        auth.EDITOR_ROLES),
    "tour_store.replace_plan": (
        lambda a, s, t: tour_store.replace_plan(a, t.plan_pk, 1, t.problem, t.plan, s=s),
        auth.EDITOR_ROLES),
    "tour_store.publish": (
        lambda a, s, t: tour_store.publish(a, t.plan_pk, 1, s=s), auth.EDITOR_ROLES),
    "tour_store.record_attendance": (
        lambda a, s, t: tour_store.record_attendance(a, t.visit_pk, 1, 12, 5, s=s),
        auth.EDITOR_ROLES),
    "selection_store.save_selection": (
        lambda a, s, t: selection_store.save_selection(a, "Nord-Atlantique", STOPS,
                                                       {"mode": "walk"}, s),
        selection_store.SAVE_ROLES),
    "applications.decide": (
        lambda a, s, t: applications.decide(a, t.application_ref, "refusé", 1, [],
                                            "Pas d'accueil du public.", s),
        applications.REVIEW_ROLES),
}

#: Writes no page reaches: run by the operator on the server (``maillage data``,
#: ``maillage user …``) or by the sign-in itself (its throttle counters, and the sessions:
#: opened after a successful sign-in, their one-use tickets and cookie routes, sign-out).
SERVER_SIDE = {"maillage.registry.store.apply_initial", "maillage.auth.add_user",
               "maillage.auth.set_password", "maillage.auth.sign_in",
               "maillage.sessions.start", "maillage.sessions.revoke",
               "maillage.sessions.signin_handoff", "maillage.sessions.consume_signin",
               "maillage.sessions.signout_handoff", "maillage.sessions.consume_signout"}
#: The one write open to anonymous visitors, on purpose (docs/securite.md): filing an
#: application for the label. It is bounded and rate-limited, and writes only the
#: application and its first history line (checked below), never a public row.
ANONYMOUS = {"maillage.registry.applications.file_application"}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_refused_without_the_role_and_nothing_written(store, name: str) -> None:
    s, targets = store
    write, allowed = WRITES[name]
    before = db.dump(s)
    refused = [None, *(auth.Actor(f"compte-{r}", r) for r in ROLES if r not in allowed),
               auth.Actor("compte-inconnu", "lecture")]
    for actor in refused:
        with pytest.raises(auth.AuthError) as err:
            write(actor, s, targets)
        message = str(err.value)
        assert ("Connectez-vous" in message) if actor is None else (
            f"« {actor.username} »" in message and "ne peut pas" in message)
        assert db.dump(s) == before, (name, actor)
    # the same call with a role that may make it does write
    write(auth.Actor("compte-autorise", sorted(allowed)[0]), s, targets)
    assert db.dump(s) != before


def test_every_write_of_the_stores_takes_the_actor_and_is_listed() -> None:
    """A new write function in a store must take the actor and be added to WRITES."""
    import maillage.auth
    import maillage.indicators.store
    import maillage.registry.store
    import maillage.sessions

    modules = {maillage.registry.store: "registry", maillage.indicators.store: "indicators",
               tour_store: "tour_store", selection_store: "selection_store",
               maillage.auth: "auth", applications: "applications",
               maillage.sessions: "sessions"}
    found = []
    for module, short in modules.items():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            if "write_session" not in inspect.getsource(fn):
                continue
            qualified = f"{module.__name__}.{name}"
            found.append(qualified)
            if qualified in SERVER_SIDE | ANONYMOUS:
                continue
            assert next(iter(inspect.signature(fn).parameters)) == "actor", (
                f"{qualified} écrit sans recevoir l'acteur")
            assert f"{short}.{name}" in WRITES, f"{qualified} n'est pas dans WRITES"
    assert set(found) >= SERVER_SIDE | ANONYMOUS
    assert len(found) == len(WRITES) + len(SERVER_SIDE) + len(ANONYMOUS)


def test_the_one_anonymous_write_files_an_application_and_nothing_else(store) -> None:
    """Anonymous filing adds one application and its history line; a bad one adds nothing."""
    s, _ = store
    before = db.dump(s)
    with pytest.raises(registry.ValidationError):
        applications.file_application(None, application_form(contact_email="x"), "192.0.2.2", s)
    assert db.dump(s) == before
    applications.file_application(None, application_form(), "192.0.2.2", s)
    after = db.dump(s)
    changed = {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}
    assert changed == {"applications", "application_events"}
    assert len(after["applications"]) == len(before["applications"]) + 1
    assert len(after["application_events"]) == len(before["application_events"]) + 1
