from django.urls import path

from quantriet.plans import views

app_name = "plans"

urlpatterns = [
    path("<slug:slug>/", views.index, name="index"),
    path("<slug:slug>/settings/", views.plan_settings, name="settings"),
    path("<slug:slug>/u/<str:code>/", views.unit_plan, name="unit"),
    path("<slug:slug>/u/<str:code>/start", views.start, name="start"),
    path("<slug:slug>/u/<str:code>/summary", views.summary, name="summary"),
    path("<slug:slug>/u/<str:code>/measures/add", views.add_measure, name="add_measure"),
    path("<slug:slug>/u/<str:code>/measures/<int:pk>/edit", views.edit_measure,
         name="edit_measure"),
    path("<slug:slug>/u/<str:code>/measures/<int:pk>/delete", views.delete_measure,
         name="delete_measure"),
    path("<slug:slug>/u/<str:code>/measures/<int:pk>/follow-up", views.follow_up,
         name="follow_up"),
    path("<slug:slug>/u/<str:code>/attachments/add", views.attach, name="attach"),
    path("<slug:slug>/u/<str:code>/attachments/<int:pk>", views.attachment, name="attachment"),
    path("<slug:slug>/u/<str:code>/attachments/<int:pk>/delete", views.detach, name="detach"),
    path("<slug:slug>/u/<str:code>/submit", views.submit, name="submit"),
    path("<slug:slug>/u/<str:code>/review", views.review, name="review"),
]
