"""The Balkan Gate demo conversation: a briefing, warnings, feedback, an alert being acknowledged, a word
in the Italian room for Italy only.

Idempotent: every message has a fixed client ID (a UUID from the operation and the message's key),
so a second run, whatever the date, finds what the first one stored; times come from the window.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from messaging import indexing, services
from messaging.models import Acknowledgement, Message, Room
from operations.models import Membership, Operation

NAMESPACE = uuid.UUID("6f1c3a52-2f4e-4d7e-9a57-0b5a1c9e2d10")
Role = Membership.Role


def _client_id(operation: Operation, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{operation.code}:{key}")


@transaction.atomic
def seed(operation: Operation) -> None:
    rooms = services.rooms_ensure(operation=operation)
    everyone = next(r for r in rooms if r.kind == Room.Kind.OPERATION)
    coordinators = next(r for r in rooms if r.kind == Room.Kind.COORDINATORS)
    members = Membership.objects.filter(operation=operation).select_related(
        "user", "entry_point", "administration", "operation"
    )
    coordinator = members.filter(role=Role.COORDINATOR).first()
    if coordinator is None:
        return
    officers = {m.entry_point.name: m for m in members.filter(role=Role.OFFICER)}
    durres, bari, piraeus = (officers.get(n) for n in ("Port of Durrës", "Port of Bari", "Port of Piraeus"))
    ncp_al = members.filter(role=Role.NATIONAL_CONTACT, administration__country="AL").first()
    # Times from the stored window (never from the clock): the same on every run.
    start = operation.window_start + dt.timedelta(hours=7)

    def say(
        key: str, who: Membership | None, room: Room, text: str, hours: float, **extra: object
    ) -> Message | None:
        if who is None:
            return None
        message, created = services.message_post(
            membership=who, room=room, client_id=_client_id(operation, key), text=text, **extra
        )
        if created:  # spread the demo over the window so far (read by the report's timings)
            Message.objects.filter(pk=message.pk).update(
                created_at=min(timezone.now(), start + dt.timedelta(hours=hours))
            )
            message.refresh_from_db()
            indexing.message_index(message, text=text, author=who)  # found under its (demo) time
        return message

    def acknowledge(message: Message | None, who: Membership | None, minutes: float) -> None:
        if message is None or who is None:
            return
        ack = services.message_acknowledge(membership=who, message=message)
        wanted = min(timezone.now(), message.created_at + dt.timedelta(minutes=minutes))
        if ack.at > wanted:
            Acknowledgement.objects.filter(pk=ack.pk).update(at=wanted)

    say(
        "briefing",
        coordinator,
        everyone,
        (
            "Good morning all, Operation Balkan Gate is now live. Focus: counterfeit medicines (above all "
            "erectile-dysfunction tablets), accessories, toys, electronics and foodstuffs. Post every inspection "
            "as you finish it, and a nil return by 18:00 UTC every day even when nothing was found. "
            "Photos of goods and concealment help the analysts: attach them to your results."
        ),
        1,
    )
    say(
        "durres-ready",
        durres,
        everyone,
        "Durrës on station: two scanner lanes open, first ro-ro from Bari expected 09:30.",
        1.5,
    )
    warning = say(
        "warning-ningbo",
        coordinator,
        everyone,
        (
            "WARNING: 40' containers declared as 'plastic household goods', shipped from Ningbo (CN) and "
            "transhipped at Piraeus, consignees registered within the last six months. Indicators: "
            "declared weight well under the container's tare-adjusted norm; freight paid in cash. Suspected "
            "concealment of tablets in kitchenware cartons. Please control and give feedback."
        ),
        5,
        kind=Message.Kind.WARNING,
        entry_point_ids=[m.entry_point_id for m in (durres, bari, piraeus) if m is not None],
    )
    if warning is not None:
        say(
            "feedback-piraeus",
            piraeus,
            everyone,
            (
                "Piraeus: 3 containers matched the profile. One opened: 48,000 sildenafil tablets in blister packs "
                "behind kitchenware cartons. Goods detained, samples sent to the laboratory; result posted."
            ),
            9,
            kind=Message.Kind.FEEDBACK,
            warning_id=warning.pk,
        )
        say(
            "feedback-bari",
            bari,
            everyone,
            "Bari: one matching container, scanned and opened, no irregularity found. Released.",
            11,
            kind=Message.Kind.FEEDBACK,
            warning_id=warning.pk,
        )
        acknowledge(warning, piraeus, 20)
        acknowledge(warning, bari, 45)
        acknowledge(warning, durres, 70)
    alert = say(
        "alert-nil-returns",
        coordinator,
        everyone,
        (
            "ALERT: yesterday three entry points sent no return at all. A nil return is a result: post it by "
            "18:00 UTC today so that 'nothing found' and 'did not report' can be told apart."
        ),
        26,
        kind=Message.Kind.ALERT,
    )
    acknowledge(alert, durres, 6)
    acknowledge(alert, piraeus, 14)
    container = say(  # the one the search finds by its number, however it is typed
        "warning-container",
        coordinator,
        everyone,
        (
            "WARNING: container TGHU 482913-1 (40' high cube), loaded at Ningbo, transhipped at Piraeus, due "
            "at Durrës on the next ro-ro from Bari. Declared as 'plastic household goods', 11.2 t; the booking "
            "was changed twice in 48 hours. Hold it for a full inspection and report the result."
        ),
        28,
        kind=Message.Kind.WARNING,
        entry_point_ids=[m.entry_point_id for m in (durres, bari, piraeus) if m is not None],
    )
    acknowledge(container, durres, 12)
    say(
        "coord-olaf",
        coordinator,
        coordinators,
        (
            "The Piraeus find links to last month's Rijeka case. Keep the consignee names in the hub until the "
            "national investigation agrees to share them."
        ),
        10,
        handling="hub_only",
    )
    if ncp_al is not None:
        albania = next(
            (
                r
                for r in rooms
                if r.kind == Room.Kind.ADMINISTRATION and r.administration_id == ncp_al.administration_id
            ),
            None,
        )
        if albania is not None:
            say(
                "al-photos",
                ncp_al,
                albania,
                "Durrës team: attach photos of every detention to the result; I validate tonight.",
                12,
            )
    italy = next(
        (
            r
            for r in rooms
            if r.kind == Room.Kind.ADMINISTRATION and bari and r.administration_id == bari.administration_id
        ),
        None,
    )
    if italy is not None:  # what only Italy's room (and the coordinators) may find
        say(
            "it-consignee",
            bari,
            italy,
            (
                "Bari team: the consignee of the Ningbo container, Adriatica Import srl, is on the Guardia di "
                "Finanza's list. Keep the name within Italian customs until the prosecutor agrees."
            ),
            29,
        )
