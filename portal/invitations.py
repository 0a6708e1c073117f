"""Inviting a client to the portal: a new account linked to the client and a one-time set-password link.

The link carries a token from ``InvitationTokenGenerator``. Its own ``key_salt`` means an invitation token is
never accepted as a password-reset token and the other way round. The token is bound to one user and to the
state of their password, so it stops working once the password is set, and it expires after
``PORTAL_INVITATION_TIMEOUT`` seconds.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.text import slugify

from clients.models import Client
from practice import audit
from practice.roles import is_staff_member

DEFAULT_INVITATION_TIMEOUT = 7 * 24 * 60 * 60


def invitation_timeout() -> int:
    """Seconds an invitation link stays valid (setting ``PORTAL_INVITATION_TIMEOUT``, default 7 days)."""
    return int(getattr(settings, "PORTAL_INVITATION_TIMEOUT", DEFAULT_INVITATION_TIMEOUT))


def invitation_timeout_days() -> int:
    return max(1, round(invitation_timeout() / (24 * 60 * 60)))


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "clients.invitations.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        # The linked client is part of the hash: re-linking the account elsewhere voids old links.
        client = getattr(user, "client_profile", None)
        client_id = client.pk if client is not None else ""
        return f"{super()._make_hash_value(user, timestamp)}client{client_id}"

    def check_token(self, user, token: str | None) -> bool:
        # Django's check uses PASSWORD_RESET_TIMEOUT; invitations have their own expiry.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token):
                break
        else:
            return False
        return 0 <= self._num_seconds(self._now()) - timestamp <= invitation_timeout()


invitation_token_generator = InvitationTokenGenerator()


def invitation_path(user, token: str | None = None) -> str:
    """The site-relative address of the set-password page for ``user`` (a fresh token unless given)."""
    token = token or invitation_token_generator.make_token(user)
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("portal:accept", kwargs={"uidb64": uidb64, "token": token})


def may_accept_invitation(user) -> bool:
    """Only an active client account, never a therapist's or owner's, can be set up through an invitation."""
    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and getattr(user, "client_profile", None) is not None
        and not is_staff_member(user)
    )


def portal_username(client: Client) -> str:
    """A free username the client will recognise: their e-mail address, or their name with a number."""
    email = client.email.strip().lower()
    max_length = User._meta.get_field("username").max_length
    assert max_length is not None  # the username is a CharField, which always has one
    try:
        UnicodeUsernameValidator()(email)
        fits = len(email) <= max_length
    except ValidationError:
        fits = False
    if fits and not User.objects.filter(username__iexact=email).exists():
        return email
    base = ".".join(part for part in (slugify(client.first_name), slugify(client.last_name)) if part) or "client"
    base = base[: max_length - 6]
    candidate, number = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _pending_invitation(user) -> bool:
    """An account made by an earlier invitation whose password was never chosen."""
    return not user.has_usable_password() and user.last_login is None and may_accept_invitation(user)


def portal_invitation_possible(client: Client) -> bool:
    """Whether "Invite to portal" can be offered: an active client with an e-mail address and no account
    yet, or one whose earlier invitation was never taken up (sending again voids the old link)."""
    if client.is_archived or not client.email.strip():
        return False
    return client.user is None or _pending_invitation(client.user)


def portal_invitation_send(*, client: Client, invited_by, site_url: str) -> User:
    """Create the client's portal account (or renew a pending invitation) and e-mail the set-password link.

    ``site_url`` is the scheme and host the link starts with, e.g. ``https://practice.example``.
    Raises ``ValidationError`` with a message for the person inviting when the client cannot be invited.
    """
    with transaction.atomic():
        # The row lock makes two clicks on "Invite" create one account, not two.
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.is_archived:
            raise ValidationError("This client is archived. Restore the record before inviting them.")
        if not client.email.strip():
            raise ValidationError("This client has no e-mail address. Add one to the record, then invite them.")
        user = client.user
        if user is not None and not _pending_invitation(user):
            raise ValidationError(
                "This client already has a portal account. If they forgot their password, they can reset it "
                "from the sign-in page."
            )
        if user is None:
            user = User(
                username=portal_username(client),
                email=client.email.strip(),
                first_name=client.first_name[:150],
                last_name=client.last_name[:150],
                is_staff=False,
                is_superuser=False,
            )
            user.set_unusable_password()
            user.save()
            client.user = user
            client.save(update_fields=["user", "updated_at"])
            user.client_profile = client
        else:
            # A fresh random unusable password voids every link sent before this one.
            user.email = client.email.strip()
            user.set_unusable_password()
            user.save(update_fields=["password", "email"])
        # Sent inside the transaction: if the mail cannot go out, no half-made account is left behind.
        _send_invitation(client=client, user=user, invited_by=invited_by, site_url=site_url)
    return user


def _send_invitation(*, client: Client, user, invited_by, site_url: str) -> None:
    context = {
        "client": client,
        "user": user,
        "invited_by_name": (invited_by.get_full_name() or invited_by.get_username()) if invited_by else "",
        "link": site_url.rstrip("/") + invitation_path(user),
        "valid_days": invitation_timeout_days(),
        "expires_on": timezone.localdate() + dt.timedelta(seconds=invitation_timeout()),
    }
    subject = render_to_string("portal/email/invitation_subject.txt", context).strip()
    body = render_to_string("portal/email/invitation.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except OSError as exc:  # smtplib.SMTPException is an OSError
        raise ValidationError(
            "The invitation e-mail could not be sent, so no account was created. Try again later."
        ) from exc


def portal_invitation_send_for(request, client: Client):
    """Invite ``client`` on behalf of the signed-in person and put the outcome in the audit trail.

    Raises ValidationError, recorded as a failed invitation, when the client cannot be invited.
    """
    try:
        user = portal_invitation_send(client=client, invited_by=request.user, site_url=request.build_absolute_uri("/"))
    except ValidationError:
        _record_invitation(request, client, None)
        raise
    _record_invitation(request, client, user)
    return user


def _record_invitation(request, client: Client, user) -> None:
    # The portal account the invitation made (or renewed), or a refusal without one.
    audit.record(
        request,
        audit.CREATE,
        object_type="portal_account",
        object_id=user.pk if user is not None else None,
        client_id=client.pk,
        outcome=audit.OK if user is not None else audit.FAILED,
    )
