"""Demo records for retention: two operations of earlier years, closed long ago.

Blue Harbour (2019) is past its five years and under no hold: ``manage.py apply_retention --dry-run``
lists it, and a real run shreds it (its final public report stays). Amber Route (2020) is past its
period too, but a legal hold stands on it (criminal proceedings), so the run lists it as held. Each
has a few messages and results, sealed like any other, and its final public report. An operation
already there is left as it is, shredded or not: running the demo again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.db import transaction

from messaging.models import Room
from messaging.services import message_post, rooms_ensure
from operations.models import LegalHold, Membership, Operation, OperationTransition
from operations.services import legal_hold_set, membership_add, operation_load, operation_transition
from reports.models import Report
from reports.selectors import SYSTEM, Audience
from reports.services import report_generate_now
from results.services import LineInput, ResultInput, result_post

NAMESPACE = uuid.UUID("5d3b1f0e-8c2a-4e7b-9a61-2f4c8d9e0b17")
UTC = dt.UTC

PAST: list[dict[str, Any]] = [
    {
        "code": "BLUE-HARBOUR-2019",
        "name": "Operation Blue Harbour",
        "objectives": "Counterfeit medicines and spare parts in containers through the Adriatic ports.",
        "start": dt.datetime(2019, 5, 6, tzinfo=UTC),
        "closed": dt.datetime(2019, 9, 30, 16, 0, tzinfo=UTC),
        "hold": None,
    },
    {
        "code": "AMBER-ROUTE-2020",
        "name": "Operation Amber Route",
        "objectives": "Counterfeit toys and cosmetics by road and sea before the holiday season.",
        "start": dt.datetime(2020, 10, 5, tzinfo=UTC),
        "closed": dt.datetime(2021, 1, 29, 11, 0, tzinfo=UTC),
        "hold": "Criminal proceedings in Bari (case 2021/118): the seizure records are evidence.",
    },
]
MESSAGES = [
    "Container MSKU7781234 from Ningbo: medicines declared as vitamins, inspection at 10:00.",
    "Bari confirms the consignee; the same forwarder appears in last year's cases.",
]


def _places(fixture: dict[str, Any]) -> list[dict[str, Any]]:
    """Albania and Italy as the Balkan Gate description has them (the same entry points)."""
    return [a for a in fixture["administrations"] if a["country"] in ("AL", "IT")]


def _member(operation: Operation, username: str, role: str, **where: Any) -> Membership | None:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return None
    return membership_add(operation=operation, user=user, role=role, actor=None, **where)


@transaction.atomic
def _past_operation(spec: dict[str, Any], fixture: dict[str, Any]) -> Operation:
    start = spec["start"]
    operation = operation_load(
        {
            "code": spec["code"],
            "name": spec["name"],
            "objectives": spec["objectives"],
            "window_start": start,
            "window_end": start + dt.timedelta(days=7),
            "state": "active",
            "categories": fixture["categories"],
            "target_categories": ["medicines", "games-toys", "cosmetics"],
            "administrations": _places(fixture),
        }
    )
    durres = operation.participations.get(administration__country="AL").entry_points.get()
    coordinator = _member(operation, "coordinator", Membership.Role.COORDINATOR)
    officer = _member(operation, "officer-durres", Membership.Role.OFFICER, entry_point=durres)
    rooms_ensure(operation=operation)
    room = Room.objects.get(operation=operation, kind=Room.Kind.OPERATION)
    for n, text in enumerate(MESSAGES):
        if coordinator is not None:
            message_post(
                membership=coordinator,
                room=room,
                client_id=uuid.uuid5(NAMESPACE, f"{spec['code']}:m{n}"),
                text=text,
            )
    if officer is not None:
        result_post(
            membership=officer,
            entry_point_id=durres.pk,
            client_id=str(uuid.uuid5(NAMESPACE, f"{spec['code']}:r1")),
            content=ResultInput(
                inspected_at=start + dt.timedelta(days=2, hours=10),
                origin="CN",
                outcome="seized",
                transport_mode="sea_container",
                detection_method="risk_profile",
                handling_code="H0",
                lines=(
                    LineInput(
                        category="medicines", quantity=Decimal(24000), description="tablets", brand="Pharmex"
                    ),
                ),
                notes="Behind a false wall of the container.",
                reference="MSKU7781234",
            ),
        )
    for state in ("follow_up", "closed"):
        operation = operation_transition(operation=operation, to_state=state, actor=None)
    # History, as it happened: the close, and retention counted from it.
    Operation.objects.filter(pk=operation.pk).update(closed_at=spec["closed"])
    OperationTransition.objects.filter(operation=operation).update(at=spec["closed"])
    operation.refresh_from_db()
    if spec["hold"] and coordinator is not None:
        hold = legal_hold_set(
            operation=operation, reason=spec["hold"], actor=coordinator.user, membership=coordinator
        )
        LegalHold.objects.filter(pk=hold.pk).update(set_at=spec["closed"] + dt.timedelta(days=400))
    return operation


def seed(fixture_path: Any) -> list[Operation]:
    """The past operations, made once; the report is generated after each one's own transaction."""
    fixture = yaml.safe_load(fixture_path.read_text())
    made = []
    for spec in PAST:
        operation = Operation.objects.filter(code=spec["code"]).first() or _past_operation(spec, fixture)
        has_public = operation.reports.filter(edition=Report.Edition.PUBLIC, state=Report.State.DONE).exists()
        if operation.shredded_at is None and not has_public:
            report_generate_now(
                operation=operation,
                audience=Audience(SYSTEM),
                edition=Report.Edition.PUBLIC,
                format=Report.Format.PDF,
            )
        made.append(operation)
    return made
