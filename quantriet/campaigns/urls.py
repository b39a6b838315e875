from django.urls import path

from quantriet.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("mine/", views.mine, name="mine"),  # before <slug>: "mine" is a reserved short name
    path("<slug:slug>/", views.campaign_detail, name="detail"),
    path("<slug:slug>/status/", views.campaign_status, name="status"),
    path("<slug:slug>/edit/", views.campaign_edit, name="edit"),
    path("<slug:slug>/topics/add/", views.topic_add, name="topic_add"),
    path("<slug:slug>/topics/<int:pk>/move/", views.topic_move, name="topic_move"),
    path("<slug:slug>/topics/<int:pk>/materials/", views.material_add, name="material_add"),
    path("<slug:slug>/materials/<int:pk>/delete/", views.material_delete,
         name="material_delete"),
    path("<slug:slug>/rules/add/", views.rule_edit, name="rule_add"),
    path("<slug:slug>/rules/preset/", views.rules_preset, name="rules_preset"),
    path("<slug:slug>/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("<slug:slug>/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("<slug:slug>/roster/preview/", views.roster_preview, name="roster_preview"),
    path("<slug:slug>/roster/apply/", views.roster_apply, name="roster_apply"),
    path("<slug:slug>/roster/add/", views.participant_add, name="participant_add"),
    path("<slug:slug>/routing/", views.routing_set, name="routing_set"),
    path("<slug:slug>/routing/reroute/", views.routing_reroute, name="routing_reroute"),
    path("<slug:slug>/p/<int:pk>/", views.participant_detail, name="participant"),
    path("<slug:slug>/p/<int:pk>/remove/", views.participant_remove,
         name="participant_remove"),
    path("<slug:slug>/p/<int:pk>/substitute/", views.participant_substitute,
         name="participant_substitute"),
    path("<slug:slug>/p/<int:pk>/restore/", views.participant_restore,
         name="participant_restore"),
]
