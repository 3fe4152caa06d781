from django.urls import path

from stepwise.withdrawal import admission_views, settings_views, views

app_name = "withdrawal"
urlpatterns = [
    path("units/", views.units, name="units"),
    path("units/<uuid:program_id>/", views.board, name="board"),
    path("patients/<uuid:public_id>/flowsheet/", views.flowsheet, name="flowsheet"),
    path("patients/<uuid:public_id>/flowsheet/vitals/", views.vitals_new, name="vitals_new"),
    path(
        "patients/<uuid:public_id>/flowsheet/vitals/<uuid:vitals_id>/entered-in-error/",
        views.vitals_error,
        name="vitals_error",
    ),
    path(
        "patients/<uuid:public_id>/medical-admission/",
        admission_views.admission_detail,
        name="admission",
    ),
    path(
        "patients/<uuid:public_id>/medical-admission/new/",
        admission_views.admission_new,
        name="admission_new",
    ),
    path(
        "patients/<uuid:public_id>/medical-admission/review/",
        admission_views.admission_review,
        name="admission_review",
    ),
    path("settings/withdrawal/", settings_views.withdrawal_settings, name="settings"),
]
