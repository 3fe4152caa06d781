"""Consents, release of information, emergency disclosure, accounting and review pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.chart import patient_for
from stepwise.core.errors import ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import (
    actor_of,
    apply_errors,
    form_errors_text,
    form_page_status,
    staff_view,
    submit,
)
from stepwise.patients.models import Patient
from stepwise.privacy import rules
from stepwise.privacy.consent_selectors import disclosure_get
from stepwise.privacy.documents import render_chart_summary
from stepwise.privacy.forms import (
    AccountingForm,
    ConsentForm,
    EmergencyForm,
    ReconfirmForm,
    ReleaseForm,
    ReviewForm,
    RevokeForm,
    SignForm,
)
from stepwise.privacy.models import Consent
from stepwise.privacy.reads import (
    accounting_document,
    accounting_read,
    consent_for_write,
    consent_read,
    consents_read,
    release_form_read,
    review_queue_read,
)
from stepwise.privacy.services import (
    DisclosureRefused,
    Release,
    RenderedDocument,
    consent_create,
    consent_expiry_event_record,
    consent_reconfirm,
    consent_revoke,
    consent_sign,
    disclosure_release,
    disclosure_review,
)


def _download(document: RenderedDocument) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.media_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    # Released records must not linger in shared or browser caches.
    response["Cache-Control"] = "no-store"
    return response


@staff_view(Permission.CONSENT_READ)
@require_GET
def consents(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, found = consents_read(actor, public_id)
    now = timezone.now()
    rows = [(c, c.state(now)) for c in found]
    return render(request, "privacy/consents.html", {"patient": patient, "rows": rows})


@staff_view(Permission.CONSENT_WRITE)
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.CONSENT_WRITE)
    form = ConsentForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        consent, status = submit(form, lambda: consent_create(actor, patient, form.to_data()))
        if consent is not None:
            messages.success(
                request, "Consent drafted. Read the summary with the patient, then sign."
            )
            return redirect(
                "part2:consent", public_id=patient.public_id, consent_id=consent.public_id
            )
    return render(
        request,
        "privacy/consent_new.html",
        {"patient": patient, "form": form},
        status=form_page_status(form, status),
    )


def _consent_page(
    request: HttpRequest,
    patient: Patient,
    consent: Consent,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    now = timezone.now()
    context = {
        "patient": patient,
        "consent": consent,
        "state": consent.state(now),
        "summary": consent.plain_summary(),
        "revocable": rules.may_revoke(consent.facts(), now),
        "sign_form": forms.get("sign_form") or SignForm(),
        "reconfirm_form": forms.get("reconfirm_form") or ReconfirmForm(),
        "revoke_form": forms.get("revoke_form") or RevokeForm(),
    }
    return render(request, "privacy/consent.html", context, status=status)


@staff_view(Permission.CONSENT_READ)
@require_GET
def consent(request: HttpRequest, public_id: str, consent_id: str) -> HttpResponse:
    patient, found = consent_read(actor_of(request), public_id, consent_id)
    return _consent_page(request, patient, found)


@staff_view(Permission.CONSENT_WRITE)
@require_POST
def consent_sign_view(request: HttpRequest, public_id: str, consent_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, found = consent_for_write(actor, public_id, consent_id)
    form = SignForm(request.POST)
    status = 422
    if form.is_valid():
        signed, status = submit(form, lambda: consent_sign(actor, found, form.to_signature()))
        if signed is not None:
            messages.success(request, "Consent signed. It is active now.")
            return redirect(
                "part2:consent", public_id=patient.public_id, consent_id=found.public_id
            )
    return _consent_page(request, patient, found, form_page_status(form, status), sign_form=form)


@staff_view(Permission.CONSENT_WRITE)
@require_POST
def consent_reconfirm_view(request: HttpRequest, public_id: str, consent_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, found = consent_for_write(actor, public_id, consent_id)
    form = ReconfirmForm(request.POST)
    status = 422
    if form.is_valid():
        done, status = submit(
            form,
            lambda: consent_reconfirm(
                actor,
                found,
                signer_name=form.cleaned_data["signer_name"],
                note=form.cleaned_data["note"],
            ),
        )
        if done is not None:
            messages.success(request, "Re-confirmation recorded.")
            return redirect(
                "part2:consent", public_id=patient.public_id, consent_id=found.public_id
            )
    return _consent_page(
        request, patient, found, form_page_status(form, status), reconfirm_form=form
    )


@staff_view(Permission.CONSENT_WRITE)
@require_POST
def consent_revoke_view(request: HttpRequest, public_id: str, consent_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, found = consent_for_write(actor, public_id, consent_id)
    form = RevokeForm(request.POST)
    status = 422
    if form.is_valid():
        done, status = submit(
            form,
            lambda: consent_revoke(
                actor, found, channel=form.cleaned_data["channel"], note=form.cleaned_data["note"]
            ),
        )
        if done is not None:
            messages.success(
                request, "Revocation recorded. No further disclosure under this consent."
            )
            return redirect(
                "part2:consent", public_id=patient.public_id, consent_id=found.public_id
            )
    return _consent_page(request, patient, found, form_page_status(form, status), revoke_form=form)


@staff_view(Permission.CONSENT_WRITE)
@require_POST
def consent_expiry_event_view(
    request: HttpRequest, public_id: str, consent_id: str
) -> HttpResponse:
    actor = actor_of(request)
    patient, found = consent_for_write(actor, public_id, consent_id)
    form = ReconfirmForm()  # carries the refusal message, if any
    done, _ = submit(form, lambda: consent_expiry_event_record(actor, found))
    if done is not None:
        messages.success(request, "Expiry event recorded. The consent has expired.")
        return redirect("part2:consent", public_id=patient.public_id, consent_id=found.public_id)
    messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
    return redirect("part2:consent", public_id=patient.public_id, consent_id=found.public_id)


def _release_page(
    request: HttpRequest,
    template: str,
    form: ReleaseForm | EmergencyForm,
    patient: Patient,
    recipients: list[str],
    refusal: DisclosureRefused | None,
    status: int,
) -> HttpResponse:
    context = {"patient": patient, "form": form, "recipients": recipients, "refusal": refusal}
    return render(request, template, context, status=form_page_status(form, status))


def _release(
    request: HttpRequest,
    public_id: str,
    form: ReleaseForm | EmergencyForm,
    permission: Permission,
    template: str,
) -> HttpResponse:
    actor = actor_of(request)
    patient, recipients = release_form_read(actor, public_id, permission, timezone.now())
    status = 200
    refusal: DisclosureRefused | None = None
    if request.method == "POST" and form.is_valid():
        try:
            released: Release = disclosure_release(
                actor, patient, form.to_request(), render_chart_summary
            )
        except DisclosureRefused as exc:
            refusal, status = exc, 409
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
        else:
            return _download(released.document)
    return _release_page(request, template, form, patient, recipients, refusal, status)


@staff_view(Permission.DISCLOSURE_RELEASE)
@require_http_methods(["GET", "POST"])
def release(request: HttpRequest, public_id: str) -> HttpResponse:
    return _release(
        request,
        public_id,
        ReleaseForm(request.POST or None),
        Permission.DISCLOSURE_RELEASE,
        "privacy/release.html",
    )


@staff_view(Permission.DISCLOSURE_EMERGENCY)
@require_http_methods(["GET", "POST"])
def emergency(request: HttpRequest, public_id: str) -> HttpResponse:
    return _release(
        request,
        public_id,
        EmergencyForm(request.POST or None),
        Permission.DISCLOSURE_EMERGENCY,
        "privacy/emergency.html",
    )


@staff_view(Permission.DISCLOSURE_ACCOUNTING)
@require_GET
def accounting(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    form = AccountingForm(request.GET or None)
    since = form.cleaned_data["since"] if form.is_valid() else None
    try:
        found = accounting_read(actor, public_id, since, timezone.now())
    except ValidationFailed as exc:
        apply_errors(form, exc)
        found = accounting_read(actor, public_id, None, timezone.now())
    query = f"?since={since:%Y-%m-%d}" if since and not form.errors else ""
    return render(
        request,
        "privacy/accounting.html",
        {"patient": found.patient, "accounting": found, "form": form, "pdf_query": query},
        status=form_page_status(form),
    )


@staff_view(Permission.DISCLOSURE_ACCOUNTING)
@require_GET
def accounting_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    form = AccountingForm(request.GET or None)
    since = form.cleaned_data["since"] if form.is_valid() else None
    try:
        document = accounting_document(actor, public_id, since, timezone.now())
    except ValidationFailed:
        document = accounting_document(actor, public_id, None, timezone.now())
    return _download(document)


@staff_view(Permission.PRIVACY_REVIEW)
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    pending, reviewed = review_queue_read(actor_of(request))
    return render(
        request,
        "privacy/review_queue.html",
        {
            # One form per release, each with its own element ids.
            "pending": [(d, ReviewForm(auto_id=f"review_{d.public_id}_%s")) for d in pending],
            "reviewed": reviewed,
        },
    )


@staff_view(Permission.PRIVACY_REVIEW)
@require_POST
def review(request: HttpRequest, disclosure_id: str) -> HttpResponse:
    actor = actor_of(request)
    found = disclosure_get(actor, disclosure_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        done, _ = submit(
            form, lambda: disclosure_review(actor, found, note=form.cleaned_data["note"])
        )
        if done is not None:
            messages.success(request, "Emergency disclosure marked reviewed.")
            return redirect("part2:review_queue")
    messages.error(request, form_errors_text(form))
    return redirect("part2:review_queue")
