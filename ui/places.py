"""Pieces of the Points numériques page: the registry loader, the map, the list and detail
tables, the place form, and the messages kept across the rerun that follows a save.

The filters are a :class:`maillage.services.places.PlacesQuery` answered by the places
service, as ``maillage places list`` answers them. Every write goes through the store,
which checks the role itself; this module only draws.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo import basemap, places_layer
from maillage import fmt, settings
from maillage.db.models import HOST_TYPES, KINDS, LABEL_STATUSES
from maillage.errors import MaillageError
from maillage.registry import geocoding, hours, location, standard, store
from maillage.services.places import NOT_LABELLED, PlacesQuery, PlacesResult, PlacesService
from ui import widgets

CREDITS = "Registre Maillage (Hub Antilles, ANCT France services, conseillers numériques)"
#: Session keys: the place chosen for the detail, messages kept for the next run, the
#: point clicked on the map and the raw click it came from, what the next run must do
#: before drawing (choose the place just created, empty the form it was typed in).
CHOSEN, FLASH, POINT, SEEN_CLICK, NEXT = ("pn_chosen", "pn_flash", "pn_point",
                                          "pn_seen_click", "pn_next")
#: What the page says of where a position comes from.
POSITION_LABELS = {
    "saisie": "saisie",
    "clic sur la carte": "approximative (clic sur la carte)",
    "adresse géocodée": "approximative (adresse géocodée)",
}
#: Multi-valued fields of the form, offered from the standard's closed vocabularies.
VOCAB_FIELDS = ("services", "publics_specifiquement_adresses", "modalites_acces",
                "modalites_accompagnement", "frais_a_charge")
#: Free-text fields of the form (the standard's titles are their labels).
TEXT_FIELDS = ("nom", "adresse", "complement_adresse", "code_postal", "telephone",
               "courriels", "site_web", "horaires")
NO_COMMUNE = "—"
LOCAL_TITLES = {
    "label_status": "Statut du label", "label_since": "Depuis le",
    "labelled_on": "Labellisé le", "kind": "Nature", "host_type": "Type d'accueil",
    "possible_stop": "Arrêt possible de l'atelier mobile", "notes": "Notes internes",
    "origin": "Fiches d'origine", "coord_source": "Origine de la position",
    "open_now": "Ouvert maintenant",
}


# ----------------------------------------------------------------------------- data


@st.cache_data(max_entries=4, show_spinner="Chargement du registre…")
def _load(public: bool, revision: str, db_url: str) -> gpd.GeoDataFrame:
    return store.places_frame(public=public)


def places(public: bool) -> gpd.GeoDataFrame:
    """Every place (public or editor view), reloaded as soon as the registry changes."""
    return _load(public, store.revision(), settings.get().db_url)


def service() -> PlacesService:
    """The places service (it reads nothing by itself: the page gives it the registry)."""
    return PlacesService()


# ----------------------------------------------------------------------------- filters


def filter_options(every: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """The choices of each filter."""
    voc = standard.vocabularies()
    return {"communes": sorted(every["commune"].unique()),
            "epcis": sorted(x for x in every["epci_court"].unique() if x),
            "services": list(voc["services"]),
            "publics": list(voc["publics_specifiquement_adresses"]),
            "statuses": [NOT_LABELLED, *LABEL_STATUSES], "kinds": list(KINDS)}


def query(values: dict[str, Any], public: bool) -> PlacesQuery:
    """The query of the filters' values."""
    return PlacesQuery(
        communes=tuple(values["communes"]), epcis=tuple(values["epcis"]),
        services=tuple(values["services"]), publics=tuple(values["publics"]),
        statuses=tuple(values["statuses"]), kinds=tuple(values["kinds"]),
        open_now=bool(values["open_now"]), text=values["text"] or "", public=public)


def count_line(result: PlacesResult) -> str:
    """« **1 lieu affiché** sur 143. » (markdown)."""
    shown = fmt.plural(len(result.places), "lieu affiché", "lieux affichés")
    return f"**{shown}** sur {fmt.number(result.total)}."


