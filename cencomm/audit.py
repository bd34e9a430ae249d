"""The audit trail: append-only events, chained by hash per operation.

``audit_record`` is the one primitive that appends an event; ``audit_verify`` reads the chain back
and names the first event that does not match. Services never call ``audit_record`` with a
free-text action: each app has an ``audit.py`` (``operations.audit``, ``messaging.audit``,
``results.audit``, …) with its actions in a ``TextChoices`` and one small named function per
action, and services call those. An action string, once stored, is part of the hashed payload:
it is never renamed, or old chains would no longer verify.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import timezone

from cencomm.chain import chain_append, chain_head, first_broken_link
from cencomm.models import AuditEvent


def audit_chain_name(operation_id: int | None) -> str:
    return f"audit:{operation_id}" if operation_id else "audit:global"


def _payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "operation": event.operation_id,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "data": event.data,
    }


def audit_record(
    *,
    action: str,
    actor: AbstractBaseUser | None,
    operation: models.Model | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; call inside the service's transaction. ``data``: no plaintext secrets."""
    event = AuditEvent(
        operation=operation,
        chain=audit_chain_name(operation.pk if operation else None),
        at=timezone.now().replace(microsecond=0),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=str(action),  # a TextChoices member is stored (and hashed) as its value
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
    # JSON round trip so the hashed payload equals what is read back from the database.
    event.data = json.loads(json.dumps(event.data, default=str))
    link = chain_append(event.chain, _payload(event))
    event.seq, event.prev_hash, event.hash = link.seq, link.prev_hash, link.hash
    event.save()
    return event


def audit_verify(operation_id: int | None) -> int | None:
    """The seq of the first event of the operation's audit chain that does not match, or None."""
    name = audit_chain_name(operation_id)
    events = AuditEvent.objects.filter(chain=name).order_by("seq")
    links = [(e.seq, e.prev_hash, e.hash, _payload(e)) for e in events.iterator()]
    return first_broken_link(links, chain_head(name))


# --- the ground floor's own actions: a user's second factor (of no operation: chain audit:global) ---


class CencommAction(models.TextChoices):
    OTP_ENROL = "otp.enrol", "Authenticator set up"
    OTP_BACKUP_CODES = "otp.backup_codes", "Backup codes made"
    SEARCH_REINDEX = "search.reindex", "Search index rebuilt"


def otp_enrolled(*, user: AbstractBaseUser) -> AuditEvent:
    return audit_record(action=CencommAction.OTP_ENROL, actor=user, data={"user": user.pk})


def backup_codes_made(*, user: AbstractBaseUser) -> AuditEvent:
    return audit_record(action=CencommAction.OTP_BACKUP_CODES, actor=user, data={"user": user.pk})


def search_index_rebuilt(
    *,
    operation: models.Model,
    actor: AbstractBaseUser | None,
    key_version: int | None,
    documents: int,
    tokens: int,
) -> AuditEvent:
    """An operation's search index rebuilt (``key_version``: under a new search key; None: the same)."""
    return audit_record(
        action=CencommAction.SEARCH_REINDEX,
        actor=actor,
        operation=operation,
        target=operation,
        data={"key_version": key_version, "documents": documents, "tokens": tokens},
    )
