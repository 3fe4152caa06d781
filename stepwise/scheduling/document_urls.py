"""Printable and subscribable forms of the schedule: sign-in sheets, calendar feeds."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
