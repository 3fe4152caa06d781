from django.urls import path

from stepwise.care import roster_views, views

app_name = "care"
urlpatterns = [
    path("", views.census_view, name="census"),
    path("patients/", views.patient_list, name="patient_list"),
    path("worklist/", views.worklist, name="worklist"),
    path("programs/<uuid:program_id>/staff/", roster_views.program_staff, name="program_staff"),
    path("patients/<uuid:public_id>/", views.chart, name="chart"),
    path("patients/<uuid:public_id>/admit/", views.admit, name="admit"),
    path(
        "patients/<uuid:public_id>/episodes/<uuid:episode_id>/transition/",
        views.transition,
        name="transition",
    ),
    path(
        "patients/<uuid:public_id>/episodes/<uuid:episode_id>/planned-end/",
        views.planned_end,
        name="planned_end",
    ),
    path(
        "patients/<uuid:public_id>/episodes/<uuid:episode_id>/discharge/",
        views.discharge,
        name="discharge",
    ),
]
