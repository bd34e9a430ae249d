"""Pages: sign-in with both factors (password, TOTP or a backup code), enrolment, sign-out, lock-out."""

from __future__ import annotations

import math
from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from cencomm import twofactor
from cencomm.services import session_end


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return "/"
    return target


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes calls this when the password step is locked."""
    return render(
        request, "frontend/locked.html", {"minutes": int(settings.AXES_COOLOFF_TIME * 60)}, status=429
    )


def locked_page(request: HttpRequest) -> HttpResponse:
    return locked_out(request)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        password = request.POST.get("password", "")[:4096]
        user = authenticate(request, username=username, password=password)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None:
            error = gettext("Wrong user name or password.")
        else:
            auth_login(request, user)  # rotates the session key
            target = "/accounts/verify/" if twofactor.has_second_factor(user) else "/accounts/enroll/"
            return HttpResponseRedirect(f"{target}?next={_next_url(request)}")
    return render(
        request,
        "frontend/login.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if not twofactor.has_second_factor(user):
        return redirect("enroll")
    error = None
    locked = twofactor.locked_until(user)
    if request.method == "POST" and locked is None:
        device = twofactor.second_factor_verify(user=user, token=request.POST.get("code", ""))
        if device is not None:
            request.session.cycle_key()
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
        locked = twofactor.locked_until(user)
        error = gettext("That code is wrong or was already used.")
    minutes = None
    if locked is not None:  # like the password lock-out: that it is locked, how long, whom to ask
        minutes = max(1, math.ceil((locked - timezone.now()).total_seconds() / 60))
        error = gettext("Too many wrong codes: this account is locked for %(minutes)s min.") % {
            "minutes": minutes
        }
    return render(
        request,
        "frontend/verify.html",
        {"error": error, "locked": locked, "minutes": minutes, "next": _next_url(request)},
        status=429 if locked else (400 if error else 200),
    )


@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if twofactor.has_second_factor(user):
        return redirect("verify")
    device = twofactor.enrolment_start(user=user)
    error = None
    if request.method == "POST":
        codes = twofactor.enrolment_confirm(user=user, device=device, token=request.POST.get("code", ""))
        if codes is not None:
            device.refresh_from_db()
            request.session.cycle_key()
            otp_login(request, device)
            return render(request, "frontend/backup_codes.html", {"codes": codes, "next": _next_url(request)})
        error = gettext("That code is wrong. Check the time on your phone and try the next code.")
    qr = segno.make(device.config_url, error="m")
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "frontend/enroll.html",
        {
            "qr_svg": qr.svg_inline(scale=5, dark="#111", light="#fff"),
            "secret": secret,
            "error": error,
            "next": _next_url(request),
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        codes = twofactor.backup_codes_regenerate(user=request.user)
        return render(request, "frontend/backup_codes.html", {"codes": codes, "next": "/"})
    return render(request, "frontend/backup_codes.html", {"codes": None})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session_end(user=request.user, session_key=request.session.session_key)  # its sockets close too
    auth_logout(request)
    return redirect(settings.LOGIN_URL)
