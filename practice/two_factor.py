"""Two-factor sign-in pages: set up an authenticator app (TOTP), confirm a code at sign-in, recovery codes.

django-otp keeps the devices and marks the session verified; TwoFactorRequiredMiddleware sends
people here until they are. Secrets and codes are shown only to their owner, on pages that are
never cached (NoStoreWhenSignedInMiddleware).

Staff who must use two-factor sign-in (``two_factor_required``) and have no second factor yet cannot set
one up with their password alone: whoever learnt the password could otherwise choose the device. They
need an enrolment link that an owner issued for them (the user admin's "Issue a two-factor enrolment
link", or ``manage.py issue_enrolment_link`` for the first owner): single-use, valid for 72 hours,
voided by the next link issued for the same person, and stored only as a hash (TwoFactorEnrolment).
Opening it while signed in as that person lets this session set up the authenticator; setting it up
spends it. Issues, refusals and uses are audited. Clients turn two-factor on by themselves, as before.
"""

import datetime as dt
import hashlib
import secrets
from base64 import b32encode
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice import audit
from practice.models import TwoFactorEnrolment
from practice.roles import is_owner, is_staff_member
from practice.security import HAS_DEVICE_SESSION_KEY, two_factor_required


def _verified(user: object) -> bool:
    """Whether this sign-in passed its second factor (``is_verified`` is added to the user by OTPMiddleware)."""
    return bool(getattr(user, "is_verified", lambda: False)())


RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"

ENROLMENT_LIFETIME = dt.timedelta(hours=72)
# The enrolment link opened in this session (its id): the token itself never stays in the session.
ENROLMENT_SESSION_KEY = "practice_2fa_enrolment"
# Object types in the audit log: the person's second factor, and an enrolment link for them.
TWO_FACTOR = "two_factor"
ENROLMENT = "two_factor_enrolment"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not code.isalnum():
            raise forms.ValidationError("Enter the code with letters and digits only.")
        return code


