"""Pages: the room (live, through one socket per operation) and the coordinators' acknowledgement view."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cencomm.errors import NotFound, Refused, validation_messages
from cencomm.principal import Principal
from messaging import acknowledgements, selectors, services
from messaging.models import EDIT_WINDOW, MAX_TEXT_CHARS
from operations.models import Membership
from operations.selectors import access_membership, operation_administrations, operation_entry_points


@require_GET
def room_page(request: HttpRequest, code: str, room_id: int | None = None) -> HttpResponse:
    membership = access_membership(Principal(request.user), operation_code=code)
    rooms = list(selectors.rooms_for(membership))
    current = (
        next((r for r in rooms if r.pk == room_id), None)
        if room_id is not None
        else rooms[0]
        if rooms
        else None
    )
    if current is None:
        raise NotFound("room")
    config = {
        "code": membership.operation.code,
        "room": current.pk,
        "me": {"id": membership.user_id, "username": request.user.get_username(), "role": membership.role},
        "kinds": sorted(selectors.kinds_for(membership.role)),
        "entryPoints": [
            {"id": e.pk, "name": e.name, "country": e.administration.country}
            for e in operation_entry_points(membership.operation)
        ],
        "administrations": [
            {"id": a.pk, "name": a.name, "country": a.country}
            for a in operation_administrations(membership.operation)
        ],
        "roles": [{"id": value, "name": gettext(label)} for value, label in Membership.Role.choices],
        "editSeconds": int(EDIT_WINDOW.total_seconds()),
        "maxChars": MAX_TEXT_CHARS,
    }
    return render(
        request,
        "messaging/room.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "tab": "rooms",
            "rooms": rooms,
            "current": current,
            "config": config,
            "can_review": selectors.may_review_acknowledgements(membership),
            "can_open": selectors.may_open_room(membership),
        },
    )


@require_http_methods(["GET", "POST"])
def room_new(request: HttpRequest, code: str) -> HttpResponse:
    """A coordinator opens a room for some of the operation's members: the same service as the API."""
    membership = access_membership(Principal(request.user), operation_code=code)
    if not selectors.may_open_room(membership):
        raise NotFound("page")
    name, chosen, errors = "", set(), {}
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            chosen = {int(value) for value in request.POST.getlist("members")}
        except ValueError:
            errors = {"members": ["Choose members from the list."]}
        if not errors:
            try:
                room = services.room_create(membership=membership, name=name, user_ids=sorted(chosen))
            except ValidationError as exc:
                errors = validation_messages(exc)
            else:
                return redirect("messaging:room", code=membership.operation.code, room_id=room.pk)
    return render(
        request,
        "messaging/room_new.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "tab": "rooms",
            "groups": selectors.members_by_role(membership),
            "name": name,
            "chosen": chosen,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@require_GET
def acknowledgements_page(request: HttpRequest, code: str) -> HttpResponse:
    """The grid (warning or alert x addressee), then each with its list; live through alerts.js."""
    membership = access_membership(Principal(request.user), operation_code=code)
    if not selectors.may_review_acknowledgements(membership):
        raise NotFound("page")
    return _acknowledgements(request, membership)


def _acknowledgements(
    request: HttpRequest, membership: Membership, *, error: str | None = None, status: int = 200
) -> HttpResponse:
    overview = acknowledgements.acknowledgement_overview(membership)
    reminded = request.GET.get("reminded", "")
    return render(
        request,
        "messaging/acknowledgements.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "tab": "rooms",
            "overview": overview,
            "grid": acknowledgements.acknowledgement_grid(overview),
            "can_remind": selectors.may_post_in(membership.operation),
            "remind_client_id": uuid.uuid4(),  # a form sent twice reminds once
            "reminded": int(reminded) if reminded.isdigit() else None,
            "error": error,
        },
        status=status,
    )


@require_POST
def remind(request: HttpRequest, code: str, message_id: int) -> HttpResponse:
    """Remind those who have not acknowledged: the same service as the API."""
    membership = access_membership(Principal(request.user), operation_code=code)
    if not selectors.may_review_acknowledgements(membership):
        raise NotFound("page")
    message = selectors.access_message(membership, message_id)
    try:
        client_id = uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return _acknowledgements(
            request, membership, error=gettext("The form was not complete; try again."), status=422
        )
    try:
        reminder, _ = services.message_remind(membership=membership, message=message, client_id=client_id)
    except (Refused, ValidationError) as exc:
        text = exc.message if isinstance(exc, Refused) else " ".join(exc.messages)
        return _acknowledgements(request, membership, error=gettext(text), status=422)
    target = reverse("messaging:acknowledgements", args=[membership.operation.code])
    return redirect(f"{target}?reminded={reminder.reminder_of_id}#ack-{reminder.reminder_of_id}")
