from django.urls import path

from quantriet.org import views

app_name = "org"
urlpatterns = [
    path("", views.tree_view, name="tree"),
    path("u/<str:code>/", views.unit_detail, name="unit"),
    path("u/<str:code>/children/", views.unit_children, name="unit_children"),
    path("u/<str:code>/restructure/", views.unit_restructure, name="unit_restructure"),
    path("p/<int:pk>/", views.person_detail, name="person"),
]
