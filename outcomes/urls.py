from django.urls import path

from outcomes import views

app_name = "outcomes"

# Mounted at /admin/outcomes/ (practice/urls.py), ahead of the admin's own URLs.
urlpatterns = [
    path("", views.report, name="report"),
    path("summary.csv", views.summary_csv, name="summary_csv"),
    path("courses.csv", views.courses_csv, name="courses_csv"),
    path("techniques.csv", views.techniques_csv, name="techniques_csv"),
    path("therapists.csv", views.therapists_csv, name="therapists_csv"),
]
