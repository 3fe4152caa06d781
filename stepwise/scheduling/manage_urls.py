"""Pages that set up the schedule: series, one-off changes, holidays, rooms, types."""

from django.urls import URLPattern, path

from stepwise.scheduling import manage_views

urlpatterns: list[URLPattern] = [
    path("programs/<uuid:program_id>/series/new/", manage_views.series_new, name="series_new"),
    path("series/<uuid:series_id>/", manage_views.series_page, name="series"),
    path("series/<uuid:series_id>/end/", manage_views.series_end_view, name="series_end"),
    path(
        "sessions/<uuid:session_id>/cancel/",
        manage_views.session_cancel_view,
        name="session_cancel",
    ),
    path("sessions/<uuid:session_id>/move/", manage_views.session_move_view, name="session_move"),
    path("closures/", manage_views.closures, name="closures"),
    path("rooms/", manage_views.rooms, name="rooms"),
    path("session-types/", manage_views.session_types, name="session_types"),
    path("settings/", manage_views.scheduling_settings, name="settings"),
]
