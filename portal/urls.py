from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("today/", views.self_report, name="self_report"),
    path("trends/", views.trends, name="trends"),
    path("export/", views.export, name="export"),
    path("export/my-record.zip", views.export_zip, name="export_zip"),
    path("export/<str:filename>", views.export_file, name="export_file"),
    path("invite/<int:client_id>/", views.invite, name="invite"),
    path("welcome/<uidb64>/<token>/", views.accept, name="accept"),
]
