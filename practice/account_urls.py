"""Account pages under /accounts/: two-factor sign-in and password change (sign in and out are in practice.urls)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from practice import two_factor, views

urlpatterns = [
    # The page's script: "Stay signed in", and the copy of a form being typed in (practice.autosave).
    path("session/keep-alive/", views.session_keepalive, name="session_keepalive"),
    path("autosave/", views.form_autosave, name="form_autosave"),
    path("two-factor/", two_factor.overview, name="two_factor"),
    path("two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path("two-factor/setup/", two_factor.setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", two_factor.recovery_codes, name="two_factor_recovery_codes"),
    # Under two-factor/: TwoFactorRequiredMiddleware lets people who still need their second factor open it.
    path("two-factor/enrol/<str:token>/", two_factor.enrol, name="two_factor_enrol"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="practice/password_change.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="practice/password_change_done.html"),
        name="password_change_done",
    ),
]
