from django.urls import include, path

from stepwise.scheduling import outreach_views, patient_views, views

app_name = "scheduling"
urlpatterns = [
    path("", views.my_day, name="home"),
    path("day/", views.facilitator_day_view, name="day"),
    path("programs/<uuid:program_id>/week/", views.program_week_view, name="program_week"),
    path("programs/<uuid:program_id>/", views.program_dashboard_view, name="program"),
    path("sessions/<uuid:session_id>/", views.session_view, name="session"),
    path("patients/<uuid:public_id>/", views.patient_schedule_view, name="patient"),
    path("patients/<uuid:public_id>/outreach/", outreach_views.outreach_view, name="outreach"),
    path(
        "patients/<uuid:public_id>/appointments/new/",
        patient_views.appointment_new,
        name="appointment_new",
    ),
    path("patients/<uuid:public_id>/enrollments/", patient_views.enroll, name="enroll"),
    path(
        "patients/<uuid:public_id>/enrollments/<uuid:enrollment_id>/end/",
        patient_views.enrollment_leave,
        name="enrollment_end",
    ),
    path("", include("stepwise.scheduling.manage_urls")),
    path("", include("stepwise.scheduling.document_urls")),
]
