"""Who is asking: a signed-in user who passed both factors, or a program with a scoped token."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Principal:
    user: AbstractBaseUser
    # A personal access token is scoped to one operation; a session sees all of its user's.
    token_operation_id: int | None = None
    token_id: int | None = None

    @property
    def user_id(self) -> int:
        return self.user.pk

    def may_use_operation(self, operation_id: int) -> bool:
        return self.token_operation_id is None or self.token_operation_id == operation_id
