"""Pages that set up the schedule: series, one-off changes, holidays, rooms, types."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
