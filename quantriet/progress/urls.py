from django.urls import path

from quantriet.progress import views

app_name = "progress"

urlpatterns = [
    path("<slug:slug>/", views.campaign_progress, name="campaign"),
    path("<slug:slug>/unit/<str:code>/", views.unit_progress, name="unit"),
    path("<slug:slug>/unit/<str:code>/results.<str:fmt>", views.results, name="results"),
    path("<slug:slug>/unit/<str:code>/results.<str:fmt>/queue", views.results_queue,
         name="results_queue"),
    path("results/<int:pk>/", views.job_status, name="job"),
    path("results/<int:pk>/download", views.job_download, name="job_download"),
]
