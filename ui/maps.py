"""Show a folium map in a page: the one call pages use instead of ``st_folium``.

Every map is checked by :func:`geo.mapsafe.assert_inert` first, so a layer that let
raw text through fails loudly in the tests instead of running in a visitor's page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import folium
from streamlit_folium import st_folium

from geo import mapsafe


def show(m: folium.Map, *, key: str, height: int = 520,
         returned_objects: Iterable[str] = (), **kwargs: Any) -> dict[str, Any] | None:
    """Draw ``m`` full width; returns what ``st_folium`` returns for ``returned_objects``.

    ``width=None`` is the container's width: what streamlit-folium's deprecated-style
    ``use_container_width=True`` only sets, without the old keyword.
    """
    mapsafe.assert_inert(m)
    return st_folium(m, height=height, width=None, key=key,
                     returned_objects=list(returned_objects), **kwargs)
