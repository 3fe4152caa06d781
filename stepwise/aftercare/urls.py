from django.urls import path

from stepwise.aftercare import checkin_views, settings_views, views

app_name = "aftercare"
urlpatterns = [
    path("settings/", settings_views.settings_view, name="settings"),
    path("patients/<uuid:public_id>/", views.plan_view, name="plan"),
    path("patients/<uuid:public_id>/start/", views.plan_start_view, name="start"),
    path("patients/<uuid:public_id>/sections/<str:section>/", views.section_edit, name="section"),
    path("patients/<uuid:public_id>/review/", views.review_view, name="review"),
    path("patients/<uuid:public_id>/end/", views.end_view, name="end"),
    path("patients/<uuid:public_id>/restart/", views.restart_view, name="restart"),
    path("patients/<uuid:public_id>/history/", views.history_view, name="history"),
    path("patients/<uuid:public_id>/print/", views.print_view, name="print"),
    path("patients/<uuid:public_id>/checkins/", checkin_views.checkins_view, name="checkins"),
    path("patients/<uuid:public_id>/checkins/record/", checkin_views.record_view, name="record"),
    path(
        "patients/<uuid:public_id>/checkins/<uuid:checkin_id>/",
        checkin_views.checkin_view,
        name="checkin",
    ),
]
