"""Pieces of « Devenir point numérique » (the public application form) and « Candidatures »
(the Fédération's review): the form and its map, the confirmation, the queue, the detail,
the checklist of the label's criteria, the decision form, the history and the outbox.

Writes go through :mod:`maillage.registry.applications`, which checks everything itself
(the bounds and the rate limit of the one anonymous write, the reviewing role of the
decisions); this module only draws. Text typed by applicants is data: it reaches the
page through ``st.dataframe`` (text cells), :func:`ui.widgets.md` (``st.table``,
captions) or ``st.code`` (the messages), and the map only through
:class:`geo.mapsafe.TextLayer`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import folium
import pandas as pd
import streamlit as st

from geo import basemap, places_layer
from maillage import fmt
from maillage.auth import Actor
from maillage.db.application_models import DECISIONS
from maillage.db.models import HOST_TYPES
from maillage.errors import MaillageError
from maillage.registry import applications as store
from maillage.registry import geocoding, hours, location, standard
from maillage.services.applications import ApplicationsService
from ui import maps, widgets

#: Session keys of the public form: the point clicked, the raw click it came from, the
#: reference just filed (shown in place of the form), what the next run must do.
POINT, SEEN_CLICK, FILED, NEXT = "dp_point", "dp_seen_click", "dp_filed", "dp_next"
#: Session key of the review page's messages kept for the rerun after a decision.
FLASH = "cand_flash"
#: Prefix of the public form's widget keys.
PREFIX = "dp_f_"
HONEYPOT = f"{PREFIX}honeypot"
#: The honeypot field is never shown to people (nor reachable with the keyboard).
CSS = f"<style>.st-key-{HONEYPOT} {{ display: none !important; }}</style>"
CREDITS = "Registre Maillage"
NO_CHOICE = "Choisir…"
#: Headings of the tables.
STATUS_WORDS = {"candidat": "à examiner", "à compléter": "à compléter",
                "labellisé": "labellisé", "refusé": "refusé"}


def _moment(iso: str) -> str:
    """« 04/12/2026 9h30 » (Martinique time) of an ISO moment, '' when empty."""
    if not iso:
        return ""
    at = datetime.fromisoformat(iso)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    at = at.astimezone(hours.TZ)
    return f"{fmt.day(at.date())} {at.hour}h{at.minute:02d}"


# ----------------------------------------------------------------------------- public form


def criteria_list() -> None:
    """The label's criteria, as the Fédération checks them."""
    st.markdown("\n".join(f"- {widgets.md(label)}" for _, label in store.CRITERIA))


def point_map() -> None:
    """A map to place the place by a click (optional: else it is placed by its address)."""
    m = basemap.base_map(credits=CREDITS)
    point = st.session_state.get(POINT)
    if point is not None:
        places_layer.add_new_point(m, *point, tip="Position de votre lieu")
    clicked = maps.show(m, key="dp_map", height=420, returned_objects=["last_clicked"])
    last = (clicked or {}).get("last_clicked")
    if last and last != st.session_state.get(SEEN_CLICK):
        st.session_state[SEEN_CLICK] = last
        st.session_state[POINT] = (float(last["lng"]), float(last["lat"]))
        st.session_state[NEXT] = "point"
        st.rerun()


def start_run() -> None:
    """What the previous run asked for, done before any widget is drawn: a new point
    fills an empty commune and postcode; a filed application empties the form."""
    st.markdown(CSS, unsafe_allow_html=True)
    todo = st.session_state.pop(NEXT, None)
    if todo == "point" and st.session_state.get(POINT) is not None:
        lon, lat = st.session_state[POINT]
        try:
            where = geocoding.commune_at(lon, lat)
        except MaillageError:
            where = None
        if where is not None:
            if st.session_state.get(f"{PREFIX}commune") in (None, ""):
                st.session_state[f"{PREFIX}commune"] = where["commune"]
            if not st.session_state.get(f"{PREFIX}code_postal"):
                st.session_state[f"{PREFIX}code_postal"] = where["code_postal"]
    if todo == "clear":
        for key in [k for k in st.session_state if str(k).startswith(PREFIX)]:
            del st.session_state[key]
        for key in (POINT, SEEN_CLICK):
            st.session_state.pop(key, None)


