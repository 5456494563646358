"""Errors of the registry, shown to users in French."""

from __future__ import annotations

from geo.errors import MaillageError


class ValidationError(MaillageError):
    """A place or a file breaks the standard or our rules; nothing was written.

    ``details`` lists every problem as ``{"ligne", "champ", "message"}`` (``ligne`` None
    for a single form, ``champ`` '' when the problem is about no one field): what
    ``maillage … --json`` prints under ``details`` next to the message.
    """

    def __init__(self, problems: list[tuple[int | None, str]], what: str = "Le fichier") -> None:
        self.problems = problems
        self.details = [{"ligne": n, "champ": getattr(m, "field", "") or "", "message": str(m)}
                        for n, m in problems]
        lines = [f"ligne {n} : {m}" if n is not None else m for n, m in problems]
        rows = {n for n, _ in problems if n is not None}
        refused = "refusée" if what.startswith("La ") else "refusé"
        head = (f"{what} est {refused} : {len(problems)} problème(s)"
                + (f" sur {len(rows)} ligne(s)" if rows else "")
                + ". Rien n'a été enregistré.")
        super().__init__("\n".join([head, *lines[:200]]))


class ConflictError(MaillageError):
    """Someone saved the place since it was opened (optimistic locking)."""


class NotFoundError(MaillageError):
    """No place with that identifier."""
