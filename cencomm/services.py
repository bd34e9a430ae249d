"""The ground floor's own writes (the apps' are in ``<app>/services.py``): a signed-in session ending."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from cencomm.live import publish_on_commit, user_group
from cencomm.middleware import session_fingerprint


@transaction.atomic
def session_end(*, user: AbstractBaseUser, session_key: str | None) -> None:
    """A user signs out of one session: once committed, that session's open sockets close.

    Call it before the session is flushed (its key names the sockets). Not audited: signing out is
    not an act on any operation's record.
    """
    if user.is_authenticated:
        publish_on_commit(
            user_group(user.pk), {"type": "session.ended", "session": session_fingerprint(session_key)}
        )
