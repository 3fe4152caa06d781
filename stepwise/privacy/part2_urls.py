"""42 CFR Part 2 pages, mounted under /privacy/."""

from django.urls import path

from stepwise.privacy import part2_views as views

app_name = "part2"
_CONSENT = "patients/<uuid:public_id>/consents/<uuid:consent_id>/"
urlpatterns = [
    path("patients/<uuid:public_id>/consents/", views.consents, name="consents"),
    path("patients/<uuid:public_id>/consents/new/", views.consent_new, name="consent_new"),
    path(_CONSENT, views.consent, name="consent"),
    path(f"{_CONSENT}sign/", views.consent_sign_view, name="consent_sign"),
    path(f"{_CONSENT}reconfirm/", views.consent_reconfirm_view, name="consent_reconfirm"),
    path(f"{_CONSENT}revoke/", views.consent_revoke_view, name="consent_revoke"),
    path(f"{_CONSENT}expiry-event/", views.consent_expiry_event_view, name="consent_expiry_event"),
    path("patients/<uuid:public_id>/release/", views.release, name="release"),
    path("patients/<uuid:public_id>/emergency/", views.emergency, name="emergency"),
    path("patients/<uuid:public_id>/accounting/", views.accounting, name="accounting"),
    path("patients/<uuid:public_id>/accounting.pdf", views.accounting_pdf, name="accounting_pdf"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<uuid:disclosure_id>/", views.review, name="review"),
]
