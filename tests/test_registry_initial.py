"""Initial load from the real mirror: every input record is imported, merged or rejected."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from geo import fetch
from maillage import db
from maillage.registry import initial, standard, store
from maillage.settings import Settings
from tests.registry_fixtures import settings_with_db
from tests.test_registry_store import dump


@pytest.fixture(scope="module")
def load(real_settings: Settings) -> initial.Load:
    return initial.build(real_settings)


def _source_counts(s: Settings) -> dict[str, int]:
    fs = list(csv.DictReader(io.StringIO(fetch.text("france_services", s))))
    return {"france_services": len(fs),
            "cnfs_lieux": len(json.loads(fetch.text("cnfs_lieux", s))),
            "hub_antilles": len(json.loads(fetch.text("hub_antilles", s)))}


def test_every_record_is_imported_merged_or_rejected(load: initial.Load,
                                                     real_settings: Settings) -> None:
    assert load.n_input == sum(_source_counts(real_settings).values())
    assert load.n_imported + load.n_merged + load.n_rejected == load.n_input
    rejected = {(i.source, i.record_id) for i in load.issues if i.action == initial.REJECTED}
    merged = {(i.source, i.record_id) for i in load.issues if i.action == initial.MERGED}
    assert len(rejected) == load.n_rejected and len(merged) == load.n_merged
    assert not rejected & merged
    origins = {o for r in load.rows for o in standard.split(r["origin"])}
    assert len(origins) == load.n_imported + load.n_merged  # each kept record lands in one place
    assert not {f"{s}:{r}" for s, r in rejected} & origins


def test_rejections_are_the_records_that_cannot_be_placed(load: initial.Load,
                                                           real_settings: Settings) -> None:
    hub = json.loads(fetch.text("hub_antilles", real_settings))
    unplaceable = {r["id"] for r in hub if not r["latitude"] or not (
        14.36 <= float(r["latitude"]) <= 14.90 and -61.26 <= float(r["longitude"]) <= -60.78)}
    rejected = {i.record_id for i in load.issues if i.action == initial.REJECTED}
    assert rejected == unplaceable and len(rejected) >= 1
    assert all(i.reason for i in load.issues)


def test_hub_placeholder_siret_is_replaced_by_the_cnfs_one(load: initial.Load,
                                                           real_settings: Settings) -> None:
    cnfs = {r["id"]: r.get("pivot") for r in json.loads(fetch.text("cnfs_lieux", real_settings))}
    fixes = [i for i in load.issues if i.field == "pivot" and i.original == standard.PIVOT_UNKNOWN]
    assert fixes
    for fix in fixes:
        assert fix.kept == cnfs[fix.record_id.split("-")[0]]


def test_every_loaded_place_passes_the_import_rules(load: initial.Load) -> None:
    from maillage.registry import csvio

    ids = [r["id"] for r in load.rows]
    assert len(set(ids)) == len(ids)
    errors, _ = csvio.check_rows([{**r, "_line": str(k + 2)} for k, r in enumerate(load.rows)])
    assert errors == []


def test_the_load_is_stored_once_and_is_idempotent(load: initial.Load, real_settings: Settings,
                                                   tmp_path: Path) -> None:
    s = settings_with_db(real_settings, tmp_path)
    first = store.apply_initial(load, s)
    assert first["added"] == load.n_imported and not first["skipped"]
    before = dump(s)
    assert store.apply_initial(initial.build(s), s)["skipped"]
    assert dump(s) == before
    rep = store.report(s)
    assert len(rep["issues"]) == len(load.issues)
    assert rep["imported"] + rep["merged"] + rep["rejected"] == rep["input"]
    db.engine(s).dispose()
