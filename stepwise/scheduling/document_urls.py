"""Printable and subscribable forms of the schedule: sign-in sheets, calendar feeds."""

from django.urls import URLPattern, path

from stepwise.scheduling import document_views

urlpatterns: list[URLPattern] = [
    path(
        "sessions/<uuid:session_id>/sign-in.pdf",
        document_views.sign_in_sheet,
        name="sign_in_sheet",
    ),
    path("feed/<str:token>.ics", document_views.feed, name="feed"),
    path("calendar-feed/", document_views.feed_settings, name="feed_settings"),
]
