"""Two-factor sign-in pages: set up an authenticator app (TOTP), confirm a code at sign-in, recovery codes.

django-otp keeps the devices and marks the session verified; TwoFactorRequiredMiddleware sends
people here until they are. Secrets and codes are shown only to their owner, on pages that are
never cached (NoStoreWhenSignedInMiddleware).
"""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice import audit
from practice.security import HAS_DEVICE_SESSION_KEY, two_factor_required

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


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
        "verified": user.is_verified(),
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
    if user.is_verified():
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
    """Connect an authenticator app. Replacing one needs the current second factor first."""
    user = request.user
    if user_has_device(user, confirmed=True) and not user.is_verified():
        return _redirect_keeping_query("two_factor_verify", request)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = _confirm(request, device)
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
    if not user.is_verified():
        return redirect(f"{resolve_url('two_factor_verify')}?{urlencode({'next': request.path})}")
    codes = None
    if request.method == "POST":
        codes = _new_recovery_codes(user)
    return render(request, "practice/two_factor/recovery_codes.html", {"codes": codes, "next": resolve_url("home")})


def _confirm(request: HttpRequest, device: TOTPDevice) -> list[str]:
    with transaction.atomic():
        # One authenticator per person: a new one replaces the old.
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(device.user)
    otp_login(request, device)
    request.session[HAS_DEVICE_SESSION_KEY] = True
    audit.record(request, audit.CHANGE, object_type="two_factor", object_id=device.user.pk)
    return codes


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
