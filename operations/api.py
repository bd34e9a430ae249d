"""API: the caller's operations, and personal access tokens."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from cencomm.errors import NotFound
from cencomm.models import ApiToken
from cencomm.principal import principal_of, session_only
from operations import selectors, services
from operations.models import Operation

router = Router(tags=["operations"])


class EntryPointOut(Schema):
    id: int
    name: str
    kind: str
    unlocode: str
    time_zone: str
    latitude: float | None
    longitude: float | None


class AdministrationOut(Schema):
    country: str
    name: str
    entry_points: list[EntryPointOut]


class MembershipOut(Schema):
    role: str
    administration: str | None
    entry_point_id: int | None


class OperationOut(Schema):
    code: str
    name: str
    objectives: str
    state: str
    window_start: dt.datetime
    window_end: dt.datetime
    target_categories: list[str]
    administrations: list[AdministrationOut]
    my_membership: MembershipOut


def _operation_out(operation: Operation, membership) -> OperationOut:  # type: ignore[no-untyped-def]
    administrations = [
        AdministrationOut(
            country=a.country,
            name=a.name,
            entry_points=[
                EntryPointOut(
                    id=e.pk,
                    name=e.name,
                    kind=e.kind,
                    unlocode=e.unlocode,
                    time_zone=e.time_zone,
                    latitude=float(e.latitude) if e.latitude is not None else None,
                    longitude=float(e.longitude) if e.longitude is not None else None,
                )
                for e in entry_points
            ],
        )
        for a, entry_points in selectors.administrations_with_entry_points(operation)
    ]
    return OperationOut(
        code=operation.code,
        name=operation.name,
        objectives=operation.objectives,
        state=operation.state,
        window_start=operation.window_start,
        window_end=operation.window_end,
        target_categories=[c.code for c in operation.target_categories.all()],
        administrations=administrations,
        my_membership=MembershipOut(
            role=membership.role,
            administration=membership.administration.country if membership.administration else None,
            entry_point_id=membership.entry_point_id,
        ),
    )


@router.get("/operations", response=list[OperationOut], summary="The operations I belong to")
def list_operations(request: HttpRequest) -> list[OperationOut]:
    principal = principal_of(request)
    out = []
    for operation in selectors.operations_for(principal).order_by("-window_start"):
        membership = selectors.access_membership(principal, operation_id=operation.pk)
        out.append(_operation_out(operation, membership))
    return out


@router.get("/operations/{code}", response=OperationOut, summary="One of my operations")
def get_operation(request: HttpRequest, code: str) -> OperationOut:
    membership = selectors.access_membership(principal_of(request), operation_code=code)
    return _operation_out(membership.operation, membership)


class TransitionIn(Schema):
    to_state: Operation.State = Field(..., description="The state to move the operation to")


@router.post(
    "/operations/{code}/transitions",
    response=OperationOut,
    summary="Move an operation through its lifecycle (coordinators)",
)
def transition_operation(request: HttpRequest, code: str, payload: TransitionIn) -> OperationOut:
    principal = principal_of(request)
    membership = selectors.access_membership(principal, operation_code=code)
    if not selectors.may_move_operation(membership):
        raise NotFound("operation")
    operation = services.operation_transition(
        operation=membership.operation, to_state=payload.to_state, actor=principal.user
    )
    membership.operation = operation
    return _operation_out(operation, membership)


# --- tokens: made and revoked from a signed-in session only -------------------------------------


class TokenIn(Schema):
    operation: str = Field(..., max_length=40, description="Operation code the token is scoped to")
    name: str = Field(..., min_length=1, max_length=80)
    days: int = Field(30, ge=1, le=365)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    operation: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="Shown once; only a digest is stored.")


def _token_out(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "operation": token.operation.code,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
    }


@router.get("/tokens", response=list[TokenOut], auth=session_only, tags=["tokens"])
def list_tokens(request: HttpRequest) -> list[dict]:
    tokens = ApiToken.objects.filter(user=principal_of(request).user).select_related("operation")
    return [_token_out(t) for t in tokens]


@router.post("/tokens", response={201: TokenCreatedOut}, auth=session_only, tags=["tokens"])
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    principal = principal_of(request)
    operation = selectors.access_operation(principal, payload.operation)
    token, plaintext = services.api_token_create(
        user=principal.user, operation=operation, name=payload.name, days=payload.days
    )
    return Status(201, {**_token_out(token), "token": plaintext})


@router.delete("/tokens/{token_id}", response={204: None}, auth=session_only, tags=["tokens"])
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    principal = principal_of(request)
    token = ApiToken.objects.filter(pk=token_id, user=principal.user).select_related("operation").first()
    if token is None:
        raise NotFound("token")
    services.api_token_revoke(token=token, actor=principal.user)
    return Status(204, None)
