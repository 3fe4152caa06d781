from django.urls import path

from stepwise.plans import views

app_name = "plans"
urlpatterns = [
    path("settings/", views.plan_settings, name="settings"),
    path("patients/<uuid:public_id>/", views.plan, name="plan"),
    path("patients/<uuid:public_id>/start/", views.start, name="start"),
    path("patients/<uuid:public_id>/versions/<uuid:version_id>/", views.version, name="version"),
    path(
        "patients/<uuid:public_id>/versions/<uuid:version_id>/patient-signature/",
        views.patient_signature,
        name="patient_signature",
    ),
    path("patients/<uuid:public_id>/draft/", views.draft, name="draft"),
    path("patients/<uuid:public_id>/draft/details/", views.details, name="details"),
    path("patients/<uuid:public_id>/draft/<slug:kind>/new/", views.item_new, name="item_new"),
    path(
        "patients/<uuid:public_id>/draft/<slug:kind>/<uuid:item_key>/",
        views.item_edit,
        name="item_edit",
    ),
    path(
        "patients/<uuid:public_id>/draft/items/<uuid:item_key>/remove/",
        views.item_remove,
        name="item_remove",
    ),
    path("patients/<uuid:public_id>/sign/", views.sign, name="sign"),
    path("patients/<uuid:public_id>/review/", views.start_review, name="review"),
]
