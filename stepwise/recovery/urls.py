from django.urls import path

from stepwise.recovery import views

app_name = "recovery"
urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("patients/<uuid:public_id>/", views.recovery_page, name="patient"),
    path("patients/<uuid:public_id>/relapses/new/", views.relapse_new, name="relapse_new"),
    path(
        "patients/<uuid:public_id>/relapses/<uuid:event_id>/",
        views.relapse_page,
        name="relapse",
    ),
    path(
        "patients/<uuid:public_id>/relapses/<uuid:event_id>/confirm/",
        views.relapse_confirm,
        name="relapse_confirm",
    ),
    path(
        "patients/<uuid:public_id>/relapses/<uuid:event_id>/dismiss/",
        views.relapse_dismiss,
        name="relapse_dismiss",
    ),
    path(
        "patients/<uuid:public_id>/relapses/<uuid:event_id>/entered-in-error/",
        views.relapse_error,
        name="relapse_error",
    ),
    path(
        "patients/<uuid:public_id>/relapses/<uuid:event_id>/response/<slug:item>/",
        views.response_item,
        name="response_item",
    ),
    path("patients/<uuid:public_id>/screens/new/", views.screen_new, name="screen_new"),
    path(
        "patients/<uuid:public_id>/screens/<uuid:screen_id>/",
        views.screen_page,
        name="screen",
    ),
    path(
        "patients/<uuid:public_id>/screens/<uuid:screen_id>/results/",
        views.screen_results,
        name="screen_results",
    ),
    path(
        "patients/<uuid:public_id>/screens/<uuid:screen_id>/entered-in-error/",
        views.screen_error,
        name="screen_error",
    ),
]
