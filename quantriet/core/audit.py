"""Write audit rows from services."""

from __future__ import annotations

from typing import Any

from django.db import models

from quantriet.core.models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def record(
    action: str,
    target: models.Model,
    *,
    actor: Any = None,
    unit_path: str = "",
    **data: Any,
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        unit_path=unit_path,
        data=_jsonable(data),
    )


def user_or_none(actor: Any) -> Any:
    """The actor if it is a logged-in account (for ``actor``/``changed_by`` columns)."""
    return actor if getattr(actor, "is_authenticated", False) else None
