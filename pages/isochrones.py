"""Isochrones: click on the map (or pick a town hall) to see the areas reached in N minutes."""

from __future__ import annotations

import streamlit as st

from analysis import isochrone
from geo import geojson, isochrone_layer
from maillage import fmt, settings
from maillage.errors import MaillageError
from maillage.services.isochrones import IsochroneRequest, IsochroneResult
from ui import isochrones as ui
from ui import maps, widgets

MODES = {"À pied": "walk", "En voiture": "drive"}
NO_HALL = "—"


def header() -> None:
    st.title("Isochrones")
    st.caption("Jusqu'où va-t-on en quelques minutes, à pied ou en voiture, par les routes ? "
               "Cliquez sur la carte ou choisissez une mairie.")


def _hall_changed() -> None:
    """A town hall picked in the list becomes the start point."""
    name = st.session_state.get("iso_hall", NO_HALL)
    if name != NO_HALL:
        halls = ui.town_halls()
        row = halls[halls["commune"] == name].iloc[0]
        st.session_state["origin"] = (float(row["lon"]), float(row["lat"]))


def take_click(clicked: dict | None) -> bool:
    """A new click on the map becomes the start point (and clears the town-hall choice);
    returns whether it was new."""
    if not clicked:
        return False
    point = (clicked["lng"], clicked["lat"])
    if point == st.session_state.get("clicked"):
        return False
    st.session_state["clicked"] = point
    st.session_state["origin"] = point
    # the town-hall selector is reset before it is drawn (at once when the click is read at
    # the top of the run, else at the top of the next one)
    st.session_state["iso_hall_reset"] = True
    return True


def inputs() -> tuple[str, str]:
    """Mode, thresholds and the town-hall shortcut."""
    if st.session_state.pop("iso_hall_reset", False):  # a map click replaced the town hall
        st.session_state["iso_hall"] = NO_HALL
    c1, c2, c3 = st.columns([1, 2, 2])
    mode = MODES[c1.radio("Mode", list(MODES), horizontal=False)]
    default = "5,10,15" if mode == "walk" else "10,20,30"
    minutes_text = c2.text_input("Seuils (minutes)", value=default, key=f"minutes_{mode}")
    c3.selectbox("Ou partir d'une mairie", [NO_HALL, *ui.town_halls()["commune"]],
                 key="iso_hall", on_change=_hall_changed)
    return mode, minutes_text


def compute(mode: str, minutes_text: str) -> IsochroneResult | None:
    """The bands around the start point, or None (no point yet, or a French error)."""
    origin = st.session_state.get("origin")
    if origin is None:
        return None
    try:
        request = IsochroneRequest((origin,), tuple(isochrone.parse_minutes(minutes_text)), mode)
        with st.spinner("Calcul des isochrones…"):
            return ui.run(request)
    except MaillageError as exc:
        widgets.error(exc)
        return None


def draw_map(result: IsochroneResult | None) -> None:
    """The map; a click moves the start point (and clears the town-hall choice).

    The map stays the same between start points: only its layers (bands, start) change,
    and they move the view onto the new bands."""
    origin = st.session_state.get("origin")
    m, layers = isochrone_layer.isochrone_map(None if result is None else result.bands,
                                              origin)
    out = maps.show(m, height=560, returned_objects=["last_clicked"], key="iso_map",
                    layers=layers)
    if take_click((out or {}).get("last_clicked")):  # not seen at the top of this run
        st.rerun(scope="fragment")
    if result is not None:
        widgets.swatches(ui.legend_items(result), title="Temps de trajet")


def results(result: IsochroneResult | None, mode: str) -> None:
    """The bands table, the method in a sentence and the GeoJSON download."""
    if result is None:
        if st.session_state.get("origin") is None:
            st.info("Cliquez sur la carte ou choisissez une mairie pour tracer les isochrones.")
        return
    st.dataframe(ui.bands_table(result), hide_index=True, width="stretch")
    s = settings.get()
    speeds = (f"à pied, {fmt.number(s.walk_kmh, 1)} km/h sur les voies ouvertes aux piétons"
              if mode == "walk" else
              "en voiture, la vitesse habituelle de chaque type de route (par exemple "
              f"{fmt.number(settings.DRIVE_SPEEDS_KMH['motorway'])} km/h sur l'autoroute, "
              f"{fmt.number(settings.DRIVE_SPEEDS_KMH['residential'])} km/h en ville), "
              "sans embouteillages")
    st.caption("Population : carreaux de 200 m (Insee) dont le centre est dans la bande. Zone "
               f"atteinte : routes parcourues à temps, élargies de "
               f"{fmt.number(isochrone.BUFFER_M[mode])} m. Vitesses : {speeds}.")
    st.download_button("Télécharger (GeoJSON)", geojson.dumps(result.frame()),
                       file_name=f"isochrones-{mode}.geojson", mime="application/geo+json",
                       on_click="ignore")


@st.fragment
def explorer() -> None:
    """Inputs, bands, map and table: everything a click or a choice changes, rerun alone
    (the title and the credits stay). A click on the map is read first, so its bands are
    drawn in the same run."""
    take_click(maps.value("iso_map").get("last_clicked"))
    mode, minutes_text = inputs()
    result = compute(mode, minutes_text)
    draw_map(result)
    results(result, mode)


def main() -> None:
    header()
    explorer()
    widgets.credits(["filosofi", "mairies", "communes_geo"])


main()