def position_line() -> None:
    """Where the place will be put, and a way to forget the point clicked."""
    point = st.session_state.get(POINT)
    if point is None:
        st.caption("Position : aucun point cliqué ; votre lieu sera placé d'après son "
                   "adresse (position approximative, vérifiée par la Fédération).")
        return
    lon, lat = point
    st.caption(f"Position : point cliqué sur la carte ({fmt.number(lat, 5)} ; "
               f"{fmt.number(lon, 5)}).")
    if st.button("Effacer le point", key="dp_clear_point"):
        st.session_state.pop(POINT, None)
        st.rerun()


def _communes() -> list[str]:
    return sorted(location.commune_names(location.island()).values())


def application_form() -> store.ApplicationForm | None:
    """The form; the typed :class:`ApplicationForm` when sent (values kept on error)."""
    key = lambda name: f"{PREFIX}{name}"  # noqa: E731
    voc = standard.vocabularies()
    mx = store.MAX
    with st.form("dp_form", clear_on_submit=False):
        st.subheader("Votre lieu")
        c1, c2 = st.columns(2)
        c1.text_input("Nom du lieu", key=key("nom"), max_chars=mx["nom"],
                      placeholder="ex. Café des Flamboyants")
        c2.selectbox("Type de lieu", HOST_TYPES, index=None, key=key("host_type"),
                     placeholder=NO_CHOICE)
        c1.text_input("Adresse", key=key("adresse"), max_chars=mx["adresse"],
                      placeholder="ex. 12 rue Victor Hugo")
        c2.text_input("Complément d'adresse (facultatif)", key=key("complement_adresse"),
                      max_chars=mx["complement_adresse"])
        c1.selectbox("Commune", _communes(), index=None, key=key("commune"),
                     placeholder=NO_CHOICE)
        c2.text_input("Code postal (facultatif)", key=key("code_postal"),
                      max_chars=mx["code_postal"], placeholder="972xx",
                      help="Trouvé d'après la position s'il est laissé vide.")
        c1.text_input("Téléphone du lieu (facultatif)", key=key("telephone"),
                      max_chars=mx["telephone"], placeholder="0596 52 00 00")
        c2.text_input("Courriel du lieu (facultatif)", key=key("courriel"),
                      max_chars=mx["courriel"])
        c1.text_input("Site web (facultatif)", key=key("site_web"), max_chars=mx["site_web"],
                      placeholder="https://…")
        c2.text_input("SIRET ou RNA (facultatif)", key=key("pivot"), max_chars=mx["pivot"])
        c1.multiselect("Services proposés", voc["services"], key=key("services"),
                       placeholder=NO_CHOICE)
        c2.multiselect("Publics accueillis (facultatif)",
                       voc["publics_specifiquement_adresses"], key=key("publics"),
                       placeholder=NO_CHOICE)
        st.text_input("Horaires d'ouverture (facultatif)", key=key("horaires"),
                      max_chars=mx["horaires"], placeholder="Mo-Fr 09:00-12:00; Sa 09:00-12:00",
                      help="Format OpenStreetMap : jours Mo Tu We Th Fr Sa Su, heures "
                           "HH:MM-HH:MM, périodes séparées par « ; ».")
        st.text_area("Présentation du lieu (facultatif)", key=key("presentation"),
                     max_chars=mx["presentation"],
                     placeholder="Ce que vous proposez, en quelques phrases.")
        st.subheader("Vous")
        c1, c2 = st.columns(2)
        c1.text_input("Votre nom", key=key("contact_name"), max_chars=mx["contact_name"])
        c2.text_input("Votre courriel", key=key("contact_email"),
                      max_chars=mx["contact_email"],
                      help="La réponse de la Fédération vous sera envoyée à cette adresse.")
        c1.text_input("Votre téléphone (facultatif)", key=key("contact_phone"),
                      max_chars=mx["contact_phone"])
        st.text_input("Ne remplissez pas ce champ", key=HONEYPOT, max_chars=mx["honeypot"])
        st.text_area("Votre message (facultatif)", key=key("motivation"),
                     max_chars=mx["motivation"],
                     placeholder="Pourquoi votre lieu veut devenir point numérique.")
        st.checkbox("J'accepte que la Fédération du Numérique utilise ces informations pour "
                    "examiner la candidature et me répondre. Rien n'est publié avant la "
                    "labellisation.", key=key("consent"))
        if not st.form_submit_button("Envoyer ma candidature", type="primary"):
            return None
    get = lambda name: st.session_state.get(key(name))  # noqa: E731
    point = st.session_state.get(POINT)
    return store.ApplicationForm(
        nom=get("nom") or "", host_type=get("host_type") or "", adresse=get("adresse") or "",
        complement_adresse=get("complement_adresse") or "", commune=get("commune") or "",
        code_postal=get("code_postal") or "",
        latitude=f"{point[1]:.6f}" if point else "", longitude=f"{point[0]:.6f}" if point else "",
        pivot=get("pivot") or "", telephone=get("telephone") or "",
        courriel=get("courriel") or "", site_web=get("site_web") or "",
        horaires=get("horaires") or "", services=tuple(get("services") or ()),
        publics=tuple(get("publics") or ()), presentation=get("presentation") or "",
        contact_name=get("contact_name") or "", contact_email=get("contact_email") or "",
        contact_phone=get("contact_phone") or "", motivation=get("motivation") or "",
        consent=bool(get("consent")), honeypot=st.session_state.get(HONEYPOT) or "")


