from django.urls import path

from clients import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("today/", portal_views.self_report, name="self_report"),
    path("trends/", portal_views.trends, name="trends"),
    path("export/", portal_views.export, name="export"),
    path("export/my-record.zip", portal_views.export_zip, name="export_zip"),
    path("export/<str:filename>", portal_views.export_file, name="export_file"),
    path("invite/<int:client_id>/", portal_views.invite, name="invite"),
    path("welcome/<uidb64>/<token>/", portal_views.accept, name="accept"),
]
