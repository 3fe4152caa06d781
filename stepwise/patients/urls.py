from django.urls import path

from stepwise.patients import views

app_name = "patients"
urlpatterns = [
    path("new/", views.patient_new, name="new"),
    path("<uuid:public_id>/contacts/new/", views.contact_new, name="contact_new"),
    path("<uuid:public_id>/care-team/new/", views.care_team_new, name="care_team_new"),
    path("<uuid:public_id>/emergency-access/", views.break_glass, name="break_glass"),
    path(
        "<uuid:public_id>/alerts/<uuid:alert_id>/resolve/",
        views.alert_resolve_view,
        name="alert_resolve",
    ),
    path(
        "<uuid:public_id>/tasks/<uuid:task_id>/close/",
        views.task_close_view,
        name="task_close",
    ),
    path("emergency-access/", views.break_glass_queue_view, name="break_glass_queue"),
    path(
        "emergency-access/<uuid:access_id>/review/",
        views.break_glass_review_view,
        name="break_glass_review",
    ),
]
