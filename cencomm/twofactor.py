"""The second factor: TOTP enrolment, verification with lock-out, and single-use backup codes."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cencomm import audit, metrics

BACKUP_CODE_COUNT = 10
LOCKOUT = dt.timedelta(minutes=15)


def confirmed_totp_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: AbstractBaseUser) -> bool:
    return confirmed_totp_device(user) is not None


@transaction.atomic
def enrolment_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """An unconfirmed TOTP device for the user to scan; reused until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


@transaction.atomic
def enrolment_confirm(*, user: AbstractBaseUser, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the device with a first code; returns fresh backup codes, or None if the code is wrong."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_clean(token)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.otp_enrolled(user=user)
    return backup_codes_regenerate(user=user)


@transaction.atomic
def backup_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """Ten new single-use codes, shown once; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Backup codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit.backup_codes_made(user=user)
    return codes


def _clean(token: str) -> str:
    return "".join(str(token).split())[:16]


def locked_until(user: AbstractBaseUser) -> dt.datetime | None:
    """While too many second-factor codes have failed recently, when the lock ends."""
    limit = settings.CENCOMM_OTP_FAILURE_LIMIT
    for device in [*TOTPDevice.objects.filter(user=user), *StaticDevice.objects.filter(user=user)]:
        if device.throttling_failure_count >= limit and device.throttling_failure_timestamp:
            until = device.throttling_failure_timestamp + LOCKOUT
            if until > timezone.now():
                return until
    return None


def second_factor_verify(*, user: AbstractBaseUser, token: str) -> Device | None:
    """The device that accepts ``token`` (a TOTP code or an unused backup code), or None.

    A TOTP code is accepted once (django-otp keeps the last time step used); a backup code is
    deleted when used. Every failure counts towards the lock-out.
    """
    token = _clean(token)
    if not token or locked_until(user) is not None:
        return None
    devices: list[Device] = []
    totp = confirmed_totp_device(user)
    if totp is not None:
        devices.append(totp)
    if not token.isdigit():  # backup codes are letters and digits; TOTP codes only digits
        devices = list(StaticDevice.objects.filter(user=user, confirmed=True)) + devices
    for device in devices:
        with transaction.atomic():
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            allowed, _ = locked.verify_is_allowed()
            if allowed and locked.verify_token(token):
                return locked
    metrics.SIGNIN_FAILURES.labels("second").inc()
    if locked_until(user) is not None:  # this failure started the lock-out
        metrics.SIGNIN_LOCKOUTS.labels("second").inc()
    return None
