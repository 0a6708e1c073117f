from django.urls import path

from sessions import trend_views

app_name = "trends"

urlpatterns = [
    path("clients/<int:client_id>/trends/", trend_views.trend_page, name="page"),
    path("clients/<int:client_id>/trends.csv", trend_views.trend_csv, name="csv"),
]
