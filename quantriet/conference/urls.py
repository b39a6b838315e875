from django.urls import path

from quantriet.conference import board_views, checkin_views, document_views, views

app_name = "conference"
urlpatterns = [
    path("<slug:slug>/points/", views.points, name="points"),
    path("<slug:slug>/points/generate/", views.generate, name="generate"),
    path("<slug:slug>/points/assign/", views.assign, name="assign"),
    path("<slug:slug>/points/move/", views.move, name="move"),
    path("<slug:slug>/points/move-unit/", views.bulk_move, name="bulk_move"),
    path("<slug:slug>/points/import/", views.import_points, name="import_points"),
    path("<slug:slug>/points/template.xlsx", views.points_template, name="points_template"),
    path("<slug:slug>/points/<str:code>/", views.point_detail, name="point"),
    path("<slug:slug>/points/<str:code>/edit/", views.edit_point, name="edit_point"),
    path("<slug:slug>/points/<str:code>/coordinators/", views.add_coordinator,
         name="add_coordinator"),
    path("<slug:slug>/points/<str:code>/lock/", views.lock, name="lock"),
    path("<slug:slug>/points/<str:code>/roster.xlsx", document_views.roster_xlsx,
         name="roster_xlsx"),
    path("<slug:slug>/points/<str:code>/roster.pdf", document_views.roster_pdf,
         name="roster_pdf"),
    path("<slug:slug>/points/<str:code>/invitations.pdf", document_views.invitations_pdf,
         name="invitations_pdf"),
    path("<slug:slug>/points/<str:code>/invitations.zip", document_views.invitations_zip,
         name="invitations_zip"),
    path("<slug:slug>/participants/<int:pk>/invitation.pdf",
         document_views.participant_invitation, name="participant_invitation"),
    path("<slug:slug>/points/<str:code>/checkin/", checkin_views.checkin_page, name="checkin"),
    path("<slug:slug>/points/<str:code>/checkin/search/", checkin_views.search,
         name="checkin_search"),
    path("<slug:slug>/points/<str:code>/checkin/scan/", checkin_views.scan, name="checkin_scan"),
    path("<slug:slug>/points/<str:code>/checkin/sync/", checkin_views.sync, name="checkin_sync"),
    path("<slug:slug>/board/", board_views.board, name="board"),
    path("<slug:slug>/board/data/", board_views.board_data, name="board_data"),
]
