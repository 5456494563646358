"""Applications for the label « point numérique »: filing, review, decision, outbox.

A private place (shop, café, association…) applies on the public page « Devenir point
numérique », without an account. :func:`file_application` is the **one write an
anonymous visitor makes**, and it is bounded:

- every field has a maximum length, control characters are refused, lists come from the
  national standard's vocabularies, the commune is one of the 34, the e-mail is checked,
  phones are read by ``phonenumbers`` (:func:`maillage.registry.entry.phone`), the place
  is placed by a map click or from its address with the product's address index, and
  the proposed place then passes the registry's own checks
  (:func:`maillage.registry.store.prepare_entry`): all of it before anything is written;
- a filled honeypot field writes nothing (and answers as if it had);
- at most ``applications_per_client`` applications per client (IP address, hashed) and
  ``applications_per_hour`` for everyone in the last hour, counted from the
  ``applications`` table itself inside the writing transaction (serialised by SQLite's
  ``BEGIN IMMEDIATE`` or a PostgreSQL advisory lock), so the limit holds across
  processes and replicas.

The application is **not** a place of the registry: it lives in ``applications`` and
nothing public reads that table (map, finder, exports, indicators read ``places``).
Reading and deciding need a reviewing account (:data:`REVIEW_ROLES`), checked here. A
decision (:data:`DECISIONS`) is made against the label's criteria (:data:`CRITERIA`,
all met to label) and writes, in one transaction, the application's new status, its
history, the message to the applicant in ``mail_outbox`` and, when labelled, the place
of the registry with its label history (``candidat`` when filed → ``labellisé``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from maillage import db, fmt
from maillage import settings as settings_mod
from maillage.auth import Actor, require_role
from maillage.db.application_models import (
    DECISIONS,
    PENDING_STATUSES,
    Application,
    ApplicationEvent,
    OutboxMail,
)
from maillage.db.models import HOST_TYPES, LabelEvent, Place
from maillage.errors import MaillageError
from maillage.registry import csvio, entry, geocoding, hours, location, standard, store
from maillage.registry.errors import ConflictError, NotFoundError, ValidationError
from maillage.roles import EDITOR_ROLES
from maillage.settings import MARTINIQUE_BBOX, Settings

#: Roles that read and decide applications (the Fédération; administrators too).
REVIEW_ROLES = EDITOR_ROLES
#: What the reviewing roles are refused as, after « Connectez-vous pour ».
REVIEW_ACTION = "examiner les candidatures au label"

#: The label's criteria, checked by the Fédération at review (code, French wording).
#: All must be met to label a place; they are shown to applicants on the public page.
CRITERIA: tuple[tuple[str, str], ...] = (
    ("accueil", "Accueil du public sans rendez-vous, à des horaires connus et affichés"),
    ("acces", "Accès libre et gratuit à internet sur place (poste connecté ou wifi)"),
    ("aidant", "Une personne identifiée sur place pour aider avec le numérique"),
    ("orientation", "Oriente vers France services ou un conseiller numérique pour les "
                    "démarches complexes"),
    ("confidentialite", "Ne garde ni identifiant, ni mot de passe, ni document des "
                        "personnes aidées"),
    ("accessibilite", "Lieu accessible aux personnes à mobilité réduite, ou solution "
                      "prévue pour les recevoir"),
    ("fiche", "Fiche vérifiée : adresse, position, horaires et contact exacts"),
)
CRITERIA_CODES = tuple(code for code, _ in CRITERIA)

#: Maximum lengths of the fields of the public form (characters).
MAX = {
    "nom": 200, "adresse": 300, "complement_adresse": 200, "code_postal": 5,
    "pivot": 20, "telephone": 40, "courriel": 254, "site_web": 300, "horaires": 200,
    "presentation": 280,  # the standard's maxLength of presentation_resume
    "contact_name": 100, "contact_email": 254, "contact_phone": 40, "motivation": 2000,
    "latitude": 20, "longitude": 20, "honeypot": 200,
}
#: Longest message of a decision.
MAX_MESSAGE = 2000
#: Longest client key accepted (an IP address or a session id).
MAX_CLIENT = 200
#: Who files when nobody is signed in.
PUBLIC = "public"
#: ``source`` of a place that came from an application.
SOURCE = "Candidature au label (Fédération du Numérique)"
#: Key of the PostgreSQL advisory lock that serialises filings (rate limit).
LOCK_KEY = 0x4D414950  # "MAIP"
#: The rate-limit window.
WINDOW = timedelta(hours=1)

#: A practical e-mail syntax: local part, @, a domain with a dot and a letter TLD.
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                   r"[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_URL = re.compile(r"^https?://[^\s<>\"'|]+\.[^\s<>\"'|]+$", re.IGNORECASE)
#: Characters refused in every field (controls; line breaks allowed in long texts).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: Words of the decisions in the messages.
DECISION_WORDS = {"labellisé": "labellisée", "refusé": "refusée", "à compléter": "à compléter"}


class RateLimited(MaillageError):
    """Too many applications from this client, or from everyone, in the last hour."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite gives back naive UTC times
        return value.replace(tzinfo=UTC)
    return value


