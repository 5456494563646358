"""Replicas behind a proxy on one shared database (issue #19, ``deploy/``).

Fast tests: a replica's read-only copy of the data is never written (:mod:`geo.cache`),
and the stores' revisions change with every write (the display caches are keyed on them).

Slow tests (``deploy/up.sh 2``: a private PostgreSQL on 127.0.0.1, ``maillage data`` once,
two Streamlit replicas on read-only copies of the prepared data, nginx in front), driven
through Streamlit's own websocket protocol (:mod:`benchmarks.load_protocol`, no browser):

* a place renamed through replica 1's page (signed in, « Enregistrer ») shows on replica 2
  at its very next run (Points numériques and Trouver, both cached before the edit);
* a visitor keeps its replica (same cookie → same upstream, ``X-Upstream`` set by nginx);
* a replica killed with SIGKILL loses nothing that was saved (the row is in PostgreSQL)
  and the proxy sends its visitors and new ones to the other replica.

They are skipped without nginx or PostgreSQL (Debian packages), and fail instead when
``MAILLAGE_REQUIRE_REPLICAS=1`` (``.ci/run``). Everything is stopped and removed at the end
(``deploy/down.sh``, then the temporary folder), whatever happens.
"""

from __future__ import annotations

import asyncio
import glob
import html
import os
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from geo import cache
from maillage import auth
from maillage import settings as settings_mod
from maillage.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_ENV = "MAILLAGE_REQUIRE_REPLICAS"


# ----------------------------------------------------------------------------- fast


def _read_only(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)


