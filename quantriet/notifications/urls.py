from django.urls import path

from quantriet.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("read/", views.read_all, name="read_all"),
    path("<int:pk>/open/", views.open_one, name="open"),
    path("settings/", views.preferences, name="settings"),
    path("unit/<str:code>/addresses/", views.addresses, name="addresses"),
    path("remind/<slug:slug>/<str:code>/", views.remind, name="remind"),
    path("campaign/<slug:slug>/schedule/", views.schedule, name="schedule"),
]
