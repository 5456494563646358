"""Shared fixtures: settings pointing at a temporary data folder, the real mirror when present."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from maillage import settings as settings_mod
from maillage.settings import Settings


@pytest.fixture()
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with a private data folder and the default mirror."""
    return replace(settings_mod.from_env(), data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local open-data mirror; tests on the real island need it."""
    path = settings_mod.from_env().data_mirror
    if path is None or not path.is_dir():
        pytest.fail("Miroir des données introuvable (réglez MAILLAGE_DATA_MIRROR).")
    return path


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Settings:
    """Settings on the real mirror with a session-wide private data folder."""
    data_dir = tmp_path_factory.mktemp("real-data")
    return replace(settings_mod.from_env(), data_mirror=mirror, data_dir=data_dir)
