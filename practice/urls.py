from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from practice import views
from practice.sign_in import SignInForm

admin.site.site_header = "Practice administration"
admin.site.site_title = "Practice administration"
admin.site.index_title = "Run the practice"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password_reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password_reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/", include("practice.account_urls")),
    # Owner reports inside the admin, ahead of the admin's catch-all app URLs.
    path("admin/outcomes/", include("outcomes.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("clients/", include("workspace.urls")),
    path("", include("sessions.urls")),
    path("", include("sessions.trend_urls")),
    path("portal/", include("portal.urls")),
]
