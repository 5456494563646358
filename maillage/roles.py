"""The roles of accounts (core: read by the CLI's help without loading the database)."""

from __future__ import annotations

#: Every role an account may have.
ROLES = ("admin", "federation", "epci")
#: Roles allowed to edit the registry of places.
EDITOR_ROLES = frozenset({"admin", "federation"})
#: How roles read in French.
ROLE_LABELS = {"admin": "administrateur", "federation": "Fédération", "epci": "EPCI"}
