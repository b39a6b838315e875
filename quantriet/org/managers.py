"""Querysets of the org app, with the one door for scoped reads: ``visible_to``.

A right granted at a unit covers that unit's whole subtree and nothing outside it.
Every view reads org-scoped rows only through ``Model.objects.visible_to(user)``; a
row outside the scope is then simply absent, and the view answers 404 exactly as it
would for a row that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from quantriet.org import tree

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

# Which roles allow which action on org data.
VIEW_ROLES = frozenset({"organiser", "unit_admin", "inspector", "reviewer", "coordinator"})
PEOPLE_VIEW_ROLES = frozenset({"organiser", "unit_admin", "inspector"})
CHANGE_ROLES = frozenset({"organiser", "unit_admin"})
ACTION_ROLES = {
    "view": VIEW_ROLES,
    "view_people": PEOPLE_VIEW_ROLES,
    "change": CHANGE_ROLES,
}


def roles_for(action: str) -> frozenset[str]:
    try:
        return ACTION_ROLES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}") from None


def scope_paths(user: Any, action: str = "view") -> list[str] | None:
    """Root paths of the subtrees the user may act on; None means everything.

    Cached on the user object for the life of the request.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    if user.is_superuser:
        return None
    cache: dict[str, list[str]] = user.__dict__.setdefault("_qt_scope_cache", {})
    if action not in cache:
        from quantriet.org.models import Grant

        paths = Grant.objects.filter(user=user, role__in=roles_for(action)).values_list(
            "unit__path", flat=True
        )
        cache[action] = tree.minimal_roots(list(paths))
    return cache[action]


def forget_scope(user: Any) -> None:
    """Drop the cached scope (after grants change)."""
    user.__dict__.pop("_qt_scope_cache", None)


def has_any_grant(user: Any) -> bool:
    paths = scope_paths(user, "view")
    return paths is None or bool(paths)


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "view") -> UnitQuerySet:
        paths = scope_paths(user, action)
        if paths is None:
            return self.all()
        return self.filter(tree.any_subtree_q(paths, "path", self.db))

    def subtree(self, path: str, include_root: bool = True) -> UnitQuerySet:
        qs = self.filter(tree.subtree_q(path, "path", self.db))
        return qs if include_root else qs.exclude(path=path)

    def current(self) -> UnitQuerySet:
        import datetime as dt

        return self.filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=dt.date.today()))

    def search(self, query: str) -> UnitQuerySet:
        from quantriet.text import search_terms

        qs = self
        for term in search_terms(query):
            qs = qs.filter(
                models.Q(search_name__contains=term) | models.Q(code__iexact=term)
            )
        return qs


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "view_people") -> PersonQuerySet:
        if action == "view":
            action = "view_people"
        paths = scope_paths(user, action)
        if paths is None:
            return self.all()
        q = tree.any_subtree_q(paths, "unit__path", self.db)
        if getattr(user, "is_authenticated", False):
            q |= models.Q(user=user)
        return self.filter(q)

    def in_subtree(self, path: str) -> PersonQuerySet:
        return self.filter(tree.subtree_q(path, "unit__path", self.db))

    def search(self, query: str) -> PersonQuerySet:
        from quantriet.text import search_terms

        qs = self
        for term in search_terms(query):
            qs = qs.filter(
                models.Q(search_name__contains=term)
                | models.Q(member_code__iexact=term)
                | models.Q(national_id=term)
            )
        return qs


class PositionQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "view_people") -> PositionQuerySet:
        if action == "view":
            action = "view_people"
        paths = scope_paths(user, action)
        if paths is None:
            return self.all()
        q = tree.any_subtree_q(paths, "unit__path", self.db)
        if getattr(user, "is_authenticated", False):
            q |= models.Q(person__user=user)
        return self.filter(q)

    def current(self, on: Any = None) -> PositionQuerySet:
        import datetime as dt

        day = on or dt.date.today()
        return self.filter(
            models.Q(start_date__isnull=True) | models.Q(start_date__lte=day),
            models.Q(end_date__isnull=True) | models.Q(end_date__gte=day),
        )


class GrantQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "change") -> GrantQuerySet:
        paths = scope_paths(user, action)
        if paths is None:
            return self.all()
        return self.filter(tree.any_subtree_q(paths, "unit__path", self.db))


def can(user: Any, action: str, unit: Any) -> bool:
    """Whether the user may do ``action`` at ``unit`` (a grant at it or an ancestor)."""
    paths = scope_paths(user, action)
    return paths is None or any(unit.path.startswith(p) for p in paths)
