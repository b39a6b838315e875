from django.urls import path

from quantriet.similarity import views

app_name = "similarity"
urlpatterns = [
    path("<slug:slug>/", views.flags, name="flags"),
    path("<slug:slug>/flag/<int:pk>/", views.flag_detail, name="flag"),
    path("<slug:slug>/sources/", views.sources, name="sources"),
    path("<slug:slug>/sources/<int:pk>/delete/", views.delete_source, name="delete_source"),
]
