"""API: the caller's operations, their retention and legal holds, and personal access tokens."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from cencomm.errors import NotFound
from cencomm.models import ApiToken
from cencomm.principal import principal_of, session_only
from operations import selectors, services
from operations.models import LegalHold, Membership, Operation

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
    retention_days: int
    closed_at: dt.datetime | None
    shredded_at: dt.datetime | None
    legal_hold: bool


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
        retention_days=operation.retention_days,
        closed_at=operation.closed_at,
        shredded_at=operation.shredded_at,
        legal_hold=selectors.standing_hold(operation) is not None,
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


# --- retention and legal hold ---------------------------------------------------------------------


class HoldOut(Schema):
    id: int
    reason: str
    set_by: str | None
    set_at: dt.datetime
    lifted_by: str | None
    lifted_at: dt.datetime | None
    lift_reason: str


class RetentionOut(Schema):
    code: str
    retention_days: int
    closed_at: dt.datetime | None
    due_at: dt.datetime | None = Field(..., description="Close plus the retention period")
    shredded_at: dt.datetime | None
    legal_hold: HoldOut | None


class RetentionIn(Schema):
    retention_days: int = Field(..., ge=1, le=36500, description="Days the records are kept after the close")


class HoldIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


class LiftIn(Schema):
    lift_reason: str = Field(..., min_length=1, max_length=500)


def _hold_out(hold: LegalHold | None) -> HoldOut | None:
    if hold is None:
        return None
    return HoldOut(
        id=hold.pk,
        reason=hold.reason,
        set_by=hold.set_by.get_username() if hold.set_by else None,
        set_at=hold.set_at,
        lifted_by=hold.lifted_by.get_username() if hold.lifted_by else None,
        lifted_at=hold.lifted_at,
        lift_reason=hold.lift_reason,
    )


def _retention_out(operation: Operation) -> RetentionOut:
    return RetentionOut(
        code=operation.code,
        retention_days=operation.retention_days,
        closed_at=operation.closed_at,
        due_at=selectors.retention_due_at(operation),
        shredded_at=operation.shredded_at,
        legal_hold=_hold_out(selectors.standing_hold(operation)),
    )


def _retention_reader(request: HttpRequest, code: str) -> tuple[Operation, Membership | None]:
    """Members read it; a hub administrator too (they set holds on operations they are not in)."""
    principal = principal_of(request)
    try:
        return selectors.access_membership(principal, operation_code=code).operation, None
    except NotFound:
        return selectors.access_hold_operation(principal, code)


@router.get("/operations/{code}/retention", response=RetentionOut, summary="How long the records are kept")
def get_retention(request: HttpRequest, code: str) -> RetentionOut:
    operation, _ = _retention_reader(request, code)
    return _retention_out(operation)


@router.put(
    "/operations/{code}/retention",
    response=RetentionOut,
    summary="Change how many days after the close the records are kept (coordinators)",
)
def set_retention(request: HttpRequest, code: str, payload: RetentionIn) -> RetentionOut:
    principal = principal_of(request)
    membership = selectors.access_membership(principal, operation_code=code)
    operation = services.operation_retention_set(
        operation=membership.operation,
        retention_days=payload.retention_days,
        actor=principal.user,
        membership=membership,
    )
    return _retention_out(operation)


@router.post(
    "/operations/{code}/legal-hold",
    response={201: HoldOut},
    summary="Set a legal hold: nothing is shredded until it is lifted (coordinators, hub administrators)",
)
def set_legal_hold(request: HttpRequest, code: str, payload: HoldIn) -> Status:
    principal = principal_of(request)
    operation, membership = selectors.access_hold_operation(principal, code)
    hold = services.legal_hold_set(
        operation=operation, reason=payload.reason, actor=principal.user, membership=membership
    )
    return Status(201, _hold_out(hold))


@router.post(
    "/operations/{code}/legal-hold/lift",
    response=HoldOut,
    summary="Lift the standing legal hold, saying why (coordinators, hub administrators)",
)
def lift_legal_hold(request: HttpRequest, code: str, payload: LiftIn) -> HoldOut | None:
    principal = principal_of(request)
    operation, membership = selectors.access_hold_operation(principal, code)
    hold = services.legal_hold_lift(
        operation=operation, reason=payload.lift_reason, actor=principal.user, membership=membership
    )
    return _hold_out(hold)


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
