from django.urls import path

from stepwise.intake import board_views, flow_views, metrics_views, settings_views, views

app_name = "intake"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("calls/new/", views.call_new, name="call_new"),
    path("calls/<uuid:inquiry_id>/", views.call, name="call"),
    path("calls/<uuid:inquiry_id>/details/", views.call_details, name="call_details"),
    path("calls/<uuid:inquiry_id>/crisis-note/", views.crisis_note, name="crisis_note"),
    path("calls/<uuid:inquiry_id>/lead-review/", views.lead_review_view, name="lead_review"),
    path("calls/<uuid:inquiry_id>/conclude/", views.conclude, name="conclude"),
    path("calls/<uuid:inquiry_id>/follow-up/", views.follow_up, name="follow_up"),
    path("calls/<uuid:inquiry_id>/screen/", flow_views.screen, name="screen"),
    path("calls/<uuid:inquiry_id>/hold/", flow_views.hold, name="hold"),
    path("calls/<uuid:inquiry_id>/give-back/", flow_views.give_back, name="give_back"),
    path("calls/<uuid:inquiry_id>/waitlist/", flow_views.waitlist_join, name="waitlist_join"),
    path("calls/<uuid:inquiry_id>/admit/", flow_views.admit, name="admit"),
    path("waitlist/", flow_views.waitlist_page, name="waitlist"),
    path("waitlist/<uuid:entry_id>/leave/", flow_views.waitlist_exit, name="waitlist_leave"),
    path("beds/", board_views.beds, name="beds"),
    path("beds/lapsed/", board_views.lapsed_close, name="lapsed_close"),
    path("metrics/", metrics_views.metrics_page, name="metrics"),
    path("settings/", settings_views.intake_settings, name="settings"),
    path(
        "capacity/<slug:slug>/<str:key>.json",
        board_views.capacity_feed,
        name="capacity_feed",
    ),
]