# ----------------------------------------------------------------------------- map


def places_map(shown: gpd.GeoDataFrame, point: tuple[float, float] | None) -> folium.Map:
    """The places shown and, while a place is typed, the point clicked for it."""
    m = basemap.base_map(credits=CREDITS)
    places_layer.add_places(m, shown)
    if point is not None:
        places_layer.add_new_point(m, *point)
    return m


def legends() -> list:
    """The legends under the map: fill = label status, outline = kind."""
    return [places_layer.status_legend(), places_layer.kind_legend()]


def take_click(clicked: dict | None) -> bool:
    """Keep a new click of the map as the point of the place being typed; True if new."""
    last = (clicked or {}).get("last_clicked")
    if not last or last == st.session_state.get(SEEN_CLICK):
        return False
    st.session_state[SEEN_CLICK] = last
    st.session_state[POINT] = (float(last["lng"]), float(last["lat"]))
    return True


# ----------------------------------------------------------------------------- tables


def _list_text(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.replace("|", ", ", regex=False)


def list_table(shown: gpd.GeoDataFrame) -> pd.DataFrame:
    """The places as the list shows them (French headings, flags in words)."""
    status = shown["label_status"].fillna("").replace("", NOT_LABELLED)
    return pd.DataFrame({
        "Nom": shown["nom"], "Commune": shown["commune"], "EPCI": shown["epci_court"],
        "Label": status, "Nature": shown["kind"], "Services": _list_text(shown["services"]),
        "SIRET": np.where(shown["siret_a_completer"], "à compléter", shown["pivot"]),
        "Position": shown["coord_source"].map(POSITION_LABELS).fillna(""),
    })


def choices(shown: gpd.GeoDataFrame, every: gpd.GeoDataFrame) -> tuple[list[str], dict]:
    """Ids offered in « Fiche détaillée » (the shown ones, and the chosen one) and names."""
    ids = shown["id"].tolist()
    chosen = st.session_state.get(CHOSEN)
    if chosen and chosen not in ids and chosen in set(every["id"]):
        ids.append(chosen)
    names = dict(zip(every["id"], every["nom"] + " — " + every["commune"], strict=True))
    return ids, names


def _cell(name: str, value: object, place: pd.Series) -> str:
    if name == "pivot" and place.get("siret_a_completer"):
        return "SIRET à compléter"
    if name == "coord_source":
        return POSITION_LABELS.get(str(value or ""), "donnée par la source")
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).replace("|", ", ")


def detail_table(place: pd.Series) -> pd.DataFrame:
    """Every field of one place, titled in French; cells escaped (``st.table`` reads markdown)."""
    titles = {f["name"]: f["title"] for f in standard.schema()["fields"]}
    names = [k for k in [*standard.fields(), *LOCAL_TITLES] if k in place.index]
    return pd.DataFrame({
        "Champ": [widgets.md(titles.get(k, LOCAL_TITLES.get(k, k))) for k in names],
        "Valeur": [widgets.md(_cell(k, place.get(k), place)) for k in names],
    })


def _moment(iso: str) -> str:
    at = datetime.fromisoformat(iso)
    if at.tzinfo is None:  # SQLite gives back the UTC time without its zone
        at = at.replace(tzinfo=UTC)
    at = at.astimezone(hours.TZ)
    return f"{fmt.day(at.date())} {at.hour}h{at.minute:02d}"


def history_line(history: list[dict[str, str]]) -> str:
    """« Historique du label : … » (markdown, every value escaped)."""
    parts = [widgets.md(f"{_moment(h['at'])} {h['by']} : {h['from'] or '—'} → "
                        f"{h['to'] or '—'} {h['comment']}".strip()) for h in history]
    return "Historique du label : " + (" ; ".join(parts) or "aucun changement")


# ----------------------------------------------------------------------------- messages


