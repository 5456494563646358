"""Map the free text of the source inventories to the standard's closed vocabularies.

Keyword rules on accent-free lower-case text; every rule is a line of a table so a
reviewer can read and change it. Unknown text maps to nothing (the caller reports it).
"""

from __future__ import annotations

import re

from maillage.registry.dedupe import strip_accents

#: keyword (accent-free, lower case) → service of the standard.
SERVICE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("demarche", "Aide aux démarches administratives"),
    ("sante", "Aide aux démarches administratives"),
    ("smartphone", "Maîtrise des outils numériques du quotidien"),
    ("tablette", "Maîtrise des outils numériques du quotidien"),
    ("ordinateur", "Maîtrise des outils numériques du quotidien"),
    ("numerique au quotidien", "Maîtrise des outils numériques du quotidien"),
    ("usages de base", "Maîtrise des outils numériques du quotidien"),
    ("insertion professionnelle", "Insertion professionnelle via le numérique"),
    ("emploi", "Insertion professionnelle via le numérique"),
    ("securi", "Utilisation sécurisée du numérique"),
    ("parent", "Parentalité et éducation avec le numérique"),
    ("enfant", "Parentalité et éducation avec le numérique"),
    ("creer", "Loisirs et créations numériques"),
    ("creation", "Loisirs et créations numériques"),
    ("loisir", "Loisirs et créations numériques"),
    ("culture numerique", "Compréhension du monde numérique"),
    ("acceder a du materi", "Accès internet et matériel informatique"),
    ("acceder a une connexion", "Accès internet et matériel informatique"),
    ("connexion internet", "Accès internet et matériel informatique"),
    ("prix solidaire", "Acquisition de matériel informatique à prix solidaire"),
    ("reconditionn", "Acquisition de matériel informatique à prix solidaire"),
)

FEE_KEYWORDS = (
    ("gratuit sous condition", "Gratuit sous condition"),
    ("gratuit", "Gratuit"),
    ("payant", "Payant"),
)

PUBLIC_KEYWORDS = (
    ("jeune", "Jeunes"),
    ("etudiant", "Étudiants"),
    ("famille", "Familles et/ou enfants"),
    ("senior", "Seniors"),
    ("femme", "Femmes"),
)

SUPPORT_KEYWORDS = (
    ("surdite", "Surdité"),
    ("handicaps moteur", "Handicaps moteurs"),
    ("handicaps mentaux", "Handicaps mentaux"),
    ("illettrisme", "Illettrisme"),
    ("anglais", "Langues étrangères (anglais)"),
    ("langues etrangeres", "Langues étrangères (autres)"),
    ("deficience visuelle", "Déficience visuelle"),
)

MODALITY_KEYWORDS = (
    ("seul", "En autonomie"),
    ("autonomie", "En autonomie"),
    ("avec de l", "Accompagnement individuel"),
    ("individuel", "Accompagnement individuel"),
    ("atelier", "Dans un atelier collectif"),
    ("distance", "À distance"),
)

PROGRAMME_KEYWORDS = (
    ("cnfs", "Conseillers numériques"),
    ("conseiller", "Conseillers numériques"),
    ("france service", "France Services"),
    ("aidants connect", "Aidants Connect"),
    ("caf", "Point d'accès numérique CAF"),
    ("croix rouge", "La Croix Rouge"),
    ("pix", "Certification PIX"),
)

#: Labels that have no place in the closed list and go to ``autres_formations_labels``.
OTHER_LABEL_KEYWORDS = (("aptic", "APTIC"), ("reaap", "REAAP"), ("clas", "CLAS"),
                        ("laep", "LAEP"), ("orange", "Orange"))

#: name keyword → data·inclusion typology code.
TYPOLOGY_KEYWORDS = (
    ("ccas", "CCAS"),
    ("centre communal d action sociale", "CCAS"),
    ("mediatheque", "BIB"),
    ("bibliotheque", "BIB"),
    ("france service", "MSAP"),
    ("mission locale", "ML"),
    ("mairie", "MUNI"),
    ("commune d", "MUNI"),
    ("ville d", "MUNI"),
    ("cyberbase", "EPN"),
    ("cyber base", "EPN"),
    ("la poste", "LA_POSTE"),
    ("coworking", "TIERS_LIEUX"),
    ("conniworking", "TIERS_LIEUX"),
    ("tiers lieu", "TIERS_LIEUX"),
    ("communaute d agglomeration", "EPCI"),
    ("association", "ASSO"),
    ("croix rouge", "ASSO"),
    ("formation", "OF"),
)

#: typology code → host type of the Fédération.
HOST_BY_TYPOLOGY = {
    "CCAS": "service public", "BIB": "service public", "MSAP": "service public",
    "ML": "service public", "MUNI": "service public", "EPN": "service public",
    "LA_POSTE": "service public", "EPCI": "service public", "CAF": "service public",
    "TIERS_LIEUX": "tiers-lieu", "ASSO": "association", "OF": "entreprise",
}
COMPANY_WORDS = ("sarl", "sas", "consulting", "marketing", "hardware", "production")


def plain(text: str) -> str:
    """Accent-free lower case with punctuation turned to spaces."""
    return " ".join(re.sub(r"[^a-z0-9/+]+", " ", strip_accents(text or "")).split())


def by_keywords(text: str, table: tuple[tuple[str, str], ...], vocab_order: tuple[str, ...] = ()
                ) -> list[str]:
    """Every target whose keyword occurs in ``text``, without duplicates."""
    t = plain(text)
    found = list(dict.fromkeys(target for key, target in table if key in t))
    if vocab_order:
        found.sort(key=lambda v: vocab_order.index(v) if v in vocab_order else len(vocab_order))
    return found


def typology(name: str) -> list[str]:
    """Typology codes suggested by a place's name."""
    return by_keywords(name, TYPOLOGY_KEYWORDS)[:1]


def host_type(name: str, typologies: list[str]) -> str:
    """Host type from the typology, else from company words in the name."""
    for t in typologies:
        if t in HOST_BY_TYPOLOGY:
            return HOST_BY_TYPOLOGY[t]
    if any(w in plain(name).split() for w in COMPANY_WORDS):
        return "entreprise"
    return "autre"


def phone(raw: str) -> str | None:
    """A Martinique phone number in the standard's international form, or None."""
    text = (raw or "").strip()
    if re.fullmatch(r"\+(33|590|594|262|596|269|687|689|508|681)\d{6,9}", text):
        return text
    digits = re.sub(r"\D", "", re.split(r"[a-zA-Z(]", text)[0])
    if len(digits) == 10 and digits.startswith("0"):
        return "+596" + digits[1:]
    if len(digits) == 9 and digits[:3] in ("596", "696", "697"):
        return "+596" + digits
    if len(digits) == 12 and digits.startswith("596"):
        return "+" + digits
    return None