class SetupForm(CodeForm):
    code = forms.CharField(
        label="Code from your app",
        max_length=6,
        help_text="Enter the 6-digit code your app shows now, to confirm it is set up.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    context = {
        "has_authenticator": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_codes_left": static.token_set.count() if static else 0,
        "required": two_factor_required(user),
        "verified": _verified(user),
        "needs_link": enrolment_needed(user) and _session_enrolment(request)[0] is None,
    }
    return render(request, "practice/two_factor/overview.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the second factor of someone who has signed in with their password."""
    user = request.user
    next_url = _next_url(request)
    if not user_has_device(user, confirmed=True):
        # The device may have been removed (an owner resetting a lost phone): refresh the session's note.
        request.session[HAS_DEVICE_SESSION_KEY] = False
        if not two_factor_required(user):
            return redirect(next_url)
        return _redirect_keeping_query("two_factor_setup", request)
    if _verified(user):
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, refusal = _match(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            audit.record(request, audit.LOGIN, object_type="two_factor")
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"You used a recovery code; {left} left. Set up new ones if you run low.")
            return redirect(next_url)
        audit.record(request, audit.LOGIN_FAILED, object_type="two_factor", outcome=audit.FAILED)
        form.add_error("code", refusal)
    return render(request, "practice/two_factor/verify.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Connect an authenticator app. Replacing one needs the current second factor first; staff who have
    none yet need an enrolment link opened in this session."""
    user = request.user
    has_device = user_has_device(user, confirmed=True)
    if has_device and not _verified(user):
        return _redirect_keeping_query("two_factor_verify", request)
    enrolment = None
    if not has_device and two_factor_required(user):
        enrolment, refusal = _session_enrolment(request)
        if enrolment is None:
            return _enrolment_link_needed(request, refusal)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = _confirm(request, device, enrolment)
            if codes is None:
                return _enrolment_link_needed(
                    request, "Your enrolment link was used, replaced or expired before you finished."
                )
            messages.success(request, "Two-factor sign-in is on. Keep your recovery codes somewhere safe.")
            return render(
                request, "practice/two_factor/recovery_codes.html", {"codes": codes, "next": _next_url(request)}
            )
        form.add_error("code", "That code does not match. Check the time on your phone and try the newest code.")
    uri = device.config_url
    context = {
        "form": form,
        "secret": _spaced(_base32(device)),
        "uri": uri,
        "qr_svg": mark_safe(segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")),
        "next": _next_url(request),
    }
    return render(request, "practice/two_factor/setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Make a fresh set of recovery codes (the old ones stop working)."""
    user = request.user
    if not _verified(user):
        return redirect(f"{resolve_url('two_factor_verify')}?{urlencode({'next': request.path})}")
    codes = None
    if request.method == "POST":
        codes = _new_recovery_codes(user)
    return render(request, "practice/two_factor/recovery_codes.html", {"codes": codes, "next": resolve_url("home")})


@login_required
@require_http_methods(["GET"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Open an enrolment link: the person it was issued for may then set up an authenticator in this session."""
    enrolment = TwoFactorEnrolment.objects.filter(token_hash=enrolment_token_hash(token)).first()
    refusal = _link_refusal(enrolment, request.user)
    if refusal or enrolment is None:
        target = enrolment.user_id if enrolment is not None else None
        audit.record(request, audit.ACCESS_DENIED, object_type=ENROLMENT, object_id=target, outcome=audit.DENIED)
        return render(request, "practice/two_factor/enrolment_refused.html", {"reason": refusal}, status=403)
    request.session[ENROLMENT_SESSION_KEY] = enrolment.pk
    # On to an address without the token, so that it stays out of the browser's history from here on.
    return redirect("two_factor_setup")


# --- enrolment links


@dataclass(frozen=True)
class IssuedLink:
    user: Any
    url: str
    expires_at: dt.datetime


def enrolment_needed(user: Any) -> bool:
    """Whether ``user`` can set up an authenticator only through an enrolment link: staff who must use
    two-factor sign-in and have no second factor yet."""
    return two_factor_required(user) and not user_has_device(user, confirmed=True)


def enrolment_target_refusal(user: Any) -> str:
    """Why no enrolment link can be issued for ``user``, or "" when one can."""
    name = user.get_username()
    if not user.is_active:
        return f"{name}'s account is not active."
    if not (user.is_staff or user.is_superuser or is_staff_member(user)):
        return f"{name} is not on the practice's staff: clients turn on two-factor sign-in themselves."
    return ""


def enrolment_issue_refusal(*, issuer: Any, user: Any) -> str:
    """Why ``issuer`` may not issue an enrolment link for ``user``, or "" when they may."""
    if not is_owner(issuer):
        return "Only the practice owner issues two-factor enrolment links."
    if user.is_superuser and not issuer.is_superuser:
        return f"{user.get_username()} is a superuser: only a superuser issues their enrolment link."
    return enrolment_target_refusal(user)


def two_factor_enrolment_issue(*, user: Any, issued_by: Any = None) -> tuple[TwoFactorEnrolment, str]:
    """A new enrolment link for ``user``: its record and its token, which is stored only as a hash.

    The person's open link, if any, stops working. ``issued_by`` is empty when an operator runs
    ``manage.py issue_enrolment_link``.
    """
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # The account's row lock queues two owners issuing at once (the database allows one open link).
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
        TwoFactorEnrolment.objects.open().filter(user=user).update(voided_at=now)
        enrolment = TwoFactorEnrolment(
            user=user,
            token_hash=enrolment_token_hash(token),
            created_by=issued_by,
            created_at=now,
            expires_at=now + ENROLMENT_LIFETIME,
        )
        enrolment.full_clean()
        enrolment.save(force_insert=True)
    return enrolment, token


def enrolment_links_issue(request: HttpRequest, users: Iterable[Any]) -> tuple[list[IssuedLink], list[str]]:
    """Issue a link for each of ``users`` that the signed-in person may enrol, and audit each issue.

    Returns the links (full addresses, to show once) and the reasons the others were left out.
    """
    issued, skipped = [], []
    for user in users:
        refusal = enrolment_issue_refusal(issuer=request.user, user=user)
        if refusal:
            audit.record(request, audit.ACCESS_DENIED, object_type=ENROLMENT, object_id=user.pk, outcome=audit.DENIED)
            skipped.append(refusal)
            continue
        enrolment, token = two_factor_enrolment_issue(user=user, issued_by=request.user)
        audit.record(request, audit.CREATE, object_type=ENROLMENT, object_id=user.pk)
        issued.append(IssuedLink(user, request.build_absolute_uri(enrolment_path(token)), enrolment.expires_at))
    return issued, skipped


def enrolment_path(token: str) -> str:
    return reverse("two_factor_enrol", args=[token])


def enrolment_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link_refusal(enrolment: TwoFactorEnrolment | None, user: Any) -> str:
    """Why ``user`` cannot use ``enrolment`` now, in words for them; "" when they can."""
    ask = "Ask the practice owner for a new one."
    if enrolment is None:
        return f"This enrolment link is not valid: check that you opened all of it. {ask}"
    if enrolment.user_id != user.pk:
        return "This enrolment link was issued for another account. Sign out, then sign in as the person it is for."
    if enrolment.used_at is not None:
        return f"This enrolment link has been used already: each link sets up one authenticator. {ask}"
    if enrolment.voided_at is not None:
        return "This enrolment link was replaced by a newer one. Use the newest link the practice owner gave you."
    if enrolment.expires_at <= timezone.now():
        return f"This enrolment link expired on {timezone.localtime(enrolment.expires_at):%d %B %Y at %H:%M}. {ask}"
    return ""


def _session_enrolment(request: HttpRequest) -> tuple[TwoFactorEnrolment | None, str]:
    """The enrolment link opened in this session while it still holds; else None and why (if there was one)."""
    pk = request.session.get(ENROLMENT_SESSION_KEY)
    if pk is None:
        return None, ""
    enrolment = TwoFactorEnrolment.objects.filter(pk=pk).first()
    refusal = _link_refusal(enrolment, request.user)
    if refusal:
        del request.session[ENROLMENT_SESSION_KEY]
        return None, refusal
    return enrolment, ""


def _enrolment_link_needed(request: HttpRequest, reason: str = "") -> HttpResponse:
    audit.record(request, audit.ACCESS_DENIED, object_type=TWO_FACTOR, object_id=request.user.pk, outcome=audit.DENIED)
    return render(request, "practice/two_factor/enrolment_needed.html", {"reason": reason}, status=403)


def _confirm(request: HttpRequest, device: TOTPDevice, enrolment: TwoFactorEnrolment | None) -> list[str] | None:
    """Turn the device on and return new recovery codes; None if ``enrolment`` can no longer be spent."""
    user = device.user
    now = timezone.now()
    with transaction.atomic():
        # A conditional update: of two sessions racing with one link, only one spends it.
        if enrolment is not None and not _spend(enrolment, user, now):
            return None
        # One authenticator per person: a new one replaces the old.
        others = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk)
        replaced = others.filter(confirmed=True).exists()
        others.delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
    request.session.pop(ENROLMENT_SESSION_KEY, None)
    otp_login(request, device)
    request.session[HAS_DEVICE_SESSION_KEY] = True
    if enrolment is not None:
        audit.record(request, audit.CHANGE, object_type=ENROLMENT, object_id=user.pk)
    audit.record(request, audit.CHANGE if replaced else audit.CREATE, object_type=TWO_FACTOR, object_id=user.pk)
    return codes


def _spend(enrolment: TwoFactorEnrolment, user: Any, now: dt.datetime) -> bool:
    usable = TwoFactorEnrolment.objects.usable(now).filter(pk=enrolment.pk, user=user)
    return usable.update(used_at=now) == 1


def _new_recovery_codes(user) -> list[str]:
    with transaction.atomic():
        static, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": RECOVERY_NAME})
        static.confirmed = True
        static.save()
        static.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def _match(user, code: str) -> tuple[Device | None, str]:
    """The device that accepts ``code``, or None and the reason to show."""
    # Six digits are an app code; anything else can only be a recovery code.
    wanted = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if not isinstance(device, wanted):
                continue
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                return None, "Too many wrong codes in a row. Wait a minute, then try the newest code."
            if device.verify_token(code):
                return device, ""
    return None, "That code is not right. Try the newest code from your app, or a recovery code."


def _redirect_keeping_query(name: str, request: HttpRequest) -> HttpResponse:
    query = request.GET.urlencode()
    return redirect(f"{resolve_url(name)}?{query}" if query else name)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def _spaced(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
