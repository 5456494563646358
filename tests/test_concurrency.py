"""Concurrent editors: several processes write the same records at once, nothing is lost.

Each worker process loops over place edits, label changes, indicator figures and visit
attendance, the way the pages do it: read the record and its version, think a little,
save with that version. A save either succeeds (one new version) or is refused with the
French conflict message; nothing else may reach the caller (no "database is locked").
Afterwards, for every record the successful saves must account for every version
exactly once, and the stored value must be the one of the last successful save.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select

from geo.errors import MaillageError
from maillage import auth, db, tour_store
from maillage.db.models import LabelEvent, Place
from maillage.indicators import store as ind_store
from maillage.registry import csvio, store
from maillage.registry.errors import ConflictError
from maillage.settings import Settings
from tests.registry_fixtures import row

WORKERS = 6
ROUNDS = 40
PLACES = ("conc-a", "conc-b")
STATUSES = ("candidat", "labellisé", "suspendu", "retiré")
TODAY = date(2026, 6, 15)
FIGURES = (("workshops_held", "97209"), ("workshops_held", "97213"))
CONFLICT_WORDS = ("modifié", "changé")


def _indicator_row(code: str, value: int) -> dict[str, str]:
    return {"indicateur": "workshops_held", "mois": "2026-01", "code_insee": code, "lieu": "",
            "dimension": "", "valeur": str(value)}


def _worker(args: tuple[Settings, int, list[int]]) -> dict:
    """One editor: ROUNDS saves on shared records; returns every outcome."""
    s, w, visits = args
    db.dispose_all()  # never share a parent's pooled connection
    rnd = random.Random(w)
    me = auth.Actor(f"editeur-{w}", "federation")
    done: list[tuple] = []  # (kind, target, new_version, value)
    refused: Counter = Counter()
    errors: list[str] = []
    for i in range(ROUNDS):
        kind = rnd.choice(("edit", "label", "indicator", "attendance"))
        value = w * 1000 + i
        try:
            if kind in ("edit", "label"):
                pid = rnd.choice(PLACES)
                with db.read_session(s) as session:
                    place = store.get_place(session, pid)
                    version, current = place.version, store.to_row(place)
                time.sleep(rnd.random() * 0.01)
                if kind == "edit":
                    new = store.save_place(me, {**current, "nom": f"Nom {value}"}, version, s)
                    done.append((kind, pid, new, f"Nom {value}"))
                else:
                    status = STATUSES[value % len(STATUSES)]
                    new = store.change_label(me, pid, status, version, f"essai {value}", s=s,
                                             on=TODAY)
                    done.append((kind, pid, new, status))
            elif kind == "indicator":
                _, code = rnd.choice(FIGURES)
                rec_key = ("workshops_held", date(2026, 1, 1), code, "", "")
                found = ind_store.current_value(rec_key, s)
                time.sleep(rnd.random() * 0.01)
                new = ind_store.save(me, _indicator_row(code, value), found and found[1], s,
                                     TODAY)
                done.append((kind, code, new, float(value)))
            else:
                pk = rnd.choice(visits)
                df = tour_store.visits_frame(s=s)
                version = int(df.loc[df["pk"] == pk, "version"].iloc[0])
                time.sleep(rnd.random() * 0.01)
                people = value % 400
                new = tour_store.record_attendance(me, pk, version, people, 0, s=s)
                done.append((kind, pk, new, people))
        except (ConflictError, tour_store.TourConflictError) as exc:
            assert any(word in str(exc) for word in CONFLICT_WORDS), str(exc)
            refused[kind] += 1
        except MaillageError as exc:
            errors.append(f"{kind}: {exc}")
        except Exception as exc:  # "database is locked" and any crash end up here
            errors.append(f"{kind}: {type(exc).__name__}: {exc}")
    db.dispose_all()
    return {"done": done, "refused": refused, "errors": errors, "attempted": ROUNDS}


def _plan(s: Settings) -> list[int]:
    from analysis import tours
    from analysis.schedule import Period
    from analysis.tours import Problem, Stop, Travel, Van

    stops = [Stop(f"Arrêt {i}", -61.05 + 0.02 * i, 14.62, "hebdomadaire", 3600, key=f"s{i}")
             for i in range(2)]
    problem = Problem(stops, [Van("A", (-61.07, 14.61))], Period.with_holidays(
        date(2026, 6, 1), 1))
    sec = np.full((3, 3), 900.0)
    np.fill_diagonal(sec, 0)
    plan = tours.solve(problem, Travel(sec, np.zeros(3), np.ones(3, bool)), 1)
    pk = tour_store.save_plan(auth.Actor("fede", "federation"), problem, plan, s=s)
    return [int(v) for v in tour_store.visits_frame(pk, s=s)["pk"]]


def test_concurrent_editors_lose_no_update(real_settings: Settings, store_url: str) -> None:
    s = replace(real_settings, database_url=store_url)
    db.migrate(s)
    fed = auth.Actor("fede", "federation")
    store.import_csv(fed, csvio.write_csv([row(id=p, nom=p) for p in PLACES], True, True),
                     "base.csv", s)
    visits = _plan(s)
    start = {p: store.label_history(p, s) for p in PLACES}
    db.dispose_all()
    with mp.get_context("fork").Pool(WORKERS) as pool:
        results = pool.map(_worker, [(s, w, visits) for w in range(WORKERS)])

    errors = [e for r in results for e in r["errors"]]
    assert errors == []  # no "database is locked", no crash, nothing but conflicts
    done = [d for r in results for d in r["done"]]
    refused = sum((r["refused"] for r in results), Counter())
    attempted = sum(r["attempted"] for r in results)
    assert len(done) + sum(refused.values()) == attempted

    by_target: dict[tuple, list[tuple]] = defaultdict(list)
    for kind, target, version, value in done:
        group = "place" if kind in ("edit", "label") else kind
        by_target[(group, target)].append((version, kind, value))
    with db.read_session(s) as session:
        for pid in PLACES:
            place = store.get_place(session, pid)
            saves = sorted(by_target[("place", pid)])
            # every version from 2 to the stored one came from exactly one successful save
            assert [v for v, _, _ in saves] == list(range(2, place.version + 1))
            edits = [x for x in saves if x[1] == "edit"]
            labels = [x for x in saves if x[1] == "label"]
            assert place.nom == (edits[-1][2] if edits else pid)
            if labels:
                assert place.label_status == labels[-1][2]
            n_events = session.scalar(select(func.count()).select_from(LabelEvent)
                                      .join(Place).where(Place.id == pid))
            assert n_events == len(start[pid]) + len(labels)
    for _, code in FIGURES:
        saves = sorted(by_target[("indicator", code)])
        stored = ind_store.current_value(("workshops_held", date(2026, 1, 1), code, "", ""), s)
        if saves:
            assert [v for v, _, _ in saves] == list(range(1, stored[1] + 1))
            assert stored[0] == saves[-1][2]
    frame = tour_store.visits_frame(s=s).set_index("pk")
    for pk in visits:
        saves = sorted(by_target[("attendance", pk)])
        assert [v for v, _, _ in saves] == list(range(2, int(frame.loc[pk, "version"]) + 1))
        if saves:
            assert int(frame.loc[pk, "attendance"]) == saves[-1][2]
    print(f"\n{db.engine(s).dialect.name} : {WORKERS} processus, {attempted} écritures tentées, "
          f"{len(done)} réussies, {sum(refused.values())} refusées pour conflit "
          f"({dict(refused)}), 0 mise à jour perdue, {len(errors)} erreur")
    assert sum(refused.values()) > 0, "aucun conflit provoqué : le test ne prouve rien"


@pytest.fixture(autouse=True)
def _no_leftover_engines():
    yield
    db.dispose_all()
