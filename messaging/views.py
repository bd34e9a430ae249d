"""Pages: the room (live, through one socket per operation) and the coordinators' acknowledgement view."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cencomm.errors import NotFound
from cencomm.principal import Principal
from messaging import selectors, services
from messaging.models import EDIT_WINDOW, MAX_TEXT_CHARS
from operations.selectors import access_membership, operation_entry_points


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
                errors = exc.message_dict
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
    membership = access_membership(Principal(request.user), operation_code=code)
    if not selectors.may_review_acknowledgements(membership):
        raise NotFound("page")
    return render(
        request,
        "messaging/acknowledgements.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "tab": "rooms",
            "overview": selectors.acknowledgement_overview(membership),
        },
    )
