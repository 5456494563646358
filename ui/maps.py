"""Show a folium map in a page: the one call pages use instead of ``st_folium``.

Every map is checked by :func:`geo.mapsafe.assert_inert` first (its base and every layer
group), so a layer that let raw text through fails loudly in the tests instead of
running in a visitor's page.

A map is a **base** (``geo.basemap.base_map()`` and what never changes on the page) and
**layer groups** (``layers``: what the request changes, built by ``geo/*_layer.py``).
streamlit-folium keeps the map of a ``key`` as long as its base is the same: a rerun that
changes only the groups redraws them in the same map (no reload of Leaflet, the visitor's
zoom and position kept), and a rerun that changes nothing sends a reference to the
message the browser already has instead of the map again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import folium
from streamlit_folium import st_folium

from geo import mapsafe


def show(m: folium.Map, *, key: str, height: int = 520,
         returned_objects: Iterable[str] = (), layers: Sequence[folium.FeatureGroup] = (),
         layer_control: bool = False, **kwargs: Any) -> dict[str, Any] | None:
    """Draw ``m`` full width with its layer groups; returns what ``st_folium`` returns for
    ``returned_objects`` (nothing else is sent back to the server).

    ``layer_control``: a (collapsed) control to show or hide the groups, by their names.
    ``width=None`` is the container's width: what streamlit-folium's deprecated-style
    ``use_container_width=True`` only sets, without the old keyword.
    """
    mapsafe.assert_inert(m)
    for group in layers:
        mapsafe.assert_inert(group)
    return st_folium(m, height=height, width=None, key=key,
                     returned_objects=list(returned_objects),
                     feature_group_to_add=list(layers),
                     layer_control=folium.LayerControl(collapsed=True) if layer_control
                     else None, **kwargs)


def value(key: str) -> dict[str, Any]:
    """What the map ``key`` last returned, readable at the top of a run, before the map is
    drawn (streamlit-folium copies the value into ``st.session_state[key]`` when it
    changes): a page can act on a click in the same run instead of drawing, then rerunning.
    """
    import streamlit as st

    out = st.session_state.get(key)
    return out if isinstance(out, dict) else {}
