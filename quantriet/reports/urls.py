from django.urls import path

from quantriet.reports import views

app_name = "reports"
urlpatterns = [
    path("<slug:slug>/", views.mine, name="mine"),
    path("<slug:slug>/draft/", views.save_draft, name="draft"),
    path("<slug:slug>/submit/", views.submit, name="submit"),
    path("<slug:slug>/queue/", views.queue, name="queue"),
    path("<slug:slug>/settings/", views.settings_page, name="settings"),
    path("<slug:slug>/reads/", views.reads, name="reads"),
    path("<slug:slug>/r/<int:pk>/", views.report_detail, name="report"),
    path("<slug:slug>/r/<int:pk>/v<int:number>/file/", views.version_file, name="file"),
    path("<slug:slug>/r/<int:pk>/extend/", views.extend, name="extend"),
    path("<slug:slug>/r/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("<slug:slug>/unit/<str:code>/", views.unit_reports, name="unit"),
    path("<slug:slug>/unit/<str:code>/assign/", views.assign_waiting, name="assign_waiting"),
    path("<slug:slug>/unit/<str:code>/reports.zip", views.unit_zip, name="unit_zip"),
]
