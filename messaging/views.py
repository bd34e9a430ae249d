"""Pages: the room (live, through one socket per operation) and the coordinators' acknowledgement view."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cencomm.errors import NotFound
from cencomm.principal import Principal
from messaging import selectors, services
from operations.selectors import access_membership, operation_entry_points, require_role

Role = services.Role


@require_GET
def room_page(request: HttpRequest, code: str, room_id: int | None = None) -> HttpResponse:
    membership = access_membership(Principal(request.user), operation_code=code)
    services.rooms_ensure(operation=membership.operation)
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
        "kinds": sorted(services.KINDS_BY_ROLE.get(membership.role, set())),
        "entryPoints": [
            {"id": e.pk, "name": e.name, "country": e.administration.country}
            for e in operation_entry_points(membership.operation)
        ],
        "editSeconds": int(services.EDIT_WINDOW.total_seconds()),
        "maxChars": services.MAX_TEXT_CHARS,
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
            "can_review": membership.role in (Role.COORDINATOR, Role.NATIONAL_CONTACT),
        },
    )


@require_GET
def acknowledgements_page(request: HttpRequest, code: str) -> HttpResponse:
    membership = access_membership(Principal(request.user), operation_code=code)
    require_role(membership, Role.COORDINATOR, Role.NATIONAL_CONTACT, what="page")
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
