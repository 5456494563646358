"""The data step: mirror first, sha256 checked, download from a loopback server otherwise."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace

import pytest

from geo import catalog, fetch
from geo.catalog import Dataset
from geo.errors import DataError


def _fake(monkeypatch: pytest.MonkeyPatch, ds: Dataset) -> Dataset:
    """Register ``ds`` in the catalogue for the duration of a test."""
    monkeypatch.setitem(catalog._BY_NAME, ds.name, ds)
    return ds


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_mirror_file_matches_the_catalogue(tmp_settings, mirror) -> None:
    for ds in catalog.DATASETS:
        found = fetch.resolve(ds.name, tmp_settings)
        assert found.origin == "miroir"
        assert found.sha256 == fetch.sha256_of(mirror / ds.path)


def test_corrupt_mirror_file_is_refused_in_french(tmp_path, tmp_settings, monkeypatch) -> None:
    good = b'{"type": "FeatureCollection", "features": []}'
    ds = _fake(monkeypatch, Dataset(
        name="t_geo", title="Contours d'essai", path="admin/t.geojson", sha256=_sha(good),
        licence="LO", attribution="test", vintage="2026", upstream="http://127.0.0.1:9/x",
    ))
    mirror = tmp_path / "mirror"
    (mirror / "admin").mkdir(parents=True)
    (mirror / ds.path).write_bytes(good + b" ")  # one byte off
    s = replace(tmp_settings, data_mirror=mirror)
    with pytest.raises(DataError) as err:
        fetch.resolve(ds.name, s)
    message = str(err.value)
    assert "Contours d'essai" in message
    assert "corrompu" in message
    assert "MAILLAGE_DATA_MIRROR" in message


def test_download_checks_hash_and_caches(server, tmp_settings, monkeypatch) -> None:
    base, www = server
    content = b"code,nom\n97209,Fort-de-France\n"
    (www / "communes.csv").write_bytes(content)
    ds = _fake(monkeypatch, Dataset(
        name="t_direct", title="Communes d'essai", path="admin/t.csv", sha256=_sha(content),
        licence="LO", attribution="test", vintage="2026", upstream=f"{base}/communes.csv",
    ))
    s = replace(tmp_settings, data_mirror=None)
    seen: list[int] = []
    first = fetch.resolve(ds.name, s, progress=lambda done, total: seen.append(done))
    assert first.origin == "téléchargement"
    assert first.path.read_bytes() == content
    assert seen and seen[-1] == len(content)
    (www / "communes.csv").unlink()  # the cache now answers without the server
    second = fetch.resolve(ds.name, s)
    assert second.origin == "cache"
    assert second.path == first.path
    assert fetch.read_manifest(s)[ds.name]["sha256"] == _sha(content)


def test_download_with_wrong_hash_is_not_kept(server, tmp_settings, monkeypatch) -> None:
    base, www = server
    (www / "f.csv").write_bytes(b"a,b\n1,2\n")
    ds = _fake(monkeypatch, Dataset(
        name="t_bad", title="Fichier modifié", path="x/f.csv", sha256=_sha(b"other"),
        licence="LO", attribution="test", vintage="2026", upstream=f"{base}/f.csv",
    ))
    s = replace(tmp_settings, data_mirror=None)
    with pytest.raises(DataError, match="ne correspond pas"):
        fetch.resolve(ds.name, s)
    assert not (s.cache_dir / ds.path).exists()


def test_extract_download_applies_the_mirror_filter(server, tmp_settings, monkeypatch,
                                                    mirror) -> None:
    """The national France services file, filtered to 972, equals the mirrored extract."""
    base, www = server
    extract = (mirror / catalog.get("france_services").path).read_bytes()
    rows = list(csv.reader(io.StringIO(extract.decode())))
    other = rows[1][:]
    other[rows[0].index("insee_dep")] = "971"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(other)
    national = extract + buf.getvalue().encode()  # a row of another département
    (www / "fs.csv").write_bytes(national)
    ds = _fake(monkeypatch, replace(catalog.get("france_services"), name="t_fs",
                                    upstream=f"{base}/fs.csv"))
    s = replace(tmp_settings, data_mirror=None)
    got = fetch.resolve(ds.name, s)
    assert got.path.read_bytes() == extract


def test_json_extract_keeps_matching_records() -> None:
    records = [{"code_postal": "97200", "n": 1}, {"code_postal": "75001", "n": 2}]
    out = json.loads(fetch.filter_json_records(json.dumps(records).encode(), "code_postal",
                                               ("972",)))
    assert out == [records[0]]


def test_unreachable_upstream_gives_french_message(tmp_settings, monkeypatch) -> None:
    ds = _fake(monkeypatch, Dataset(
        name="t_down", title="Source injoignable", path="x/y.csv", sha256="0" * 64,
        licence="LO", attribution="t", vintage="t", upstream="http://127.0.0.1:9/none.csv",
    ))
    s = replace(tmp_settings, data_mirror=None, http_timeout=2)
    with pytest.raises(DataError, match="Impossible de télécharger « Source injoignable »"):
        fetch.resolve(ds.name, s)


def test_offline_without_mirror_or_cache_says_what_to_do(tmp_settings) -> None:
    s = replace(tmp_settings, data_mirror=None)
    with pytest.raises(DataError, match="maillage data"):
        fetch.resolve("filosofi", s, offline=True)
