"""The isochrone service: one answer for the CLI and the page; GeoJSON out is RFC 7946."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo import geojson
from maillage.errors import MaillageError
from maillage.services.isochrones import IsochroneRequest, IsochroneService

MAILLAGE = Path(sys.executable).with_name("maillage")
START = "-61.0733,14.6036"  # Fort-de-France, near the town hall


@pytest.fixture(scope="module")
def service(real_settings) -> IsochroneService:
    return IsochroneService.load(real_settings)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "minutes"), [("walk", "5,10,15"), ("drive", "10,20")])
def test_cli_json_is_the_service_result(service, real_settings, tmp_path: Path,
                                        mode: str, minutes: str) -> None:
    out = tmp_path / "iso.geojson"
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(real_settings.data_dir)}
    proc = subprocess.run([str(MAILLAGE), "isochrone", "--at", START, "--minutes", minutes,
                           "--mode", mode, "--out", str(out), "--json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)
    result = service.run(IsochroneRequest.from_text([START], minutes, mode))
    assert cli["bands"] == result.to_json()["bands"]
    assert cli["mode"] == mode
    text = out.read_text(encoding="utf-8")
    assert geojson.check(text) == []  # RFC 7946: orientation and 6 decimals
    assert text == geojson.dumps(result.frame())


def test_requests_are_checked_once_in_french() -> None:
    with pytest.raises(MaillageError, match="Mode de déplacement inconnu"):
        IsochroneRequest(((-61.07, 14.6),), (5.0,), "vélo").validated()
    with pytest.raises(MaillageError, match="Martinique"):
        IsochroneRequest(((2.35, 48.85),), (5.0,), "walk").validated()
    with pytest.raises(MaillageError, match="180"):
        IsochroneRequest(((-61.07, 14.6),), (500.0,), "walk").validated()
    req = IsochroneRequest(((-61.07, 14.6),), (15.0, 5.0, 5.0), "walk").validated()
    assert req.minutes == (5.0, 15.0)
