from django.urls import path

from quantriet.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("template.xlsx", views.template, name="template"),
    path("export/", views.export, name="export"),
    path("sap-xep-2025-don-vi.csv", views.reform_example, name="reform_example"),
    path("<uuid:pk>/", views.job_detail, name="job"),
    path("<uuid:pk>/status/", views.job_status, name="status"),
    path("<uuid:pk>/mapping/", views.job_mapping, name="mapping"),
    path("<uuid:pk>/apply/", views.job_apply, name="apply"),
    path("<uuid:pk>/recheck/", views.job_recheck, name="recheck"),
    path("<uuid:pk>/retry/", views.job_retry, name="retry"),
    path("<uuid:pk>/errors.xlsx", views.job_errors, name="errors"),
]