# --------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class ApplicationForm:
    """What the visitor typed on « Devenir point numérique » (strings as typed)."""

    nom: str = ""
    host_type: str = ""
    adresse: str = ""
    complement_adresse: str = ""
    commune: str = ""
    code_postal: str = ""
    #: A point clicked on the map (both or neither); else placed from the address.
    latitude: str = ""
    longitude: str = ""
    pivot: str = ""
    telephone: str = ""
    courriel: str = ""
    site_web: str = ""
    horaires: str = ""
    services: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    presentation: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    motivation: str = ""
    consent: bool = False
    #: A field hidden from people: bots fill it, people leave it empty.
    honeypot: str = ""


@dataclass(frozen=True)
class Filed:
    """What filing did: the reference to give the applicant, and what was filled in."""

    ref: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: False when nothing was written (honeypot): the visitor is told the same thing.
    recorded: bool = True


@dataclass(frozen=True)
class Decided:
    """What a decision did."""

    ref: str
    status: str
    version: int
    mail_pk: int
    #: The place of the registry created when labelled (else None).
    place_id: str | None = None


TITLES = {
    "nom": "Nom du lieu", "host_type": "Type de lieu", "adresse": "Adresse",
    "complement_adresse": "Complément d'adresse", "commune": "Commune",
    "code_postal": "Code postal", "latitude": "Latitude", "longitude": "Longitude",
    "pivot": "SIRET ou RNA", "telephone": "Téléphone du lieu", "courriel": "Courriel du lieu",
    "site_web": "Site web", "horaires": "Horaires", "services": "Services proposés",
    "publics": "Publics accueillis", "presentation": "Présentation",
    "contact_name": "Votre nom", "contact_email": "Votre courriel",
    "contact_phone": "Votre téléphone", "motivation": "Votre message",
    "consent": "Accord", "honeypot": "Champ à laisser vide",
    "decision": "Décision", "criteres": "Critères du label", "message": "Message au candidat",
}


class _Problems:
    def __init__(self, what: str = "La candidature") -> None:
        self.items: list[tuple[int | None, str]] = []
        self.what = what

    def add(self, name: str, message: str) -> None:
        self.items.append((None, standard.Problem(f"{TITLES.get(name, name)} : {message}",
                                                  name)))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items, what=self.what)


def _clean(problems: _Problems, name: str, value: object, *, required: bool = False,
           multiline: bool = False) -> str:
    """The field's text, trimmed, NFC; a problem if too long, empty or with controls."""
    text_ = unicodedata.normalize("NFC", "" if value is None else str(value))
    text_ = text_.replace("\r\n", "\n").replace("\r", "\n").strip()
    limit = MAX[name]
    if len(text_) > limit:
        problems.add(name, f"{len(text_)} caractères, {limit} au plus.")
        return ""
    if (_CONTROL if multiline else _CONTROL_LINE).search(text_):
        problems.add(name, "caractère de contrôle non permis (retirez-le).")
        return ""
    if required and not text_:
        problems.add(name, "obligatoire.")
    return text_


