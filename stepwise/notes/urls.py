from django.urls import path

from stepwise.notes import views

app_name = "notes"
urlpatterns = [
    path("cosign/", views.cosign_queue_view, name="cosign_queue"),
    path("sessions/<uuid:session_id>/group-note/", views.group_note, name="group_note"),
    path(
        "sessions/<uuid:session_id>/group-note/cosign/",
        views.group_note_cosign_view,
        name="group_cosign",
    ),
    path(
        "sessions/<uuid:session_id>/group-note/addendum/",
        views.group_addendum,
        name="group_addendum",
    ),
    path(
        "sessions/<uuid:session_id>/group-note/entered-in-error/",
        views.group_error,
        name="group_error",
    ),
    path("patients/<uuid:public_id>/", views.patient_notes, name="patient_notes"),
    path("patients/<uuid:public_id>/new/", views.note_new, name="new"),
    path("patients/<uuid:public_id>/<uuid:note_id>/", views.note_page, name="note"),
    path("patients/<uuid:public_id>/<uuid:note_id>/edit/", views.note_edit, name="edit"),
    path("patients/<uuid:public_id>/<uuid:note_id>/sign/", views.note_sign_view, name="sign"),
    path("patients/<uuid:public_id>/<uuid:note_id>/cosign/", views.note_cosign_view, name="cosign"),
    path(
        "patients/<uuid:public_id>/<uuid:note_id>/addendum/", views.note_addendum, name="addendum"
    ),
    path(
        "patients/<uuid:public_id>/<uuid:note_id>/entered-in-error/",
        views.note_error,
        name="error",
    ),
    path("patients/<uuid:public_id>/<uuid:note_id>/pdf/", views.note_pdf, name="pdf"),
    path(
        "patients/<uuid:public_id>/group/<uuid:group_note_id>/",
        views.member_group_note,
        name="member_group_note",
    ),
    path(
        "patients/<uuid:public_id>/group/<uuid:group_note_id>/pdf/",
        views.member_group_note_pdf_view,
        name="member_group_pdf",
    ),
]
