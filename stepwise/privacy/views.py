"""The audit log page: filter by patient, user, action and time; sort by any column."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from stepwise.core.access import require_permission
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction, DataClass
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, staff_view
from stepwise.privacy.selectors import AUDIT_SORTS, AuditFilter, audit_events, patient_names

PAGE_SIZE = 50


@staff_view(Permission.AUDIT_READ)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_permission(actor, Permission.AUDIT_READ, category="audit")
    filters = AuditFilter.from_query(request.GET)
    with transaction.atomic():
        page = Paginator(audit_events(actor, filters), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        names = patient_names(actor, [e.patient_public_id for e in rows if e.patient_public_id])
        # Reading the audit log is itself audited.
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category="audit",
            detail={"filters": request.GET.urlencode()},
        )
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "privacy/audit_log.html",
        {
            "page": page,
            "rows": [
                (e, names.get(e.patient_public_id) if e.patient_public_id else None) for e in rows
            ],
            "filters": filters,
            "columns": list(AUDIT_SORTS),
            "actions": AuditAction.choices,
            "data_classes": DataClass.choices,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
        },
    )