def filed(result: store.Filed, email: str) -> None:
    """Keep the reference for the next run (the form is emptied then)."""
    st.session_state[FILED] = {"ref": result.ref, "email": email}
    st.session_state[NEXT] = "clear"


def confirmation() -> bool:
    """The confirmation of an application just filed (True if shown)."""
    done = st.session_state.get(FILED)
    if not done:
        return False
    st.success(widgets.md(f"Candidature enregistrée, merci ! Votre référence : {done['ref']}."))
    st.markdown(
        "**Et maintenant ?**\n\n"
        "1. La Fédération du Numérique examine votre candidature au regard des critères du "
        "label (ci-dessus) ; elle peut vous appeler ou passer vous voir.\n"
        f"2. Sa réponse vous est envoyée à l'adresse {widgets.md(done['email'])} : "
        "labellisé, refusé, ou des éléments à compléter.\n"
        "3. Votre lieu n'apparaît ni sur la carte publique ni dans « Trouver un point "
        "numérique » avant d'être labellisé ; une fois labellisé, il y apparaît aussitôt.\n\n"
        "Gardez votre référence pour toute question.")
    if st.button("Déposer une autre candidature"):
        del st.session_state[FILED]
        st.rerun()
    return True


# ----------------------------------------------------------------------------- review


def service() -> ApplicationsService:
    return ApplicationsService()


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault(FLASH, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH, []):
        if kind == "info":
            st.info(widgets.md(text))
        else:
            st.success(widgets.md(text))


def count_line(by_status: dict[str, int]) -> str:
    """« **2 candidatures à examiner**, 1 à compléter ; 3 labellisées, 1 refusée. »"""
    waiting = fmt.plural(by_status.get("candidat", 0), "candidature à examiner",
                         "candidatures à examiner")
    return (f"**{waiting}**, "
            f"{fmt.number(by_status.get('à compléter', 0))} à compléter ; "
            f"{fmt.plural(by_status.get('labellisé', 0), 'labellisée', 'labellisées')}, "
            f"{fmt.plural(by_status.get('refusé', 0), 'refusée', 'refusées')}.")


def queue_table(apps: list[dict[str, Any]]) -> pd.DataFrame:
    """Applications as the lists show them (text cells)."""
    return pd.DataFrame({
        "Référence": [a["ref"] for a in apps],
        "Déposée le": [_moment(a["created_at"]) for a in apps],
        "Lieu": [a["nom"] for a in apps], "Commune": [a["commune"] for a in apps],
        "Type": [a["place"].get("host_type", "") for a in apps],
        "Statut": [STATUS_WORDS.get(a["status"], a["status"]) for a in apps],
        "Décidée par": [a["decided_by"] for a in apps],
    }, columns=["Référence", "Déposée le", "Lieu", "Commune", "Type", "Statut", "Décidée par"])


