from django.urls import path

from stepwise.withdrawal import views

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
]