def start_run() -> None:
    """What the previous run asked for after a save, done before any widget is drawn."""
    todo = st.session_state.pop(NEXT, None)
    if not todo:
        return
    if "chosen" in todo:
        st.session_state[CHOSEN] = todo["chosen"]
    if todo.get("forget"):
        forget(todo["forget"])


def after_save(target: str, place_id: str) -> None:
    """Ask the next run to show ``place_id`` and to empty the form of ``target``."""
    st.session_state[NEXT] = {"chosen": place_id, "forget": target}
    st.session_state.pop(POINT, None)


def choose_none() -> None:
    """Callback of « Ajouter un nouveau lieu »: no place chosen, the form is a new one."""
    st.session_state[CHOSEN] = None


def flash(kind: str, text: str) -> None:
    """Keep a message for the next run (the page reruns after every save)."""
    st.session_state.setdefault(FLASH, []).append((kind, text))


def show_flash() -> None:
    """The messages kept by :func:`flash`, once."""
    for kind, text in st.session_state.pop(FLASH, []):
        if kind == "warning":
            widgets.warning(text)
        elif kind == "info":
            st.info(widgets.md(text))
        else:
            st.success(widgets.md(text))


# ----------------------------------------------------------------------------- form


def _key(target: str, name: str) -> str:
    return f"pf_{target}_{name}"


def form_base(every: gpd.GeoDataFrame, chosen: str | None) -> dict[str, str]:
    """The row the form starts from: the chosen place's fields as strings, or an empty row."""
    row = dict.fromkeys([*standard.fields(), *standard.LOCAL_FIELDS], "")
    if chosen:
        place = every.set_index("id").loc[chosen]
        for k in row:
            if k == "id":
                row[k] = chosen
            elif k == "possible_stop":
                row[k] = "oui" if bool(place.get(k)) else "non"
            elif k in place.index and place[k] is not None and not (
                    isinstance(place[k], float) and np.isnan(place[k])):
                row[k] = str(place[k])
        row["version"] = str(int(place["version"]))
    return row


def _communes() -> dict[str, str]:
    """Official commune name → INSEE code."""
    return {v: k for k, v in location.commune_names(location.island()).items()}


def _init(target: str, base: dict[str, str]) -> None:
    """Session values of a form's widgets, set when the form has none (first shown, or
    left for another place, which drops its widgets' values)."""
    if _key(target, "nom") in st.session_state:
        return
    for name in (*TEXT_FIELDS, "pivot", "latitude", "longitude", "notes"):
        st.session_state[_key(target, name)] = base.get(name, "")
    for name in (*VOCAB_FIELDS, "typologie"):
        st.session_state[_key(target, name)] = standard.split(base.get(name, ""))
    st.session_state[_key(target, "commune")] = base.get("commune") or NO_COMMUNE
    st.session_state[_key(target, "kind")] = base.get("kind") or KINDS[0]
    st.session_state[_key(target, "host_type")] = base.get("host_type") or HOST_TYPES[-1]
    st.session_state[_key(target, "possible_stop")] = base.get("possible_stop") == "oui"


def forget(target: str) -> None:
    """Drop a form's values (after the place was saved)."""
    for k in [k for k in st.session_state if str(k).startswith(f"pf_{target}_")]:
        del st.session_state[k]


def _apply_point(target: str) -> None:
    """The point clicked on the map fills latitude, longitude (and an empty commune)."""
    point = st.session_state.get(POINT)
    if point is None or st.session_state.get(_key(target, "_point")) == point:
        return
    lon, lat = point
    st.session_state[_key(target, "latitude")] = f"{lat:.6f}"
    st.session_state[_key(target, "longitude")] = f"{lon:.6f}"
    st.session_state[_key(target, "_point")] = point
    try:
        where = geocoding.commune_at(lon, lat)
    except MaillageError as exc:  # the address points are missing: fill in the point only
        widgets.warning(exc)
        where = None
    if where is not None:
        if st.session_state.get(_key(target, "commune")) in (NO_COMMUNE, ""):
            st.session_state[_key(target, "commune")] = where["commune"]
        if not st.session_state.get(_key(target, "code_postal")):
            st.session_state[_key(target, "code_postal")] = where["code_postal"]


