"""Walking on the main roads: only the motorway is forbidden (mirror rule, OSM foot tags)."""

from __future__ import annotations

import numpy as np
import pytest

from geo import graphs, roads
from maillage import settings as settings_mod


def _mirror_ways(rows):
    """(classes, names, node ids, offsets) of ways given as (class, name, [vertex ids])."""
    classes = np.array([r[0] for r in rows])
    names = np.array([r[1] for r in rows])
    nodes = np.concatenate([r[2] for r in rows]).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(r[2]) for r in rows])]).astype(np.int64)
    return classes, names, nodes, offsets


def test_mirror_forbids_the_motorway_and_its_unnamed_links_only() -> None:
    rows = [
        ("highway", "L'Autoroute", [1, 2, 3]),         # 0 the motorway
        ("highway", "", [3, 4]),                        # 1 unnamed, joined to it
        ("highway", "", [4, 5]),                        # 2 unnamed, joined through 1
        ("highway", "Route Nationale 5", [5, 6]),       # 3 named trunk after the link
        ("highway", "", [6, 7]),                        # 4 unnamed, joined to the trunk only
        ("highway", "Boulevard Patrice Lumumba", [8, 9]),  # 5 named trunk elsewhere
        ("minor", "", [2, 10]),                         # 6 a street under the motorway
        ("major", "Route de Case-Pilote", [9, 11]),     # 7
    ]
    walk = roads.mirror_walkable(*_mirror_ways(rows))
    assert walk.tolist() == [False, False, False, True, True, True, True, True]


def test_mirror_without_a_motorway_walks_everything() -> None:
    rows = [("highway", "", [1, 2]), ("major", "Rue X", [2, 3])]
    assert roads.mirror_walkable(*_mirror_ways(rows)).all()


@pytest.mark.parametrize(("tags", "walked"), [
    ({"highway": "motorway"}, False),
    ({"highway": "motorway_link"}, False),
    ({"highway": "motorway", "foot": "yes"}, True),
    ({"highway": "motorway", "sidewalk": "both"}, True),
    ({"highway": "motorway", "sidewalk:right": "yes"}, True),
    ({"highway": "trunk"}, True),
    ({"highway": "trunk", "foot": "no"}, False),
    ({"highway": "trunk", "foot": "use_sidepath"}, False),
    ({"highway": "trunk", "sidewalk": "both", "foot": "no"}, False),
    ({"highway": "residential", "access": "private"}, False),
    ({"highway": "residential", "access": "private", "foot": "designated"}, True),
    ({"highway": "footway"}, True),
    ({"highway": "primary", "sidewalk": "separate"}, True),
])
def test_osm_foot_and_sidewalk_tags_decide_walking(tags, walked) -> None:
    assert roads._access(tags)[1] is walked


def test_walk_graph_key_follows_the_walking_rules(monkeypatch) -> None:
    speeds = settings_mod.DRIVE_SPEEDS_KMH
    walk = graphs.cache_key("0" * 64, "walk", speeds, 4.5)
    drive = graphs.cache_key("0" * 64, "drive", speeds, 4.5)
    monkeypatch.setattr(roads, "WALK_RULES", roads.WALK_RULES + 1)
    assert graphs.cache_key("0" * 64, "walk", speeds, 4.5) != walk
    assert graphs.cache_key("0" * 64, "drive", speeds, 4.5) == drive


def test_real_mirror_walks_the_national_roads_but_not_the_motorway(real_settings) -> None:
    ways = roads.load(real_settings)
    assert ways.source == "mirror"
    import gzip
    import json

    from geo import fetch

    with gzip.open(fetch.resolve("roads_mirror", real_settings).path, "rt",
                   encoding="utf-8") as fh:
        names = [f["properties"].get("name") or "" for f in json.load(fh)["features"]
                 if len(f["geometry"]["coordinates"]) >= 2]
    names = np.array(names)
    for name in ("Route Nationale 5", "Boulevard Patrice Lumumba"):
        assert ways.walk[names == name].all()
    assert not ways.walk[names == "L'Autoroute"].any()
    fast = ways.highway == "highway"
    assert ways.walk[fast].any() and not ways.walk[fast].all()
    assert ways.walk[~fast].all()  # the other classes are all walked, as before
