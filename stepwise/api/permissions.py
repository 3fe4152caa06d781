"""Every API operation declares its permission, as every page does; none may be left out.

``requires`` checks the role before the operation runs (patient-level checks, such
as the care team, stay in the services). ``operations_without_permission`` lists
operations that declare nothing; the API refuses to start with any.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from stepwise.api.auth import api_actor
from stepwise.core.access import require_permission
from stepwise.core.ids import requested_patient
from stepwise.core.roles import Permission
from stepwise.core.web import PERMISSION_ATTRIBUTE, PUBLIC, declared_permission

Operation = TypeVar("Operation", bound=Callable[..., Any])


def requires(permission: Permission) -> Callable[[Operation], Operation]:
    def decorate(operation: Operation) -> Operation:
        @functools.wraps(operation)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require_permission(
                api_actor(request),
                permission,
                patient_public_id=requested_patient(kwargs),
                category="api",
            )
            return operation(request, *args, **kwargs)

        # Ninja reads parameters from the signature; give it the operation's, with its
        # annotations resolved in the operation's own module.
        wrapper.__signature__ = inspect.signature(operation, eval_str=True)  # type: ignore[attr-defined]
        setattr(wrapper, PERMISSION_ATTRIBUTE, str(permission))
        return wrapper  # type: ignore[return-value]

    return decorate


def public_operation(operation: Operation) -> Operation:
    """An operation anyone may call without a token; it must return no patient data."""
    setattr(operation, PERMISSION_ATTRIBUTE, PUBLIC)
    return operation


def api_operations(api: NinjaAPI) -> Iterator[tuple[str, list[str], Callable[..., Any]]]:
    """(path, methods, view function) of every operation of the API."""
    routers: list[tuple[str, Router]] = [(prefix, router) for prefix, router in api._routers]
    for prefix, router in routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield f"{prefix}{path}", list(operation.methods), operation.view_func


def operations_without_permission(api: NinjaAPI) -> list[str]:
    return [
        f"{' '.join(methods)} {path}"
        for path, methods, view in api_operations(api)
        if not declared_permission(view)
    ]
