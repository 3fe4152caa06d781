from django.urls import path

from stepwise.withdrawal import (
    admission_views,
    last_use_views,
    order_set_views,
    settings_views,
    views,
)

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
        "patients/<uuid:public_id>/flowsheet/last-use/",
        last_use_views.last_use_new,
        name="last_use_new",
    ),
    path(
        "patients/<uuid:public_id>/flowsheet/last-use/<uuid:last_use_id>/entered-in-error/",
        last_use_views.last_use_error,
        name="last_use_error",
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
    path("units/<uuid:program_id>/order-sets/", order_set_views.order_sets, name="order_sets"),
    path(
        "units/<uuid:program_id>/order-sets/new/",
        order_set_views.order_set_new,
        name="order_set_new",
    ),
    path(
        "units/<uuid:program_id>/order-sets/default/",
        order_set_views.default_set,
        name="order_set_default",
    ),
    path(
        "units/<uuid:program_id>/order-sets/<uuid:set_id>/",
        order_set_views.order_set_edit,
        name="order_set_edit",
    ),
    path(
        "units/<uuid:program_id>/order-sets/<uuid:set_id>/retire/",
        order_set_views.order_set_retire_view,
        name="order_set_retire",
    ),
]
