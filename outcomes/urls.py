from django.urls import URLPattern

app_name = "outcomes"

# Mounted at /admin/outcomes/ (practice/urls.py), ahead of the admin's own URLs.
urlpatterns: list[URLPattern] = []