def _options(vocab: list[str] | tuple[str, ...], current: list[str]) -> list[str]:
    """A closed vocabulary plus the values a place already has outside it (kept)."""
    return [*vocab, *[v for v in current if v not in vocab]]


def place_form(target: str, base: dict[str, str]) -> dict[str, str] | None:
    """The form of one place (``target``: its id, or ``"new"``); the typed row on submit."""
    _init(target, base)
    _apply_point(target)
    key = lambda name: _key(target, name)  # noqa: E731
    title = lambda name: standard.field(name)["title"]  # noqa: E731
    communes = _communes()
    commune_names = sorted(communes)
    current_commune = st.session_state[key("commune")]
    if current_commune not in (NO_COMMUNE, *commune_names):
        commune_names.append(current_commune)
    voc = standard.vocabularies()
    types = standard.typologies()
    with st.form(f"place_form_{target}"):
        c1, c2 = st.columns(2)
        c1.text_input(title("nom"), key=key("nom"), max_chars=standard.MAX_CELL)
        c2.text_input(title("pivot"), key=key("pivot"), max_chars=20,
                      placeholder="vide si inconnu : « SIRET à compléter »",
                      help="SIRET (14 chiffres), SIREN ou RNA. Laissez vide s'il n'est pas "
                           "encore connu : le lieu est enregistré avec la valeur d'attente "
                           "du standard (00000000000000) et signalé « SIRET à compléter ».")
        c1.text_input(title("adresse"), key=key("adresse"), max_chars=standard.MAX_CELL)
        c2.text_input(title("complement_adresse"), key=key("complement_adresse"),
                      max_chars=standard.MAX_CELL)
        c1.selectbox(title("commune"), [NO_COMMUNE, *commune_names], key=key("commune"))
        c2.text_input(title("code_postal"), key=key("code_postal"), max_chars=5)
        c1.text_input(title("telephone"), key=key("telephone"), max_chars=40,
                      placeholder="0596 52 00 00",
                      help="Écrivez-le comme d'habitude : il est enregistré au format "
                           "international (+596596520000).")
        c2.text_input(title("courriels"), key=key("courriels"), help="Plusieurs : a@b.fr|c@d.fr")
        c1.text_input(title("site_web"), key=key("site_web"))
        c2.text_input(title("horaires"), key=key("horaires"), placeholder="Mo-Fr 08:00-12:00",
                      help="Format OpenStreetMap opening_hours.")
        for k, name in enumerate(VOCAB_FIELDS):
            (c1 if k % 2 == 0 else c2).multiselect(
                title(name), _options(voc[name], st.session_state[key(name)]), key=key(name),
                placeholder="Choisir…")
        (c2 if len(VOCAB_FIELDS) % 2 else c1).multiselect(
            title("typologie"), _options(sorted(types), st.session_state[key("typologie")]),
            key=key("typologie"), placeholder="Choisir…",
            format_func=lambda code: f"{code} — {types[code]}" if code in types else code)
        st.caption("Cliquez sur la carte pour placer le lieu, ou laissez latitude et "
                   "longitude vides : il sera placé d'après son adresse (position "
                   "approximative, signalée comme telle).")
        c1, c2 = st.columns(2)
        c1.text_input("Latitude", key=key("latitude"))
        c2.text_input("Longitude", key=key("longitude"))
        c1.selectbox("Nature", KINDS, key=key("kind"))
        c2.selectbox("Type d'accueil", HOST_TYPES, key=key("host_type"))
        st.checkbox("Arrêt possible de l'atelier mobile", key=key("possible_stop"))
        st.text_area("Notes internes (jamais publiées)", key=key("notes"))
        if not st.form_submit_button("Enregistrer"):
            return None
    return typed_row(target, base, communes)