def by_ref(apps: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    """The application ``ref`` of a list."""
    return next(a for a in apps if a["ref"] == ref)


def body_of(messages: list[dict[str, Any]], pk: int) -> str:
    """The text of the message ``pk`` of the outbox (shown with ``st.code``: literal)."""
    return next(m["body"] for m in messages if m["pk"] == pk)


def choice_labels(apps: list[dict[str, Any]]) -> dict[str, str]:
    return {a["ref"]: f"{a['ref']} — {a['nom']} ({a['commune']})" for a in apps}


_DETAIL = (("nom", "Nom du lieu"), ("host_type", "Type de lieu"), ("adresse", "Adresse"),
           ("complement_adresse", "Complément d'adresse"), ("code_postal", "Code postal"),
           ("commune", "Commune"), ("telephone", "Téléphone du lieu"),
           ("courriels", "Courriel du lieu"), ("site_web", "Site web"),
           ("pivot", "SIRET ou RNA"), ("horaires", "Horaires"), ("services", "Services"),
           ("publics_specifiquement_adresses", "Publics"),
           ("presentation_resume", "Présentation"), ("coord_source", "Position"))


def detail_table(app: dict[str, Any]) -> pd.DataFrame:
    """Every detail of one application; cells escaped (``st.table`` reads markdown)."""
    place = app["place"]
    rows = [(title, place.get(name, "")) for name, title in _DETAIL]
    rows = [(t, "SIRET à compléter" if t == "SIRET ou RNA" and standard.pivot_missing(v)
             else str(v or "").replace("|", ", ")) for t, v in rows]
    rows += [("Latitude, longitude", f"{place.get('latitude', '')}, {place.get('longitude', '')}"),
             ("Contact", app["contact_name"]), ("Courriel du contact", app["contact_email"]),
             ("Téléphone du contact", app["contact_phone"]), ("Message", app["motivation"]),
             ("Déposée le", _moment(app["created_at"])),
             ("Statut", STATUS_WORDS.get(app["status"], app["status"]))]
    return pd.DataFrame({"Champ": [widgets.md(t) for t, _ in rows],
                         "Valeur": [widgets.md(v) for _, v in rows]})


def position_map(app: dict[str, Any]) -> folium.Map:
    """The proposed position on the map (name in the tooltip, through a TextLayer)."""
    place = app["place"]
    lon, lat = float(place["longitude"]), float(place["latitude"])
    m = basemap.base_map(credits=CREDITS, center=(lat, lon), zoom=15)
    places_layer.add_new_point(m, lon, lat, tip=f"{app['nom']} (candidature {app['ref']})")
    return m


def history_table(steps: list[dict[str, Any]]) -> pd.DataFrame:
    """The history of an application: who, when, what (text cells)."""
    labels = dict(store.CRITERIA)
    return pd.DataFrame({
        "Quand": [_moment(h["at"]) for h in steps], "Qui": [h["by"] for h in steps],
        "Quoi": [h["action"] for h in steps],
        "Statut": [f"{h['from'] or '—'} → {h['to'] or '—'}" for h in steps],
        "Critères remplis": [f"{len(h['criteria_met'])}/{len(labels)}"
                             if h["action"] == "décision" else "" for h in steps],
        "Commentaire": [h["comment"] for h in steps],
    }, columns=["Quand", "Qui", "Quoi", "Statut", "Critères remplis", "Commentaire"])


def decision_form(app: dict[str, Any]) -> tuple[str, list[str], str] | None:
    """The checklist of the criteria, the decision and the message; sent: the three."""
    ref = app["ref"]
    with st.form(f"decision_{ref}"):
        st.markdown("**Critères du label** (tous sont nécessaires pour labelliser)")
        met = [code for code, label in store.CRITERIA
               if st.checkbox(label, key=f"cand_{ref}_{code}",
                              value=code in app["criteria_met"])]
        decision = st.radio("Décision", DECISIONS, horizontal=True, key=f"cand_{ref}_decision",
                            index=None)
        message = st.text_area("Message au candidat (obligatoire pour refuser ou demander "
                               "de compléter)", key=f"cand_{ref}_message",
                               max_chars=store.MAX_MESSAGE)
        if not st.form_submit_button("Enregistrer la décision", type="primary"):
            return None
    return decision or "", met, message


def decide(actor: Actor, app: dict[str, Any], decision: str, met: list[str],
           message: str) -> None:
    """Record the decision (the store checks the role); messages kept for the rerun."""
    done = store.decide(actor, app["ref"], decision, int(app["version"]), met, message)
    flash("success", f"Décision enregistrée pour {done.ref} : {done.status}. Le message au "
                     "candidat est dans la boîte d'envoi (à envoyer).")
    if done.place_id:
        flash("info", f"Le lieu « {app['nom']} » est ajouté au registre ({done.place_id}), "
                      "labellisé : il apparaît sur la carte publique et dans « Trouver un "
                      "point numérique ».")


def outbox_table(messages: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({
        "Créé le": [_moment(m["created_at"]) for m in messages],
        "Destinataire": [m["recipient"] for m in messages],
        "Objet": [m["subject"] for m in messages],
        "Candidature": [m["application"] for m in messages],
        "Statut": [m["status"] for m in messages],
    }, columns=["Créé le", "Destinataire", "Objet", "Candidature", "Statut"])


def message_labels(messages: list[dict[str, Any]]) -> dict[int, str]:
    return {m["pk"]: f"{_moment(m['created_at'])} — {m['recipient']} — {m['subject']}"
            for m in messages}
