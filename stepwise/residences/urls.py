"""Sober living pages, under /residences/."""

from django.urls import URLPattern, path

from stepwise.residences import curfew_views, residency_views, views

app_name = "residences"
urlpatterns: list[URLPattern] = [
    path("", views.residence_list, name="list"),
    path("new/", views.residence_new, name="residence_new"),
    path("move-in/", residency_views.move_in, name="move_in"),
    path("<uuid:residence_id>/", views.residence_page, name="residence"),
    path("<uuid:residence_id>/edit/", views.residence_edit, name="residence_edit"),
    path("<uuid:residence_id>/retire/", views.residence_retire_view, name="residence_retire"),
    path("<uuid:residence_id>/rules/", views.rules_edit, name="rules"),
    path("<uuid:residence_id>/houses/new/", views.house_new, name="house_new"),
    path("houses/<uuid:house_id>/", views.house_page, name="house"),
    path("houses/<uuid:house_id>/edit/", views.house_edit, name="house_edit"),
    path("houses/<uuid:house_id>/retire/", views.house_retire_view, name="house_retire"),
    path("houses/<uuid:house_id>/beds/", views.bed_new, name="bed_new"),
    path("houses/<uuid:house_id>/curfew/", curfew_views.curfew_night_view, name="curfew"),
    path("beds/<uuid:bed_id>/", views.bed_edit, name="bed_edit"),
    path("residencies/<uuid:residency_id>/", residency_views.residency_view, name="residency"),
    path("residencies/<uuid:residency_id>/move-out/", residency_views.move_out, name="move_out"),
    path("residencies/<uuid:residency_id>/move/", residency_views.move_bed, name="move_bed"),
    path(
        "residencies/<uuid:residency_id>/rules/",
        residency_views.rules_accept_view,
        name="rules_accept",
    ),
    path("residencies/<uuid:residency_id>/curfew/", curfew_views.curfew_mark, name="curfew_mark"),
    path(
        "patients/<uuid:patient_id>/",
        residency_views.patient_residences_view,
        name="patient",
    ),
]