def _coord_source(target: str, base: dict[str, str], lat: str, lon: str) -> str:
    if not lat or not lon:
        return ""  # the store places it from its address
    point = st.session_state.get(_key(target, "_point"))
    if point is not None and (f"{point[1]:.6f}", f"{point[0]:.6f}") == (lat, lon):
        return "clic sur la carte"
    if (lat, lon) == (base.get("latitude", ""), base.get("longitude", "")):
        return base.get("coord_source", "")
    return "saisie"


def typed_row(target: str, base: dict[str, str], communes: dict[str, str]) -> dict[str, str]:
    """The row of the submitted form: ``base`` with the typed values (strings)."""
    get = lambda name: st.session_state[_key(target, name)]  # noqa: E731
    row = {k: v for k, v in base.items() if k != "version"}
    for name in (*TEXT_FIELDS, "pivot", "notes"):
        row[name] = (get(name) or "").strip()
    for name in (*VOCAB_FIELDS, "typologie"):
        row[name] = standard.join(get(name))
    commune = get("commune")
    row["commune"] = "" if commune == NO_COMMUNE else commune
    row["code_insee"] = communes.get(row["commune"], base.get("code_insee", ""))
    lat, lon = (get("latitude") or "").strip(), (get("longitude") or "").strip()
    row["latitude"], row["longitude"] = lat, lon
    row["coord_source"] = _coord_source(target, base, lat, lon)
    row["kind"], row["host_type"] = get("kind"), get("host_type")
    row["possible_stop"] = "oui" if get("possible_stop") else "non"
    row["date_maj"] = date.today().isoformat()
    return row


def saved_messages(saved: store.Saved) -> None:
    """Keep what a save did for the next run: success, what was filled in, warnings."""
    flash("success", "Fiche enregistrée." if not saved.created
          else f"Fiche enregistrée : nouveau lieu « {saved.id} ».")
    for note in saved.notes:
        flash("info", note)
    for w in saved.warnings:
        flash("warning", w)


def import_messages(result: dict[str, Any]) -> None:
    """Keep what an import did for the next run: counts, places geocoded, warnings."""
    flash("success", f"{fmt.plural(result['imported'], 'lieu ajouté', 'lieux ajoutés')}, "
                     f"{fmt.plural(result['updated'], 'lieu mis à jour', 'lieux mis à jour')}, "
                     f"{fmt.plural(result['unchanged'], 'lieu inchangé', 'lieux inchangés')}.")
    placed = result.get("geocoded", [])
    if placed:
        flash("info", f"{fmt.plural(len(placed), 'lieu placé', 'lieux placés')} d'après "
                      "l'adresse (positions approximatives) : " + " ; ".join(
                          f"ligne {g['ligne']} « {g['id']} » → {g['adresse']}" for g in placed))
    for w in result["warnings"]:
        flash("warning", w)


def report_line(rep: dict[str, Any]) -> str:
    """The summary of the latest initial load (markdown-safe)."""
    at = _moment(rep["at"])
    return widgets.md(
        f"Import du {at} : {fmt.plural(rep['input'], 'fiche lue', 'fiches lues')}, "
        f"{fmt.plural(rep['imported'], 'lieu', 'lieux')}, "
        f"{fmt.plural(rep['merged'], 'doublon fusionné', 'doublons fusionnés')}, "
        f"{fmt.plural(rep['rejected'], 'fiche rejetée', 'fiches rejetées')}, "
        f"{fmt.plural(rep['corrected'], 'fiche corrigée', 'fiches corrigées')}.")



#: Headings of the import report's table.
ISSUE_HEADINGS = {"action": "Action", "source": "Source", "record_id": "Fiche",
                  "field": "Champ", "original": "Valeur d'origine", "kept": "Valeur gardée",
                  "reason": "Raison"}


def issues_table(rep: dict[str, Any]) -> pd.DataFrame:
    """Every issue of an import report, French headings."""
    return pd.DataFrame(rep["issues"], columns=list(ISSUE_HEADINGS)).rename(
        columns=ISSUE_HEADINGS)
