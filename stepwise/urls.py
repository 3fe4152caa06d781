from django.urls import include, path

urlpatterns = [
    path("", include("stepwise.accounts.urls")),
    path("", include("stepwise.care.urls")),
    path("patients/", include("stepwise.patients.urls")),
    path("patients/", include("stepwise.instruments.urls")),
    path("", include("stepwise.withdrawal.urls")),
    path("patients/", include("stepwise.withdrawal.medication_urls")),
    path("patients/", include("stepwise.withdrawal.discharge_urls")),
    path("admissions/", include("stepwise.intake.urls")),
    path("notes/", include("stepwise.notes.urls")),
    path("schedule/", include("stepwise.scheduling.urls")),
    path("recovery/", include("stepwise.recovery.urls")),
    path("plans/", include("stepwise.plans.urls")),
    path("aftercare/", include("stepwise.aftercare.urls")),
    path("residences/", include("stepwise.residences.urls")),
    path("audit/", include("stepwise.privacy.urls")),
    path("privacy/", include("stepwise.privacy.part2_urls")),
    path("", include("stepwise.core.urls")),
    path("api/v1/", include("stepwise.api.urls")),
]
