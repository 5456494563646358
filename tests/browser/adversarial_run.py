"""The adversarial corpus pushed in through every entry path, then every page opened in Chromium.

Used by ``tests/browser/test_adversarial.py`` (which asserts on the results) and by
``benchmarks/adversarial_report.py`` (which prints them as a table). Three steps:

1. :func:`prepare` copies a data folder prepared by the data step and writes the whole
   corpus into its database through the products' own entry paths: the registry CSV
   import, label changes with their comments, a stops file read then planned, saved
   and published, indicator rows imported and typed, by an editor account whose name
   is hostile too;
2. :func:`server` runs Streamlit on that folder (the quote-free template payloads'
   command in its environment, see :data:`tests.adversarial.CANARY_ENV`);
3. :func:`visit_all` opens every page (public, then signed in) and every export, and
   records for each *surface*: the JavaScript dialogs, the rendering (title shown, no
   Streamlit exception), the payloads looked for and whether each was shown literally;
   every request the browser makes is recorded, and the canary folder is checked after
   each surface.

:func:`summary` turns the results into the JSON written by the test and the tables of
:func:`markdown_tables`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from tests import adversarial as adv

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic"]
#: The only host the pages may load anything from; tiles are requested from
#: OpenStreetMap (expected: they never load offline) and counted apart.
TILE_HOST = "tile.openstreetmap.org"
#: The hostile editor account (its name is shown in the sidebar and the label history).
EDITOR = "éditrice :red[rouge] $x$ <b>gras</b> ![x](http://127.0.0.1:9/u.png)"
#: The hostile name of the uploaded registry file and of the saved tour plan.
FILE_NAME = "lieux {{ 7*7 }} <img src=x onerror=alert(14)>.csv"
PLAN_NAME = "Plan {% raw %} ${alert(15)} `+alert(16)+` :red[x] $y$"
STREAMLIT_ERROR = "[data-testid='stException']"
_ALERT = re.compile(r"alert\((\d+)\)")


# --------------------------------------------------------------------------- prepare
@dataclass
class Corpus:
    """What :func:`prepare` wrote, for the visits to look for."""

    data_dir: Path
    canary: Path
    password: str
    places: list[tuple[int, adv.Payload, dict[str, str]]]
    stops: list[tuple[int, adv.Payload, dict[str, str]]]
    indicator_places: list[tuple[int, adv.Payload]]
    plan_pk: int
    exports: dict[str, Path] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings(self):
        from maillage import settings

        return replace(settings.from_env(), data_dir=self.data_dir, database_url="")

    def place(self, payload_id: str) -> dict[str, str]:
        """The stored row of the place carrying ``payload_id``."""
        return next(r for _, p, r in self.places if p.id == payload_id)


def copy_data_dir(prepared: Path, target: Path) -> Path:
    """A private copy of a prepared data folder (its database copied consistently)."""
    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns(
        "maillage.db", "maillage.db-*", "*.log", "*.png"))
    src, dst = sqlite3.connect(prepared / "maillage.db"), sqlite3.connect(target / "maillage.db")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def _stored_rows(s) -> dict[str, dict[str, str]]:
    from maillage.registry import store

    return {r["id"]: r for r in store.rows(s)}


def prepare(data_dir: Path, canary: Path) -> Corpus:
    """Write the corpus into ``data_dir``'s database through every entry path.

    Raises ``AssertionError`` if a path does not keep a payload exactly as given (or
    accepts what it should refuse): the visits would otherwise look for the wrong text.
    """
    import numpy as np

    from analysis import tours
    from analysis.schedule import Period
    from analysis.tours import Problem, Travel, Van
    from geo import tours_io
    from maillage import auth, db, tour_store
    from maillage.indicators import store as indicators
    from maillage.registry import store
    from maillage.registry.errors import ValidationError

    s = replace(_settings_for(data_dir))
    canary.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16) + "Aa9!"
    try:
        actor = auth.add_user(EDITOR, "federation", password, s)
        entries: dict[str, dict[str, Any]] = {}

        # Registry: one CSV import of every accepted place, then a label change each.
        places = adv.place_rows(canary)
        result = store.import_csv(actor, adv.registry_csv([r for *_, r in places]), FILE_NAME,
                                  s)
        assert result["imported"] == len(places), result
        rows = _stored_rows(s)
        versions = dict(zip(store.places_frame(s)["id"], store.places_frame(s)["version"],
                            strict=True))
        kept = []
        for n, p, r in places:
            got = rows[r["id"].strip()]
            assert all(got[f] == r[f].strip() for f in (*adv.PLACE_TEXT_FIELDS, "nom")), p.id
            store.change_label(actor, got["id"], "labellisé", int(versions[got["id"]]),
                               p.text(canary), s)
            kept.append((n, p, got))
        refused = [p.id for p in adv.PAYLOADS if adv.refused_in("registry", p.text(canary))]
        for pid in refused:
            try:
                store.import_csv(actor, adv.registry_csv([adv.place_row(
                    99, adv.BY_ID[pid], canary)]), "refus.csv", s)
            except ValidationError:
                continue
            raise AssertionError(f"{pid} aurait dû être refusé par le registre")
        entries["registry"] = {"accepted": len(kept), "refused": refused}

        # Tours: the stops file, planned (fixed drive times: the page plans on the real
        # roads), saved under a hostile name and published.
        accepted = adv.accepted_stops(canary)
        stops = tours_io.read_stops(adv.stops_csv(canary, accepted))
        stop_rows = []
        for (n, p), st in zip(accepted, stops, strict=True):
            v = adv.stop_values(n, p, canary)
            assert (st.name, st.address, st.key) == (v["nom"].strip(), v["adresse"].strip(),
                                                     v["id"].strip()), p.id
            stop_rows.append((n, p, {"nom": st.name, "adresse": st.address, "id": st.key}))
        today = date.today()
        start = today + timedelta(days=7 - today.weekday())
        problem = Problem(stops, [Van("Camion 1", tours_io.default_depot(s))],
                          Period.with_holidays(start, 4))
        k = problem.n_locations
        sec = np.full((k, k), 600.0)
        np.fill_diagonal(sec, 0)
        plan = tours.solve(problem, Travel(sec, np.zeros(k), np.ones(k, bool)), 3)
        pk = tour_store.save_plan(actor, problem, plan, PLAN_NAME, s)
        tour_store.publish(actor, pk, 1, s)
        stored_names = set(tour_store.visits_frame(pk, s=s)["stop_name"])
        assert stored_names <= {r["nom"] for *_, r in stop_rows}
        refused = [p.id for n, p in enumerate(adv.PAYLOADS) if (n, p) not in accepted]
        entries["tours"] = {"accepted": len(stop_rows), "visits": len(plan.visits),
                            "refused": refused}

        # Indicators: rows by place (the ids carry the payloads), imported then one typed.
        month = date(today.year, today.month, 1) - timedelta(days=1)
        ind_rows = adv.indicator_rows(f"{month:%Y-%m}", canary)
        res = indicators.import_csv(actor, adv.indicators_csv([r for *_, r in ind_rows]),
                                    FILE_NAME, s)
        assert res["added"] == len(ind_rows), res
        typed = {**ind_rows[0][2], "mois": f"{month.replace(day=1) - timedelta(days=1):%Y-%m}"}
        indicators.save(actor, typed, None, s)
        stored_ids = set(indicators.recorded(s)["place_id"])
        assert {r["lieu"].strip() for *_, r in ind_rows} <= stored_ids
        entries["indicators"] = {"accepted": len(ind_rows), "refused": [
            p.id for n, p in adv.accepted("registry", canary)
            if adv.refused_in("indicator-place", adv.place_id(n, p, canary))]}
    finally:
        db.engine(s).dispose()
    return Corpus(data_dir, canary, password, kept, stop_rows,
                  [(n, p) for n, p, _ in ind_rows], pk, entries=entries)


def _settings_for(data_dir: Path):
    from maillage import settings

    return replace(settings.from_env(), data_dir=data_dir, database_url="")


# --------------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(data_dir: Path, canary: Path, timeout: float = 120) -> Iterator[str]:
    """Base URL of a Streamlit server running ``app.py`` on ``data_dir``."""
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir), **adv.canary_env(canary)}
    env.pop("MAILLAGE_DATABASE_URL", None)
    log = open(data_dir / "streamlit.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Streamlit s'est arrêté (code {proc.returncode}).")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Streamlit ne répond pas sur {base}") from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
