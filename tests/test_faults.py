"""Faults are handled, never shown raw (issue #13).

Unreadable caches are rebuilt with a French warning, a store file that vanished or was
replaced is refused in French, and pages never download a missing source.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import urllib.request
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from analysis import graph as graph_mod
from geo import cache, communes, fetch, graphs, population, prepare, roads
from geo.errors import DataError
from maillage import auth, db
from maillage import settings as settings_mod
from maillage.db import backup
from maillage.registry import store
from tests.registry_fixtures import row, settings_with_db

ROOT = Path(__file__).resolve().parents[1]
FED = auth.Actor("fede", "federation")
REBUILT = r"Cache illisible \(.*\) : reconstruction\."

# --------------------------------------------------------------------------- helpers

#: A tiny road network near Fort-de-France: a triangle with a tail (OSM XML, then PBF).
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="maillage-tests">
{nodes}
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="2" version="1"><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="primary"/></way>
  <way id="3" version="1"><nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="tertiary"/><tag k="oneway" v="yes"/></way>
  <way id="4" version="1"><nd ref="4"/><nd ref="5"/>
    <tag k="highway" v="footway"/></way>
</osm>
"""
NODES = {1: (0, 0), 2: (0.004, 0), 3: (0.004, 0.003), 4: (0, 0.003), 5: (0.001, 0.005)}


def _tiny_roads(s) -> Path:
    """Write the tiny network as the official extract of ``s`` (preferred over the mirror)."""
    import osmium

    xml = s.data_dir / "tiny.osm"
    xml.parent.mkdir(parents=True, exist_ok=True)
    nodes = "\n".join(
        f'  <node id="{i}" version="1" lat="{14.6 + dlat:.7f}" lon="{-61.07 + dlon:.7f}"/>'
        for i, (dlon, dlat) in NODES.items())
    xml.write_text(OSM_XML.format(nodes=nodes), encoding="utf-8")
    pbf = roads.pbf_path(s)
    pbf.parent.mkdir(parents=True, exist_ok=True)
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
    return pbf


def _fresh(s, mode: str) -> graph_mod.Graph:
    """The graph built straight from the roads, with no cache involved."""
    return graph_mod.build(roads.load(s), mode, settings_mod.DRIVE_SPEEDS_KMH, s.walk_kmh)


def _assert_same_graph(g: graph_mod.Graph, h: graph_mod.Graph) -> None:
    assert g.mode == h.mode and g.meta == h.meta
    assert (g.n_nodes, g.n_edges) == (h.n_nodes, h.n_edges)
    for name in graph_mod.ARRAYS:
        np.testing.assert_array_equal(getattr(g, name), getattr(h, name), err_msg=name)


def _fake_sidecar(path: Path, data: bytes, version) -> None:
    """A sidecar that vouches for ``data`` (to reach the loader's own errors)."""
    cache.sidecar(path).write_text(json.dumps({
        "version": version, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}))


