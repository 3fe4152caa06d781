"""Every API operation declares its permission, as every page does; none may be left out.

An operation names its permission as its authentication: ``auth=requires(Permission.X)``.
The token is checked first, then the role, before the request body is even read, so a
refused caller learns nothing (not even whether the body was valid). Patient-level
checks (the care team) stay in the services. ``operations_without_permission`` lists
operations that declare nothing; the API refuses to start with any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.operation import Operation

from stepwise.api.auth import PersonalToken
from stepwise.care.chart import episode_for, patient_for
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.ids import requested_patient
from stepwise.core.roles import PATIENT_SCOPED, Permission
from stepwise.core.web import PERMISSION_ATTRIBUTE, PUBLIC

View = TypeVar("View", bound=Callable[..., Any])


class PermissionToken(PersonalToken):
    """A personal access token whose role must grant one permission."""

    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        if actor is None:
            return None
        path = request.resolver_match.kwargs if request.resolver_match else {}
        require_permission(
            actor, self.permission, patient_public_id=requested_patient(path), category="api"
        )
        if self.permission in PATIENT_SCOPED:
            # The record the path names, checked (organization, care team) before the
            # body is read; the operation itself checks again through its service.
            if "patient_id" in path:
                patient_for(actor, path["patient_id"], permission=self.permission)
            elif "episode_id" in path:
                episode_for(actor, path["episode_id"], permission=self.permission)
        return actor


def requires(permission: Permission) -> PermissionToken:
    return PermissionToken(permission)


def public_operation(view: View) -> View:
    """An operation anyone may call without a token (``auth=None``); no patient data."""
    setattr(view, PERMISSION_ATTRIBUTE, PUBLIC)
    return view


def api_operations(api: NinjaAPI) -> Iterator[tuple[str, Operation]]:
    """(path, operation) of every operation of the API."""
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield f"{prefix}{path}", operation


def operation_permission(operation: Operation) -> str | None:
    """The permission an operation declares, PUBLIC, or None if it declares nothing."""
    callbacks = list(operation.auth_callbacks)
    if not callbacks:
        return PUBLIC if getattr(operation.view_func, PERMISSION_ATTRIBUTE, None) else None
    if len(callbacks) == 1 and isinstance(callbacks[0], PermissionToken):
        return str(callbacks[0].permission)
    return None


def operations_without_permission(api: NinjaAPI) -> list[str]:
    return [
        f"{' '.join(operation.methods)} {path}"
        for path, operation in api_operations(api)
        if operation_permission(operation) is None
    ]
