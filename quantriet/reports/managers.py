"""The one door to reports: :meth:`ReportQuerySet.visible_to`.

Reports record political views, so the circle is small: the author; the reviewer the
report is assigned to; and the administrators of the managing unit and of the unit where it
is reviewed -- holding the ``unit_admin`` role *at that unit*, not at an ancestor (a right at
a province covers its subtree for rosters and progress counts, not for reading reports).
Every read by someone other than the author is written to the audit log by the view that
shows the report (:func:`quantriet.reports.services.record_read`).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q


def admin_unit_ids(user: Any) -> list[int]:
    """Units at which the account holds the unit-admin role itself."""
    from quantriet.org.models import Grant

    cache = user.__dict__.setdefault("_qt_report_admin_units", None)
    if cache is None:
        cache = list(Grant.objects.filter(user=user, role="unit_admin")
                     .values_list("unit_id", flat=True))
        user.__dict__["_qt_report_admin_units"] = cache
    return cache


class ReportQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ReportQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        q = Q(participant__person__user=user) | Q(reviewer=user)
        units = admin_unit_ids(user)
        if units:
            q |= Q(managing_unit_id__in=units) | Q(review_unit_id__in=units)
        return self.filter(q)

    def managed_by(self, user: Any) -> ReportQuerySet:
        """The reports the account administers (as unit admin of their managing or review
        unit) -- the unit's table of reports."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        units = admin_unit_ids(user)
        return self.filter(Q(managing_unit_id__in=units) | Q(review_unit_id__in=units))
