"""Issue a two-factor enrolment link for a staff account from the command line, and print it.

How a new practice enrols its first owner: with two-factor sign-in required, nobody can open the admin
(where owners issue links) before they have an authenticator, and nobody on the staff can set one up
without a link. An operator with access to the server runs::

    manage.py issue_enrolment_link USERNAME --base-url https://practice.example.org

and hands the link to that person. The link is single-use, valid for 72 hours, voids any earlier link
for the same account, and the issue is audited (no actor; the actor name reads "manage.py").
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from practice import audit
from practice.two_factor import ENROLMENT, enrolment_path, enrolment_target_refusal, two_factor_enrolment_issue

# The actor name of the audit event: the person at the server's command line is not a practice account.
COMMAND_ACTOR = "manage.py"


class Command(BaseCommand):
    help = "Issue a single-use two-factor enrolment link for a staff account (the first owner, say) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The account the link is for: an owner, therapist or superuser.")
        parser.add_argument(
            "--base-url",
            default="",
            help="The practice's address, e.g. https://practice.example.org; without it the link is printed as a path.",
        )

    def handle(self, *args: Any, username: str, base_url: str = "", **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no account named {username!r}.")
        refusal = enrolment_target_refusal(user)
        if refusal:
            raise CommandError(refusal)
        enrolment, token = two_factor_enrolment_issue(user=user, issued_by=None)
        audit.record(None, audit.CREATE, object_type=ENROLMENT, object_id=user.pk, username=COMMAND_ACTOR)
        link = f"{base_url.rstrip('/')}{enrolment_path(token)}"
        until = timezone.localtime(enrolment.expires_at)
        self.stdout.write(
            f"Two-factor enrolment link for {user.get_username()} (works once, until {until:%Y-%m-%d %H:%M %Z}):"
        )
        self.stdout.write(link)
        if not base_url:
            self.stdout.write("Open it on the practice's own address, signed in as that person.")
