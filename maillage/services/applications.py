"""Label applications as the Fédération reads them: the queue, one application, the outbox.

:class:`ApplicationsQuery` (statuses) and :class:`OutboxQuery` are answered by
:class:`ApplicationsService` for the page « Candidatures » and for ``maillage
applications list|show|outbox --json``, which print the results' ``to_json()``. Every
read needs a reviewing account (:data:`maillage.registry.applications.REVIEW_ROLES`),
checked by the store: applications hold the applicants' contacts and are never public.
Filing and deciding are writes of the store (:func:`~maillage.registry.applications.
file_application`, :func:`~maillage.registry.applications.decide`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maillage.auth import Actor
from maillage.db.application_models import (
    APPLICATION_STATUSES,
    OUTBOX_STATUSES,
    PENDING_STATUSES,
)
from maillage.errors import MaillageError
from maillage.registry import applications as store
from maillage.settings import Settings


def _check(values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise MaillageError(f"{what} inconnu : « {unknown[0][:60]} » (valeurs possibles : "
                            f"{', '.join(allowed)}).")


@dataclass(frozen=True)
class ApplicationsQuery:
    """Applications of these statuses (empty: all)."""

    statuses: tuple[str, ...] = ()

    def validated(self) -> ApplicationsQuery:
        _check(self.statuses, APPLICATION_STATUSES, "Statut de candidature")
        return self


@dataclass(frozen=True)
class OutboxQuery:
    """Messages of these statuses (empty: all)."""

    statuses: tuple[str, ...] = ()

    def validated(self) -> OutboxQuery:
        _check(self.statuses, OUTBOX_STATUSES, "Statut de message")
        return self


@dataclass
class ApplicationsResult:
    """The applications asked for (oldest first) and the counts by status of all."""

    query: ApplicationsQuery
    applications: list[dict[str, Any]]
    by_status: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What ``maillage applications list --json`` prints."""
        return {"total": len(self.applications),
                "par_statut": {s: self.by_status.get(s, 0) for s in APPLICATION_STATUSES},
                "candidatures": self.applications}


@dataclass
class ApplicationDetail:
    """One application with its history."""

    application: dict[str, Any]
    history: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """What ``maillage applications show REF --json`` prints."""
        return {"candidature": self.application, "historique": self.history}


@dataclass
class OutboxResult:
    """Messages of the outbox, newest first."""

    query: OutboxQuery
    messages: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """What ``maillage applications outbox --json`` prints."""
        return {"total": len(self.messages),
                "a_envoyer": sum(m["status"] == "à envoyer" for m in self.messages),
                "messages": self.messages}


class ApplicationsService:
    """Reads the applications and the outbox for a reviewing account."""

    def __init__(self, s: Settings | None = None) -> None:
        self.s = s

    @classmethod
    def load(cls, s: Settings | None = None) -> ApplicationsService:
        return cls(s)

    def run(self, actor: Actor | None, query: ApplicationsQuery) -> ApplicationsResult:
        q = query.validated()
        found = store.list_applications(actor, self.s, q.statuses)
        return ApplicationsResult(q, found, store.counts(actor, self.s))

    def queue(self, actor: Actor | None) -> ApplicationsResult:
        """The review queue (« candidat » and « à compléter »)."""
        return self.run(actor, ApplicationsQuery(PENDING_STATUSES))

    def detail(self, actor: Actor | None, ref: str) -> ApplicationDetail:
        found = [a for a in store.list_applications(actor, self.s) if a["ref"] == ref]
        if not found:
            raise MaillageError(f"Aucune candidature n'a la référence « {ref[:40]} ».")
        return ApplicationDetail(found[0], store.history(actor, ref, self.s))

    def outbox(self, actor: Actor | None, query: OutboxQuery) -> OutboxResult:
        q = query.validated()
        return OutboxResult(q, store.outbox(actor, self.s, q.statuses))