def _writable(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_a_read_only_copy_of_the_data_is_never_written(tmp_path: Path) -> None:
    """Even for root (permission bits do not stop it), a write in a folder without any
    write bit is refused in French and leaves the folder as it was."""
    data = tmp_path / "data"
    (data / "build").mkdir(parents=True)
    cache.write(data / "build" / "kept.bin", b"abc", 1)
    _read_only(data)
    try:
        before = sorted(p.name for p in (data / "build").iterdir())
        assert cache.read_only_folder(data / "build" / "graphs" / "new.npz") == data / "build"
        with pytest.raises(cache.ReadOnlyData, match=r"lecture seule.*maillage data"):
            cache.write(data / "build" / "graphs" / "new.npz", b"xyz", 1)
        assert cache.read(data / "build" / "kept.bin", bytes, 1) == b"abc"  # reads are fine
        (data / "build" / "kept.bin").chmod(0o644)
        (data / "build" / "kept.bin").write_bytes(b"damaged")  # (a test may write)
        (data / "build" / "kept.bin").chmod(0o444)
        with pytest.raises(cache.ReadOnlyData, match="cache illisible"):
            cache.read(data / "build" / "kept.bin", bytes, 1)  # not deleted, not rebuilt
        assert sorted(p.name for p in (data / "build").iterdir()) == before
    finally:
        _writable(data)
    assert cache.read_only_folder(data / "build" / "x") is None
    cache.write(data / "build" / "x", b"1", 1)  # writable again


@pytest.fixture()
def store_settings(tmp_settings: Settings, store_url: str) -> Settings:
    return replace(tmp_settings, database_url=store_url)


def test_tour_and_indicator_revisions_change_with_every_write(store_settings: Settings
                                                              ) -> None:
    """Each write changes the revision the display caches are keyed on; reads do not."""
    import geopandas as gpd

    from maillage import tour_store
    from maillage.indicators import store as ind_store
    from maillage.services.coverage import CoverageService
    from tests.test_tour_store import _problem_plan

    s = store_settings
    auth.add_user("fede", "federation", "camion bleu sous la pluie 97", s)
    actor = auth.Actor("fede", "federation")
    # the coverage service's stops follow the tours' revision (no stale copy, no delay)
    svc = CoverageService(s, gpd.GeoDataFrame(), gpd.GeoDataFrame(), gpd.GeoDataFrame())
    assert svc.stops().empty
    seen = [tour_store.revision(s)]
    indicators = [ind_store.revision(s)]
    problem, _, plan = _problem_plan()
    pk = tour_store.save_plan(actor, problem, plan, "Juin", s=s)
    seen.append(tour_store.revision(s))
    assert svc.stops().empty  # a draft is not public
    version = tour_store.publish(actor, pk, 1, s=s)
    seen.append(tour_store.revision(s))
    assert version == 2 and set(svc.stops()["place_id"]) == {v.key for v in plan.visits}
    v = tour_store.visits_frame(pk, s=s).iloc[0]
    tour_store.record_attendance(actor, int(v.pk), int(v.version), 8, 3, s=s)
    seen.append(tour_store.revision(s))
    indicators.append(ind_store.revision(s))
    key = next(iter(ind_store.ind.INDICATORS))
    ind_store.set_target(actor, key, 2026, 10.0, s=s)
    indicators.append(ind_store.revision(s))
    assert len(set(seen)) == len(seen) and len(set(indicators)) == len(indicators)
    assert tour_store.revision(s) == seen[-1] and ind_store.revision(s) == indicators[-1]


# ----------------------------------------------------------------------------- slow


def _missing() -> list[str]:
    missing = []
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing.append("nginx")
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("postgresql")
    return missing


def _require_binaries() -> None:
    missing = _missing()
    if missing:
        msg = (f"Répliques NON TESTÉES : {', '.join(missing)} absent(s) "
               f"(apt-get install -y {' '.join(missing)} ; .ci/run les installe).")
        if os.environ.get(REQUIRE_ENV, "") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@dataclass
class Deployment:
    proxy: str
    replicas: list[str]  # direct URLs, replica 1 first
    pids: list[int]
    settings: Settings  # the shared database, as the test process reads it


@pytest.fixture(scope="module")
def deployment(prepared_data_dir: Path):
    """``deploy/up.sh 2`` in a temporary folder on free ports; ``deploy/down.sh`` after."""
    _require_binaries()
    from benchmarks.load_protocol import _free_block, _free_port

    tmp = Path(tempfile.mkdtemp(prefix="maillage-replicas-"))
    tmp.chmod(0o755)  # PostgreSQL and the replicas may run as other users
    run = tmp / "run"
    port, base = _free_port(), _free_block(2)
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(prepared_data_dir),
           "MAILLAGE_DEPLOY_RUN": str(run), "MAILLAGE_DEPLOY_PORT": str(port),
           "MAILLAGE_DEPLOY_BASE_PORT": str(base)}
    try:
        up = subprocess.run(["bash", str(ROOT / "deploy" / "up.sh"), "2"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
        if up.returncode != 0:
            pytest.fail(f"deploy/up.sh 2 a échoué :\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}")
        url = (run / "database_url").read_text().strip()
        yield Deployment(
            proxy=f"http://127.0.0.1:{port}",
            replicas=[f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"],
            pids=[int((run / f"replica-{k}" / "streamlit.pid").read_text()) for k in (1, 2)],
            settings=replace(settings_mod.from_env(), data_dir=prepared_data_dir,
                             database_url=url))
    finally:
        try:
            subprocess.run(["bash", str(ROOT / "deploy" / "down.sh")], cwd=ROOT, env=env,
                           capture_output=True, timeout=180)
        finally:
            from maillage import db

            db.dispose_all()
            if run.exists():  # down.sh failed half-way: at least no read-only leftovers
                subprocess.run(["chmod", "-R", "u+w", str(run)], check=False)
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def editor(deployment: Deployment) -> tuple[str, str]:
    """A Fédération account in the shared database: (name, password)."""
    password = f"Répliques {secrets.token_urlsafe(12)} sous la pluie"
    auth.add_user("replicas-test", "federation", password, deployment.settings)
    return "replicas-test", password


def _place(s: Settings) -> dict:
    """A fixed place with a position (the finder lists it), as the registry holds it."""
    from maillage.registry import store

    frame = store.places_frame(s, public=True)
    frame = frame[(frame["kind"] == "lieu fixe") & frame["longitude"].astype(bool)
                  & frame["latitude"].astype(bool)]
    row = frame.sort_values("id").iloc[0]
    return {"id": row["id"], "nom": row["nom"], "commune": row["commune"],
            "lon": float(row["longitude"]), "lat": float(row["latitude"])}


def _stored_name(s: Settings, place_id: str) -> str:
    from maillage import db
    from maillage.registry import store

    db.dispose_all()  # a new connection: what the database holds, nothing cached
    with db.read_session(s) as session:
        return store.get_place(session, place_id).nom


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=240))


async def _options(base: str, cookies: dict | None = None) -> tuple[list[str], str]:
    """The « Fiche détaillée » choices a new visitor of Points numériques sees, and the
    replica that answered (``X-Upstream``, empty when direct)."""
    from benchmarks.load_protocol import StreamlitSession

    async with StreamlitSession(base, timeout=180, cookies=cookies) as v:
        run = await v.run("points_numeriques")
        assert not run.errors, run.errors
        box, _ = v.find("selectbox", label="Fiche détaillée")
        return list(box.options), v.upstream


async def _finder_cards(base: str, place: dict) -> str:
    """The Trouver page's result cards from the place's own position."""
    from benchmarks.load_protocol import StreamlitSession

    async with StreamlitSession(base, timeout=180) as v:
        run = await v.run("trouver", f"at={place['lon']:.6f},{place['lat']:.6f}")
        assert not run.errors, run.errors
        return " ".join(t for t in v.texts() if "trouver-card" in t)


async def _rename(base: str, account: tuple[str, str], place: dict, new_name: str,
                  cookies: dict | None = None) -> str:
    """Sign in on ``base``'s Points numériques, choose ``place``, save it under ``new_name``
    (the page's own form); returns the replica that answered (``X-Upstream``)."""
    from benchmarks.load_protocol import StreamlitSession

    async with StreamlitSession(base, timeout=180, cookies=cookies) as v:
        run = await v.run("points_numeriques")
        assert not run.errors, run.errors
        name, _ = v.find("text_input", label="Compte")
        password, _ = v.find("text_input", label="Mot de passe")
        submit, _ = v.find("button", label="Se connecter")
        run = await v.run(widgets=[v.state(name.id, string_value=account[0]),
                                   v.state(password.id, string_value=account[1]),
                                   v.state(submit.id, trigger_value=True)])
        assert not run.errors, run.errors
        assert v.shows("Connecté"), v.texts()[:5]
        box, _ = v.find("selectbox", label="Fiche détaillée")
        option = next(o for o in box.options if o == f"{place['nom']} — {place['commune']}")
        run = await v.run(widgets=[v.state(box.id, string_value=option)])
        assert not run.errors, run.errors
        field, _ = v.find("text_input", label="Nom")
        save, _ = v.find("button", label="Enregistrer")
        run = await v.run(widgets=[v.state(field.id, string_value=new_name),
                                   v.state(save.id, trigger_value=True)])
        assert not run.errors, run.errors
        assert v.shows("Fiche enregistrée"), v.texts()[-5:]
        return v.upstream


@pytest.mark.slow
def test_an_edit_through_one_replica_shows_on_the_other_at_once(deployment: Deployment,
                                                                editor) -> None:
    s = deployment.settings
    place = _place(s)
    r1, r2 = deployment.replicas
    old = f"{place['nom']} — {place['commune']}"
    new_name = f"{place['nom']} (répliques {secrets.token_hex(3)})"
    # replica 2 has the registry and the finder cached before the edit
    assert old in _run(_options(r2))[0]
    assert html.escape(place["nom"]) in _run(_finder_cards(r2, place))

    _run(_rename(r1, editor, place, new_name))
    saved_at = time.monotonic()
    assert _stored_name(s, place["id"]) == new_name

    options, _ = _run(_options(r2))  # the very next run on replica 2: no stale copy
    seen_after = time.monotonic() - saved_at
    assert f"{new_name} — {place['commune']}" in options and old not in options
    cards = _run(_finder_cards(r2, place))
    assert html.escape(new_name) in cards
    print(f"\nréplique 2 : modification vue {seen_after:.2f} s après l'enregistrement "
          "sur la réplique 1 (premier chargement qui suit)")


@pytest.mark.slow
def test_a_visitor_keeps_its_replica(deployment: Deployment) -> None:
    from benchmarks.load_protocol import StreamlitSession, http_get, set_cookies

    replicas = {u.removeprefix("http://") for u in deployment.replicas}

    async def check() -> None:
        status, headers = await http_get(deployment.proxy, "/")
        assert status == 200
        cookies = {"maillage_replica": set_cookies(headers)["maillage_replica"]}
        first = headers["x-upstream"][0]
        assert first in replicas
        for _ in range(6):  # the same cookie: always the same replica, no new cookie
            _, again = await http_get(deployment.proxy, "/_stcore/health", cookies)
            assert again["x-upstream"] == [first]
            assert "maillage_replica" not in set_cookies(again)
        async with StreamlitSession(deployment.proxy, timeout=180, cookies=cookies) as v:
            assert v.ws_upstream == first  # the websocket too (the Streamlit session's home)
            for _ in range(2):
                run = await v.run("")
                assert not run.errors, run.errors
        # new visitors (no cookie) are spread over both replicas
        spread = set()
        for _ in range(24):
            _, h = await http_get(deployment.proxy, "/_stcore/health")
            spread.add(h["x-upstream"][0])
        assert spread == replicas

    _run(check())


@pytest.mark.slow
def test_a_sign_in_cookie_set_through_the_proxy_holds_on_every_replica(
        deployment: Deployment, editor) -> None:
    """The cookie routes of ``server.py`` answer through nginx, and the session lives in the
    shared database: with the cookie, a reload on either replica finds the editor."""
    from benchmarks.load_protocol import StreamlitSession, http_get, set_cookies
    from maillage import sessions
    from ui import session_routes

    s = deployment.settings

    async def check() -> None:
        status, headers = await http_get(deployment.proxy, "/")
        assert status == 200
        jar = set_cookies(headers)  # the proxy's replica cookie and the replica's binding one
        binding = jar[sessions.BINDING_COOKIE]
        # what the page does after « Se connecter »: a session, then a ticket for this browser
        started = sessions.start(auth.sign_in(*editor, s), s)
        ticket = sessions.signin_handoff(started.token, binding, s)
        status, headers = await http_get(deployment.proxy,
                                         session_routes.signin_url(ticket, "/trouver"), jar)
        assert status == 303 and headers["location"] == ["/trouver"], (status, headers)
        line = next(v for v in headers["set-cookie"] if v.startswith(f"{sessions.COOKIE}="))
        flags = {f.strip().lower() for f in line.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= flags, line
        token = set_cookies(headers)[sessions.COOKIE]
        assert sessions.resolve(token, s) == auth.Actor(editor[0], "federation")
        for replica in deployment.replicas:  # a reload, wherever it lands
            async with StreamlitSession(replica, timeout=180,
                                        cookies={sessions.COOKIE: token}) as v:
                run = await v.run("")
                assert not run.errors, run.errors
                assert v.shows("Connecté"), (replica, v.texts()[:5])
        sessions.revoke(token, s)

    _run(check())


def _gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # killed, not yet reaped by its parent
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_a_replica_killed_loses_nothing_and_its_visitors_move(deployment: Deployment,
                                                              editor) -> None:
    from benchmarks.load_protocol import http_get, set_cookies

    s = deployment.settings
    first, second = (u.removeprefix("http://") for u in deployment.replicas)

    async def pinned_to_first() -> dict[str, str]:
        for _ in range(40):
            _, headers = await http_get(deployment.proxy, "/")
            if headers["x-upstream"] == [first]:
                return set_cookies(headers)
        raise AssertionError("aucun visiteur envoyé à la réplique 1 en 40 essais")

    cookies = _run(pinned_to_first())
    place = _place(s)
    new_name = f"{place['nom']} (avant SIGKILL {secrets.token_hex(3)})"
    assert _run(_rename(deployment.proxy, editor, place, new_name, cookies)) == first

    os.kill(deployment.pids[0], signal.SIGKILL)
    assert _gone(deployment.pids[0])
    assert _stored_name(s, place["id"]) == new_name  # saved means in PostgreSQL

    async def after_the_kill() -> None:
        # the visitor of replica 1 goes on with replica 2 and sees what it saved
        options, upstream = await _options(deployment.proxy, cookies)
        assert upstream.split(", ")[-1] == second
        assert f"{new_name} — {place['commune']}" in options
        for _ in range(6):  # and so does every new visitor
            status, headers = await http_get(deployment.proxy, "/")
            assert status == 200 and headers["x-upstream"][0].split(", ")[-1] == second

    _run(after_the_kill())