def _damage(path: Path, how: str, version) -> None:
    data = path.read_bytes()
    if how == "tronqué":
        path.write_bytes(data[: len(data) // 2])
    elif how == "déchets":
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    elif how == "tronqué, fiche à jour":  # the checksum passes; the zip reader fails
        path.write_bytes(data[: len(data) // 2])
        _fake_sidecar(path, data[: len(data) // 2], version)
    elif how == "déchets, fiche à jour":
        junk = b"ceci n'est pas un fichier npz" * 10
        path.write_bytes(junk)
        _fake_sidecar(path, junk, version)
    elif how == "npz étranger, fiche à jour":  # a valid npz without the graph's arrays
        import io

        buf = io.BytesIO()
        np.savez(buf, mode=np.array("drive"))
        path.write_bytes(buf.getvalue())
        _fake_sidecar(path, buf.getvalue(), version)
    elif how == "mauvaise version":
        meta = json.loads(cache.sidecar(path).read_text())
        meta["version"] = -1
        cache.sidecar(path).write_text(json.dumps(meta))
    elif how == "sans fiche":  # a cache written before the sidecars existed
        cache.sidecar(path).unlink()
    elif how == "vide":
        path.write_bytes(b"")
    else:
        raise AssertionError(how)


@pytest.fixture()
def no_rebuild_warning():
    """Inside the block, a cache rebuild fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.CacheRebuilt)
        yield


# --------------------------------------------------------------------------- geo.cache


def test_cache_round_trip_and_absent_cache_is_silent(tmp_path, no_rebuild_warning) -> None:
    path = tmp_path / "c" / "x.bin"
    assert cache.read(path, bytes, 1) is None  # absent: a first build, no warning
    cache.write(path, b"bonjour", 1)
    assert cache.read(path, bytes, 1) == b"bonjour"
    assert cache.valid(path, 1) and not cache.valid(path, 2)
    cache.write(path, lambda tmp: tmp.write_bytes(b"au revoir"), 1)  # a writer callable
    assert cache.read(path, bytes, 1) == b"au revoir"
    # nothing but the file and its sidecar is left (temporary files are gone)
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.bin", "x.bin.cache.json"]


def test_a_failed_writer_leaves_the_old_cache_intact(tmp_path) -> None:
    path = tmp_path / "x.bin"
    cache.write(path, b"ancien", 1)

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"moi")
        raise RuntimeError("plantage au milieu")

    with pytest.raises(RuntimeError):
        cache.write(path, broken, 1)
    assert cache.read(path, bytes, 1) == b"ancien"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin", "x.bin.cache.json"]


# --------------------------------------------------------------------------- road graphs


@pytest.mark.parametrize("how", ["tronqué", "déchets", "tronqué, fiche à jour",
                                 "déchets, fiche à jour", "npz étranger, fiche à jour",
                                 "mauvaise version", "sans fiche", "vide"])
def test_unreadable_graph_cache_is_rebuilt_with_a_french_warning(tmp_settings, how) -> None:
    _tiny_roads(tmp_settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.CacheRebuilt)
        first = graphs.load("drive", tmp_settings)
    path = graphs.path_for("drive", tmp_settings)
    assert cache.valid(path, graph_mod.FORMAT_VERSION)
    _damage(path, how, graph_mod.FORMAT_VERSION)
    # a matching sidecar passes the checksum: then the npz reader itself must fail safely
    assert cache.valid(path, graph_mod.FORMAT_VERSION) == how.endswith("fiche à jour")

    with pytest.warns(cache.CacheRebuilt, match=REBUILT) as caught, cache.notices() as notes:
        rebuilt = graphs.load("drive", tmp_settings)
    message = str(caught[0].message)
    assert "graphe voiture" in message and path.name in message
    assert notes == [message]  # what a page shows

    fresh = _fresh(tmp_settings, "drive")
    _assert_same_graph(rebuilt, fresh)
    _assert_same_graph(first, fresh)
    assert cache.valid(path, graph_mod.FORMAT_VERSION)  # written again, checked
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.CacheRebuilt)
        _assert_same_graph(graphs.load("drive", tmp_settings), fresh)


def test_the_rebuilt_walk_graph_is_the_fresh_one_too(tmp_settings) -> None:
    _tiny_roads(tmp_settings)
    graphs.load("walk", tmp_settings)
    path = graphs.path_for("walk", tmp_settings)
    _damage(path, "tronqué", graph_mod.FORMAT_VERSION)
    with pytest.warns(cache.CacheRebuilt, match=r"graphe à pied"):
        rebuilt = graphs.load("walk", tmp_settings)
    _assert_same_graph(rebuilt, _fresh(tmp_settings, "walk"))


def test_an_unknown_mode_is_refused_before_any_file_is_touched(tmp_settings) -> None:
    with pytest.raises(graph_mod.ModeError, match="Mode de déplacement inconnu"):
        graphs.load("vélo", tmp_settings)
    assert not tmp_settings.build_dir.exists()


def test_analysis_modules_open_no_files() -> None:
    """analysis/ is pure computation: no file, settings or download access left in it."""
    import re

    pattern = re.compile(r"\bopen\(|read_(text|bytes|file|csv|parquet)|Path\(|\bfetch\b|"
                         r"settings_mod|settings\.get|np\.(save|load)|to_file|to_parquet")
    hits = []
    for path in sorted((ROOT / "analysis").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and "os.devnull" not in code:
                hits.append(f"{path.name}:{n}: {line.strip()}")
    assert hits == []


# --------------------------------------------------------------------------- layers


@pytest.mark.parametrize("how", ["tronqué", "déchets, fiche à jour", "sans fiche"])
def test_unreadable_commune_layer_is_rebuilt(tmp_settings, how) -> None:
    communes.load(tmp_settings)
    before = communes.load(tmp_settings)  # read back from the cache
    path = communes.layer_path(tmp_settings)
    _damage(path, how, communes.LAYER_VERSION)
    with pytest.warns(cache.CacheRebuilt, match=r"couche des communes"):
        rebuilt = communes.load(tmp_settings)
    assert cache.valid(path, communes.LAYER_VERSION)
    again = communes.load(tmp_settings)
    for frame in (rebuilt, again):
        assert list(frame.columns) == communes.COLUMNS
        assert frame["code_insee"].tolist() == before["code_insee"].tolist()
        assert frame["population"].tolist() == before["population"].tolist()
        assert frame.geometry.geom_equals_exact(before.geometry, tolerance=1e-7).all()


@pytest.mark.parametrize("how", ["déchets", "tronqué, fiche à jour"])
def test_unreadable_grid_is_rebuilt(tmp_settings, how) -> None:
    before = population.load_grid(tmp_settings)
    path = population.grid_path(tmp_settings)
    _damage(path, how, population.GRID_VERSION)
    with pytest.warns(cache.CacheRebuilt, match=r"carreaux de 200 m"):
        rebuilt = population.load_grid(tmp_settings)
    assert cache.valid(path, population.GRID_VERSION)
    again = population.load_grid(tmp_settings)
    for frame in (rebuilt, again):
        assert len(frame) == len(before)
        assert frame["cell_id"].tolist() == before["cell_id"].tolist()
        np.testing.assert_allclose(frame["population"], before["population"])


def test_garbage_layer_stamp_rebuilds_the_layers(tmp_settings) -> None:
    lines: list[str] = []
    prepare.build_layers(tmp_settings, lines.append)
    stamp = tmp_settings.build_dir / "layers.stamp"
    stamp.write_bytes(b"\xff\xfe\x00 pas du texte")
    lines.clear()
    with pytest.warns(cache.CacheRebuilt, match=r"empreinte des couches"):
        prepare.build_layers(tmp_settings, lines.append)
    assert any(line.startswith("Communes : 34 communes") for line in lines)
    lines.clear()
    prepare.build_layers(tmp_settings, lines.append)
    assert lines == ["Communes et carreaux de 200 m : déjà à jour"]
    # a damaged layer is not « à jour » even when the stamp is
    _damage(population.grid_path(tmp_settings), "tronqué", population.GRID_VERSION)
    lines.clear()
    prepare.build_layers(tmp_settings, lines.append)
    assert any(line.startswith("Carreaux de 200 m :") for line in lines)


# --------------------------------------------------------------------------- the store


@pytest.fixture()
def s(real_settings, tmp_path):
    settings = settings_with_db(real_settings, tmp_path)
    db.migrate(settings)
    store.save_place(FED, row(), None, settings)
    yield settings
    db.dispose_all()


def _db_path(s) -> Path:
    return Path(db.engine(s).url.database)


def _ids(s) -> set[str]:
    return {r["id"] for r in store.rows(s)}


GONE = "a disparu ou a été remplacée pendant que le serveur tournait"


def test_a_removed_database_refuses_writes_and_reads_and_loses_nothing(s, tmp_path) -> None:
    path = _db_path(s)
    aside = tmp_path / "mis-de-cote.db"
    os.replace(path, aside)  # the file disappears while the engine is open
    with pytest.raises(db.StoreGone) as err, db.write_session(s) as session:
        session.execute(text("UPDATE places SET nom = 'Perdu' WHERE id = 'test-1'"))
    message = str(err.value)
    assert GONE in message and "enregistrement refusé, rien n'a été écrit" in message
    assert "Redémarrez le serveur" in message and "maillage restore" in message
    assert path.name in message
    with pytest.raises(db.StoreGone, match=GONE):
        store.save_place(FED, row(id="test-2", nom="Deuxième"), None, s)
    with pytest.raises(db.StoreGone, match="lecture refusée"):
        store.rows(s)
    assert not path.exists()  # no empty store was silently created in its place
    os.replace(aside, path)  # the same file is back: nothing was lost, nothing half-written
    assert _ids(s) == {"test-1"}
    assert store.rows(s)[0]["nom"] == row()["nom"]
    assert store.save_place(FED, row(id="test-2", nom="Deuxième"), None, s) == 1
    assert _ids(s) == {"test-1", "test-2"}


def test_a_database_removed_during_a_write_is_not_committed(s, tmp_path) -> None:
    path = _db_path(s)
    aside = tmp_path / "mis-de-cote.db"
    with pytest.raises(db.StoreGone, match="rien n'a été écrit"), \
            db.write_session(s) as session:
        session.execute(text("UPDATE places SET nom = 'Perdu' WHERE id = 'test-1'"))
        os.replace(path, aside)  # gone after the write, before the commit
    os.replace(aside, path)
    assert store.rows(s)[0]["nom"] == row()["nom"]


def test_a_replaced_database_is_refused_and_restore_brings_it_back(s, tmp_path) -> None:
    path = _db_path(s)
    saved = tmp_path / "sauvegarde.db"
    backup.backup(saved, s)
    store.save_place(FED, row(id="apres", nom="Après la sauvegarde"), None, s)
    other = tmp_path / "autre.db"
    shutil.copyfile(saved, other)
    with sqlite3.connect(other) as conn:
        conn.execute("DELETE FROM label_events")
        conn.execute("DELETE FROM places")
    os.replace(other, path)  # another (valid, empty) store moved over the live one
    files = [Path(f"{path}{extra}") for extra in ("", "-wal", "-shm", "-journal")]
    before = {p.name: p.read_bytes() if p.exists() else None for p in files}
    with pytest.raises(db.StoreGone, match="enregistrement refusé"):
        store.save_place(FED, row(id="test-3", nom="Troisième"), None, s)
    with pytest.raises(db.StoreGone, match="lecture refusée"):
        store.rows(s)
    with pytest.raises(db.StoreGone, match="sauvegarde refusée"):
        backup.backup(tmp_path / "copie.db", s)
    # nothing reached the file that replaced the store (nor its journals)
    assert {p.name: p.read_bytes() if p.exists() else None for p in files} == before
    result = backup.restore(saved, s)  # the documented way back
    assert result["backend"] == "sqlite"
    assert _ids(s) == {"test-1"}
    assert store.save_place(FED, row(id="test-3", nom="Troisième"), None, s) == 1
    assert _ids(s) == {"test-1", "test-3"}


def test_restore_recreates_a_deleted_database(s, tmp_path) -> None:
    path = _db_path(s)
    saved = tmp_path / "sauvegarde.db"
    backup.backup(saved, s)
    for extra in ("", "-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    with pytest.raises(db.StoreGone):
        store.save_place(FED, row(id="test-2"), None, s)
    assert not path.exists()
    backup.restore(saved, s)
    assert _ids(s) == {"test-1"}
    assert store.save_place(FED, row(id="test-2", nom="Deuxième"), None, s) == 1


# --------------------------------------------------------------------------- no downloads


class Downloaded(BaseException):
    """A download was attempted (BaseException: no ``except Exception`` swallows it)."""


@pytest.fixture()
def no_network(monkeypatch) -> list[str]:
    """Any download or network access is recorded and aborted."""
    calls: list[str] = []

    def refuse(*args, **kwargs):
        calls.append(str(args[:1]))
        raise Downloaded(f"téléchargement tenté : {args[:1]}")

    monkeypatch.setattr(fetch, "download", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


@pytest.fixture()
def offline(tmp_settings, no_network):
    """No mirror, an empty download cache, no network."""
    return replace(tmp_settings, data_mirror=None), no_network


def test_page_mode_never_downloads_and_says_what_to_run(offline) -> None:
    s, calls = offline
    title = fetch.catalog.get("schema").title
    with pytest.raises(DataError) as err:
        fetch.resolve("schema", s, allow_download=False)
    assert str(err.value) == (
        f"Données « {title} » absentes. Lancez `maillage data` (avec le miroir ../shared/data "
        "ou une connexion Internet) puis rechargez la page.")
    with fetch.page_mode(), pytest.raises(DataError, match=r"Lancez `maillage data`"):
        fetch.resolve("schema", s)
    with fetch.page_mode(), pytest.raises(DataError, match=r"rechargez la page"):
        communes.load(s)  # a layer built from sources during a page view
    assert calls == []
    assert fetch.downloads_allowed()  # the mode ends with its block


def test_a_thread_serving_a_page_never_downloads(offline, monkeypatch) -> None:
    """``ui`` registers a probe (Streamlit's script threads): callbacks and fragments count."""
    s, calls = offline
    serving = {"now": True}
    monkeypatch.setattr(fetch, "_PAGE_PROBES", [])
    fetch.register_page_probe(lambda: serving["now"])
    with pytest.raises(DataError, match=r"Lancez `maillage data`"):
        fetch.resolve("typologies", s)
    serving["now"] = False
    with pytest.raises(Downloaded):
        fetch.resolve("typologies", s)
    assert len(calls) == 1


def test_ui_registers_the_streamlit_probe() -> None:
    import ui

    assert ui._in_page in fetch._PAGE_PROBES
    assert ui._in_page() is False  # the test thread serves no page


def test_outside_page_mode_the_data_step_still_downloads(offline) -> None:
    s, calls = offline
    with pytest.raises(Downloaded):
        fetch.resolve("schema", s)
    assert len(calls) == 1


# --------------------------------------------------------------------------- pages


@pytest.fixture()
def page_env(monkeypatch):
    def use(data_dir: Path, mirror: str | None = None) -> None:
        monkeypatch.setenv("MAILLAGE_DATA_DIR", str(data_dir))
        if mirror is not None:
            monkeypatch.setenv("MAILLAGE_DATA_MIRROR", mirror)
        settings_mod.get.cache_clear()
        from ui import trouver

        trouver.finder.clear()  # shared by every AppTest of this process

    yield use
    settings_mod.get.cache_clear()
    from ui import trouver

    trouver.finder.clear()


def _run_trouver():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/trouver.py")
    at.run()
    return at


def test_trouver_page_with_a_truncated_graph_cache(prepared_data_dir, tmp_path, page_env):
    data_dir = tmp_path / "data"
    shutil.copytree(prepared_data_dir, data_dir)
    npz = next((data_dir / "build" / "graphs").glob("drive-*.npz"))
    _damage(npz, "tronqué", graph_mod.FORMAT_VERSION)
    page_env(data_dir)
    with pytest.warns(cache.CacheRebuilt, match=r"graphe voiture"):
        at = _run_trouver()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error]
    assert at.title and at.title[0].value == "Trouver un point numérique"
    toasts = [t.value for t in at.toast]
    assert any("Cache illisible (graphe voiture" in t and "reconstruction" in t for t in toasts)
    assert cache.valid(npz, graph_mod.FORMAT_VERSION)  # rebuilt in place


def test_trouver_page_without_data_or_mirror_shows_what_to_run(tmp_path, page_env,
                                                               no_network) -> None:
    page_env(tmp_path / "vide", mirror="")
    at = _run_trouver()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value.replace("\\", "") for e in at.error]  # markdown escapes removed
    assert errors and all("Lancez `maillage data`" in e and "rechargez la page" in e
                          for e in errors), errors
    assert no_network == []
