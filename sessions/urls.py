from django.urls import path

from sessions import views

app_name = "sessions"

urlpatterns = [
    path("clients/<int:client_id>/sessions/new/", views.new, name="new"),
    path("sessions/<int:session_id>/", views.detail, name="detail"),
    path("sessions/<int:session_id>/edit/", views.edit, name="edit"),
    path("sessions/<int:session_id>/sign/", views.sign, name="sign"),
    path("sessions/<int:session_id>/amend/", views.amend, name="amend"),
]