def check_email(address: str) -> str | None:
    """None when ``address`` is a plausible e-mail address, else a French reason."""
    if len(address) > MAX["contact_email"] or not EMAIL.fullmatch(address):
        return (f"« {address} » n'est pas une adresse électronique valide (par exemple "
                "« prenom.nom@exemple.fr »).")
    local = address.split("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return f"« {address} » n'est pas une adresse électronique valide (points mal placés)."
    return None


def _phone(problems: _Problems, name: str, raw: str) -> str:
    if not raw:
        return ""
    try:
        return entry.phone(raw)
    except ValidationError:
        problems.add(name, f"« {raw} » n'est pas un numéro valide (écrivez-le par exemple "
                           "« 0596 52 00 00 » ou « 0696 12 34 56 »).")
        return ""


def _choices(problems: _Problems, name: str, values: Iterable[str],
             allowed: tuple[str, ...]) -> list[str]:
    values = [str(v) for v in values]
    if len(values) > len(allowed):
        problems.add(name, "trop de valeurs.")
        return []
    unknown = [v for v in values if v not in allowed]
    if unknown:
        problems.add(name, f"valeur inconnue « {unknown[0][:60]} ».")
        return []
    return list(dict.fromkeys(values))


def _coordinate(problems: _Problems, name: str, value: str, low: float, high: float
                ) -> float | None:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        problems.add(name, f"« {value} » n'est pas un nombre.")
        return None
    if not low <= number <= high:
        problems.add(name, "le point n'est pas en Martinique : cliquez sur la carte de l'île.")
        return None
    return number


def check_form(form: ApplicationForm, s: Settings | None = None
               ) -> tuple[dict[str, str], dict[str, str | None], list[str]]:
    """The proposed place as a standard row, the contact, and notes; nothing written.

    Every field is bounded and checked (French :class:`ValidationError` listing every
    problem, ``what="La candidature"``); the place is positioned from the point clicked
    or from its address (product's address index, in the stated commune only), and its
    postcode found from the position when none was typed. The row still has to pass
    :func:`maillage.registry.store.prepare_entry` (done by :func:`file_application`).
    """
    if not isinstance(form, ApplicationForm):
        raise ValidationError([(None, "formulaire illisible")], what="La candidature")
    p = _Problems()
    get = {name: _clean(p, name, getattr(form, name),
                        required=name in ("nom", "adresse", "contact_name", "contact_email"),
                        multiline=name in ("presentation", "motivation"))
           for name in MAX if name != "honeypot"}
    host = form.host_type if form.host_type in HOST_TYPES else ""
    if not host:
        p.add("host_type", f"choisissez parmi : {', '.join(HOST_TYPES)}.")
    communes = {name: code for code, name in location.commune_names(location.island(s)).items()}
    commune = str(form.commune or "").strip()
    if commune not in communes:
        p.add("commune", "choisissez l'une des 34 communes de Martinique." if not commune
              else f"« {commune[:60]} » n'est pas une commune de Martinique.")
    if get["code_postal"] and not standard.POSTCODE_972.match(get["code_postal"]):
        p.add("code_postal", f"« {get['code_postal']} » n'est pas un code postal de "
                             "Martinique (972xx).")
    voc = standard.vocabularies()
    services = _choices(p, "services", form.services, voc["services"])
    if not form.services:
        p.add("services", "choisissez au moins un service proposé.")
    publics = _choices(p, "publics", form.publics, voc["publics_specifiquement_adresses"])
    for name in ("contact_email", "courriel"):
        if get[name]:
            reason = check_email(get[name])
            if reason:
                p.add(name, reason)
    if get["site_web"] and not _URL.fullmatch(get["site_web"]):
        p.add("site_web", "écrivez l'adresse complète, par exemple « https://exemple.fr ».")
    telephone = _phone(p, "telephone", get["telephone"])
    contact_phone = _phone(p, "contact_phone", get["contact_phone"])
    if not form.consent:
        p.add("consent", "cochez la case pour accepter que la Fédération utilise ces "
                         "informations pour examiner la candidature.")
    lat = lon = None
    if bool(get["latitude"]) != bool(get["longitude"]):
        p.add("latitude", "cliquez sur la carte pour placer le lieu (ou laissez la position "
                          "vide : il sera placé d'après son adresse).")
    elif get["latitude"]:
        x0, y0, x1, y1 = MARTINIQUE_BBOX
        lat = _coordinate(p, "latitude", get["latitude"], y0, y1)
        lon = _coordinate(p, "longitude", get["longitude"], x0, x1)
    p.raise_if_any()

    row = dict.fromkeys(standard.fields() + standard.LOCAL_FIELDS, "")
    row.update(
        nom=get["nom"], pivot=get["pivot"], commune=commune, code_insee=communes[commune],
        code_postal=get["code_postal"], adresse=get["adresse"],
        complement_adresse=get["complement_adresse"], telephone=telephone,
        courriels=get["courriel"], site_web=get["site_web"], horaires=get["horaires"],
        presentation_resume=get["presentation"], services=standard.join(services),
        publics_specifiquement_adresses=standard.join(publics), source=SOURCE,
        itinerance="Fixe", kind="lieu fixe", host_type=host, possible_stop="non",
    )
    notes: list[str] = []
    if lat is not None and lon is not None:
        row.update(latitude=repr(lat), longitude=repr(lon), coord_source="clic sur la carte")
    else:
        placed = geocoding.fill([row], s)
        if not placed:
            reason = str(row.get("_unplaced") or "introuvable").removeprefix("adresse ")
            p.add("adresse", f"{reason} : vérifiez l'adresse et "
                             "la commune, ou cliquez sur la carte pour placer le lieu.")
            p.raise_if_any()
        notes.append(f"Position trouvée d'après l'adresse : {placed[0]['adresse']} "
                     "(approximative : la Fédération la vérifiera).")
    if not row["code_postal"]:
        where = geocoding.commune_at(float(row["longitude"]), float(row["latitude"]), s)
        row["code_postal"] = (where or {}).get("code_postal", "")
        if not row["code_postal"]:
            p.add("code_postal", "obligatoire (5 chiffres, 972xx).")
            p.raise_if_any()
    contact = {"contact_name": get["contact_name"], "contact_email": get["contact_email"],
               "contact_phone": contact_phone or None, "motivation": get["motivation"] or None}
    return row, contact, notes


# --------------------------------------------------------------------------- filing


def client_key(client: str | None) -> str:
    """The hashed key of a client (its address is never stored in clear)."""
    value = str(client or "local")[:MAX_CLIENT]
    return hashlib.sha256(f"application\x00{value}".encode()).hexdigest()


def _new_ref() -> str:
    return f"CAND-{secrets.token_hex(4).upper()}"


def _lock(session: Session) -> None:
    """Serialise filings (SQLite: ``BEGIN IMMEDIATE`` already did; PostgreSQL: a lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _wait_words(seconds: float) -> str:
    minutes = max(1, int(-(-seconds // 60)))
    return fmt.plural(minutes, "minute")


def _check_rate(session: Session, key: str, now: datetime, s: Settings) -> None:
    since = now - WINDOW
    recent = select(Application.created_at).where(Application.created_at >= since)
    mine = [_aware(t) for t in session.scalars(
        recent.where(Application.client_key == key).order_by(Application.created_at))]
    if len(mine) >= s.applications_per_client:
        wait = (mine[-s.applications_per_client] + WINDOW - now).total_seconds()
        raise RateLimited(
            f"Trop de candidatures envoyées depuis votre connexion dans la dernière heure "
            f"({s.applications_per_client} au plus) : réessayez dans {_wait_words(wait)}. "
            "Rien n'a été enregistré ; votre saisie est conservée.", wait)
    every = [_aware(t) for t in session.scalars(recent.order_by(Application.created_at))]
    if len(every) >= s.applications_per_hour:
        wait = (every[-s.applications_per_hour] + WINDOW - now).total_seconds()
        raise RateLimited(
            "Le service reçoit beaucoup de candidatures en ce moment : réessayez dans "
            f"{_wait_words(wait)}. Rien n'a été enregistré ; votre saisie est conservée.",
            wait)


def file_application(actor: Actor | None, form: ApplicationForm, client: str | None,
                     s: Settings | None = None, now: datetime | None = None) -> Filed:
    """File an application (anyone, no account): checked, rate-limited, never public.

    ``client`` identifies the visitor (IP address, or a per-session id; see
    :func:`ui.signin.client_key`); only its hash is stored. Refusals are French:
    :class:`ValidationError` (every problem of the form, nothing written) or
    :class:`RateLimited`.
    """
    s = s or settings_mod.get()
    now = (now or _now()).astimezone(UTC)
    if isinstance(form, ApplicationForm) and str(form.honeypot or "").strip():
        return Filed(_new_ref(), recorded=False)  # a bot: nothing written, nothing said
    row, contact, notes = check_form(form, s)
    db.migrate(s)
    with db.read_session(s) as session:
        taken = set(session.scalars(select(Place.id)))
    try:
        row, more, warnings = store.prepare_entry(row, taken, s)
    except ValidationError as err:  # the registry's own rules (SIRET key, hours…)
        raise ValidationError(err.problems, what="La candidature") from None
    notes += [n for n in more if not n.startswith("Identifiant créé")]
    proposed = {k: row.get(k, "") for k in standard.fields() + standard.LOCAL_FIELDS}
    by = actor.username if isinstance(actor, Actor) else PUBLIC
    with db.write_session(s) as session:
        _lock(session)
        _check_rate(session, client_key(client), now, s)
        refs = set(session.scalars(select(Application.ref)))
        ref = _new_ref()
        while ref in refs:
            ref = _new_ref()
        app = Application(ref=ref, status="candidat", nom=proposed["nom"],
                          commune=proposed["commune"],
                          place_json=json.dumps(proposed, ensure_ascii=False),
                          client_key=client_key(client), created_at=now, filed_by=by,
                          version=1, **contact)
        session.add(app)
        session.flush()
        session.add(ApplicationEvent(
            application_pk=app.pk, at=now, by=by, action="dépôt", from_status=None,
            to_status="candidat", comment=" ".join([*notes, *warnings]) or None))
    return Filed(ref, tuple(notes), tuple(warnings))


# --------------------------------------------------------------------------- decisions


def _message(app: Application, decision: str, met: list[str], message: str, on: date,
             s: Settings) -> tuple[str, str]:
    """Subject (no text from the applicant in it) and body of the message to send."""
    subject = f"Votre candidature {app.ref} au label Point numérique : " \
              f"{DECISION_WORDS[decision]}"
    what = {
        "labellisé": ("Votre lieu est labellisé point numérique. Il apparaît désormais sur "
                      "la carte publique des points numériques et dans « Trouver un point "
                      f"numérique » ({s.public_url}/trouver)."),
        "refusé": ("Votre lieu n'est pas labellisé pour l'instant. Vous pourrez déposer une "
                   "nouvelle candidature quand les critères ci-dessous seront remplis."),
        "à compléter": ("Il manque des éléments pour décider. Répondez à ce message avec "
                        "les éléments demandés ci-dessous : la Fédération complétera votre "
                        "candidature puis l'examinera de nouveau."),
    }[decision]
    lines = [f"Bonjour {app.contact_name},", "",
             f"La Fédération du Numérique a examiné le {fmt.day(on)} la candidature "
             f"{app.ref} de « {app.nom} » ({app.commune}) au label Point numérique.", "",
             f"Décision : {DECISION_WORDS[decision]}.", what, "", "Critères du label :"]
    lines += [f"- [{'x' if code in met else ' '}] {label}" for code, label in CRITERIA]
    if message:
        lines += ["", "Message de la Fédération :", message]
    lines += ["", "La Fédération du Numérique"]
    return subject, "\n".join(lines)


def _place_from(session: Session, app: Application, actor: Actor, on: date,
                now: datetime, comment: str, s: Settings | None) -> Place:
    """The place of the registry made from the application (validated again)."""
    row = json.loads(app.place_json)
    row.update(label_status="labellisé", label_since=on.isoformat(),
               labelled_on=on.isoformat(), date_maj=on.isoformat())
    taken = set(session.scalars(select(Place.id)))
    if not row.get("id") or row["id"] in taken:
        row["id"] = entry.new_id(row.get("nom", ""), taken)
    errors, _ = csvio.check_rows([{**row, "_line": "1"}], location.island(s))
    if errors:
        raise ValidationError([(None, m) for _, m in errors], what="La fiche proposée")
    place = Place(**store.to_values(row), version=1, created_at=now, updated_at=now,
                  updated_by=actor.username)
    session.add(place)
    session.flush()
    session.add(LabelEvent(place_pk=place.pk, at=app.created_at or now,
                           by=app.filed_by[:100], from_status=None, to_status="candidat",
                           comment=f"candidature {app.ref}"))
    session.add(LabelEvent(place_pk=place.pk, at=now, by=actor.username,
                           from_status="candidat", to_status="labellisé",
                           comment=comment or f"candidature {app.ref} : critères remplis"))
    return place


def decide(actor: Actor | None, ref: str, decision: str, expected_version: int,
           met: Iterable[str] = (), message: str = "", s: Settings | None = None,
           on: date | None = None, now: datetime | None = None) -> Decided:
    """Decide a pending application (Fédération): labellisé, refusé or à compléter.

    ``met``: the codes of :data:`CRITERIA` found met (all are needed to label);
    ``message``: to the applicant (needed to refuse or to ask for more). One
    transaction writes the application's status, its history, the message in the
    outbox and, when labelled, the place of the registry; a refusal writes nothing.
    """
    actor = require_role(actor, REVIEW_ROLES, REVIEW_ACTION)
    s = s or settings_mod.get()
    now = (now or _now()).astimezone(UTC)
    on = on or now.astimezone(hours.TZ).date()  # the day in Martinique
    p = _Problems("La décision")
    if decision not in DECISIONS:
        p.add("decision", f"« {str(decision)[:40]} » inconnue (décisions : "
                          f"{', '.join(DECISIONS)}).")
    met = list(dict.fromkeys(str(m) for m in met))
    unknown = [m for m in met if m not in CRITERIA_CODES]
    if unknown:
        p.add("criteres", f"critère inconnu « {unknown[0][:40]} ».")
    message = unicodedata.normalize("NFC", str(message or "")).replace("\r\n", "\n").strip()
    if len(message) > MAX_MESSAGE:
        p.add("message", f"{len(message)} caractères, {MAX_MESSAGE} au plus.")
    elif _CONTROL.search(message):
        p.add("message", "caractère de contrôle non permis (retirez-le).")
    if decision in ("refusé", "à compléter") and not message:
        p.add("message", "écrivez au candidat ce qui manque ou la raison de la décision.")
    missing = [label for code, label in CRITERIA if code not in met]
    if decision == "labellisé" and missing:
        p.add("criteres", "pour labelliser, tous les critères doivent être remplis ; "
                          f"non cochés : {' ; '.join(missing)}.")
    p.raise_if_any()
    db.migrate(s)
    with db.write_session(s) as session:
        app = session.scalar(select(Application).where(Application.ref == ref))
        if app is None:
            raise NotFoundError(f"Aucune candidature n'a la référence « {ref} ».")
        if app.status not in PENDING_STATUSES:
            raise ConflictError(f"La candidature {ref} est déjà décidée ({app.status}, par "
                                f"{app.decided_by or 'quelqu’un'}) : rien n'a été changé.")
        old = app.status
        place = None
        if decision == "labellisé":
            place = _place_from(session, app, actor, on, now, message, s)
        checklist = json.dumps(met, ensure_ascii=False)
        done = session.execute(
            update(Application).where(Application.pk == app.pk,
                                      Application.version == expected_version)
            .values(status=decision, decided_at=now, decided_by=actor.username,
                    checklist_json=checklist, version=expected_version + 1,
                    place_pk=place.pk if place is not None else app.place_pk)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise ConflictError(
                f"La candidature {ref} a été examinée par {app.decided_by or 'quelqu’un'} "
                "depuis que vous l'avez ouverte : votre décision est refusée pour ne pas "
                "effacer la sienne. Rechargez la page.")
        session.add(ApplicationEvent(application_pk=app.pk, at=now, by=actor.username,
                                     action="décision", from_status=old, to_status=decision,
                                     comment=message or None, checklist_json=checklist))
        subject, body = _message(app, decision, met, message, on, s)
        mail = OutboxMail(recipient=app.contact_email, subject=subject, body=body,
                          created_at=now, application_pk=app.pk, status="à envoyer")
        session.add(mail)
        session.flush()
        return Decided(ref, decision, expected_version + 1, mail.pk,
                       place.id if place is not None else None)


# --------------------------------------------------------------------------- reads


def _iso(value: datetime | None) -> str:
    value = _aware(value)
    return value.isoformat(timespec="seconds") if value is not None else ""


def _summary(app: Application, place_id: str | None) -> dict[str, Any]:
    return {"ref": app.ref, "status": app.status, "nom": app.nom, "commune": app.commune,
            "created_at": _iso(app.created_at), "filed_by": app.filed_by,
            "contact_name": app.contact_name, "contact_email": app.contact_email,
            "contact_phone": app.contact_phone or "", "motivation": app.motivation or "",
            "decided_at": _iso(app.decided_at), "decided_by": app.decided_by or "",
            "criteria_met": json.loads(app.checklist_json or "[]"), "place_id": place_id,
            "version": app.version, "place": json.loads(app.place_json)}


def list_applications(actor: Actor | None, s: Settings | None = None,
                      statuses: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Applications (all, or of ``statuses``), oldest first, with their details (reviewers)."""
    require_role(actor, REVIEW_ROLES, REVIEW_ACTION)
    db.migrate(s)
    wanted = tuple(statuses)
    query = select(Application, Place.id).outerjoin(Place, Place.pk == Application.place_pk)
    if wanted:
        query = query.where(Application.status.in_(wanted))
    with db.read_session(s) as session:
        return [_summary(app, pid) for app, pid in session.execute(
            query.order_by(Application.created_at, Application.pk))]


def pending(actor: Actor | None, s: Settings | None = None) -> list[dict[str, Any]]:
    """The review queue: applications « candidat » or « à compléter », oldest first."""
    return list_applications(actor, s, PENDING_STATUSES)


def history(actor: Actor | None, ref: str, s: Settings | None = None) -> list[dict[str, Any]]:
    """Every step of one application, oldest first: who, when, what."""
    require_role(actor, REVIEW_ROLES, REVIEW_ACTION)
    db.migrate(s)
    with db.read_session(s) as session:
        app = session.scalar(select(Application).where(Application.ref == ref))
        if app is None:
            raise NotFoundError(f"Aucune candidature n'a la référence « {ref} ».")
        return [{"at": _iso(e.at), "by": e.by, "action": e.action,
                 "from": e.from_status or "", "to": e.to_status or "",
                 "comment": e.comment or "",
                 "criteria_met": json.loads(e.checklist_json or "[]")} for e in app.events]


def outbox(actor: Actor | None, s: Settings | None = None,
           statuses: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Messages of the outbox (all, or of ``statuses``), newest first (reviewers)."""
    require_role(actor, REVIEW_ROLES, REVIEW_ACTION)
    db.migrate(s)
    wanted = tuple(statuses)
    query = select(OutboxMail, Application.ref).outerjoin(
        Application, Application.pk == OutboxMail.application_pk)
    if wanted:
        query = query.where(OutboxMail.status.in_(wanted))
    with db.read_session(s) as session:
        return [{"pk": m.pk, "recipient": m.recipient, "subject": m.subject, "body": m.body,
                 "created_at": _iso(m.created_at), "application": ref or "",
                 "status": m.status, "sent_at": _iso(m.sent_at)}
                for m, ref in session.execute(
                    query.order_by(OutboxMail.created_at.desc(), OutboxMail.pk.desc()))]


def counts(actor: Actor | None, s: Settings | None = None) -> dict[str, int]:
    """Applications by status (reviewers)."""
    require_role(actor, REVIEW_ROLES, REVIEW_ACTION)
    db.migrate(s)
    with db.read_session(s) as session:
        return dict(session.execute(select(Application.status, func.count())
                                    .group_by(Application.status)).all())
