from django.urls import path

from workspace import views

app_name = "clients"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/phases/start/", views.phase_start, name="phase_start"),
    path("<int:pk>/phases/end/", views.phase_end, name="phase_end"),
]
