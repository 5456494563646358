"""`maillage applications …`: the label applications, one of them with its history, the outbox.

Reading them needs a reviewing account (Fédération or administrator): the command line
acts as the administrator of the shell, or as the account given with ``--as``.
"""

from __future__ import annotations

import argparse

from maillage.commands._shared import actor


def _list(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.services.applications import ApplicationsQuery, ApplicationsService

    result = ApplicationsService().run(actor(args), ApplicationsQuery(tuple(args.status or ())))
    if args.json:
        print_json(result.to_json())
        return 0
    for a in result.applications:
        print(f"{a['ref']:14} {a['status']:12} {a['created_at'][:10]} {a['nom'][:40]:40} "
              f"{a['commune'][:20]:20} {a['contact_email']}")
    counts = ", ".join(f"{n} {s}" for s, n in result.to_json()["par_statut"].items() if n)
    print(f"{len(result.applications)} candidature(s)" + (f" ({counts} en tout)" if counts
                                                          else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.services.applications import ApplicationsService

    detail = ApplicationsService().detail(actor(args), args.ref)
    if args.json:
        print_json(detail.to_json())
        return 0
    a = detail.application
    print(f"{a['ref']} — {a['nom']} ({a['commune']}) : {a['status']}")
    print(f"Contact : {a['contact_name']} <{a['contact_email']}> {a['contact_phone']}")
    for h in detail.history:
        print(f"  {h['at']} {h['by']} : {h['action']} {h['from'] or '—'} → {h['to'] or '—'}"
              + (f" — {h['comment']}" if h["comment"] else ""))
    return 0


def _outbox(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.services.applications import ApplicationsService, OutboxQuery

    result = ApplicationsService().outbox(actor(args), OutboxQuery(tuple(args.status or ())))
    if args.json:
        print_json(result.to_json())
        return 0
    for m in result.messages:
        print(f"[{m['status']}] {m['created_at']} → {m['recipient']} : {m['subject']}")
    print(f"{len(result.messages)} message(s), {result.to_json()['a_envoyer']} à envoyer")
    return 0


def _who(q: argparse.ArgumentParser) -> None:
    q.add_argument("--as", dest="as_user", metavar="COMPTE",
                   help="agit au nom de ce compte (mot de passe demandé)")
    q.add_argument("--password-stdin", action="store_true")
    q.add_argument("--json", action="store_true")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("applications", help="candidatures au label point numérique et "
                                            "messages à envoyer")
    psub = p.add_subparsers(dest="applications_command", metavar="ACTION", required=True)

    q = psub.add_parser("list", help="liste les candidatures (les plus anciennes d'abord)")
    q.add_argument("--status", action="append", metavar="STATUT",
                   help="candidat, à compléter, labellisé, refusé (répétable)")
    _who(q)
    q.set_defaults(handler=_list)

    q = psub.add_parser("show", help="une candidature et son historique")
    q.add_argument("ref", metavar="REFERENCE", help="par exemple CAND-7F3A9C21")
    _who(q)
    q.set_defaults(handler=_show)

    q = psub.add_parser("outbox", help="messages aux candidats (table mail_outbox)")
    q.add_argument("--status", action="append", metavar="STATUT",
                   help="à envoyer, envoyé (répétable)")
    _who(q)
    q.set_defaults(handler=_outbox)
