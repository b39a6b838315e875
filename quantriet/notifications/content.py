"""What each kind of notification says: its subject and its paragraphs, in the active
language (the sender activates the recipient's language; the notification centre the
reader's). The words are built from the ``context`` stored with the notification, so a
message says what was true when the event happened."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from quantriet.notifications.models import Kind


def subject(kind: str, ctx: dict[str, Any]) -> str:
    campaign = ctx.get("campaign", "")
    if kind == Kind.REPORT_RETURNED:
        return _("Your report for “%(campaign)s” was returned for revision") % {
            "campaign": campaign}
    if kind == Kind.REPORT_GRADED:
        return _("Your report for “%(campaign)s” was graded: %(grade)s") % {
            "campaign": campaign, "grade": ctx.get("grade", "")}
    if kind == Kind.REVIEWER_ASSIGNED:
        return _("A report for “%(campaign)s” was assigned to you for review") % {
            "campaign": campaign}
    if kind == Kind.DEADLINE_SOON:
        return _("Reminder: your report for “%(campaign)s” is due on %(date)s") % {
            "campaign": campaign, "date": ctx.get("deadline", "")}
    if kind == Kind.DEADLINE_PASSED:
        return _("The deadline for your report for “%(campaign)s” has passed") % {
            "campaign": campaign}
    if kind == Kind.REVIEW_BACKLOG:
        n = int(ctx.get("count", 0))
        return ngettext("%(n)s report for “%(campaign)s” is waiting for your review",
                        "%(n)s reports for “%(campaign)s” are waiting for your review", n) % {
            "n": n, "campaign": campaign}
    if kind == Kind.REPORT_REMINDER:
        return _("Reminder: please submit your report for “%(campaign)s”") % {
            "campaign": campaign}
    return str(Kind(kind).label) if kind in Kind.values else kind


def paragraphs(kind: str, ctx: dict[str, Any]) -> list[str]:
    """The body of the message, one string per paragraph (plain text)."""
    campaign = ctx.get("campaign", "")
    if kind == Kind.REPORT_RETURNED:
        out = [_("Your reviewer returned your personal learning report for the campaign "
                 "“%(campaign)s” and asks you to revise it.") % {"campaign": campaign}]
        if ctx.get("comments"):
            out.append(_("The reviewer's comments:") + "\n" + ctx["comments"])
        out.append(_("Open your report, revise it and submit it again."))
        return out
    if kind == Kind.REPORT_GRADED:
        return [_("Your personal learning report for the campaign “%(campaign)s” was "
                  "graded: %(grade)s.") % {"campaign": campaign, "grade": ctx.get("grade", "")}]
    if kind == Kind.REVIEWER_ASSIGNED:
        return [_("A personal learning report for the campaign “%(campaign)s” is waiting for "
                  "your review.") % {"campaign": campaign}]
    if kind == Kind.DEADLINE_SOON:
        days = int(ctx.get("days", 0))
        return [
            ngettext("The deadline for personal learning reports of the campaign "
                     "“%(campaign)s” is %(date)s, in %(days)s day.",
                     "The deadline for personal learning reports of the campaign "
                     "“%(campaign)s” is %(date)s, in %(days)s days.", days)
            % {"campaign": campaign, "date": ctx.get("deadline", ""), "days": days},
            _("You have not submitted your report yet."),
        ]
    if kind == Kind.DEADLINE_PASSED:
        return [
            _("The deadline for personal learning reports of the campaign “%(campaign)s” "
              "was %(date)s, and your report has not been submitted.")
            % {"campaign": campaign, "date": ctx.get("deadline", "")},
            _("A late report is still accepted; it is marked late.")
            if ctx.get("late_accepted") else
            _("Late reports are not accepted; ask your managing unit for an extension."),
        ]
    if kind == Kind.REVIEW_BACKLOG:
        n = int(ctx.get("count", 0))
        return [
            ngettext("%(n)s personal learning report of the campaign “%(campaign)s” assigned "
                     "to you is waiting for review.",
                     "%(n)s personal learning reports of the campaign “%(campaign)s” assigned "
                     "to you are waiting for review.", n) % {"n": n, "campaign": campaign},
            _("The oldest was submitted on %(date)s.") % {"date": ctx.get("oldest", "")},
        ]
    if kind == Kind.REPORT_REMINDER:
        out = [_("%(unit)s reminds you that your personal learning report for the campaign "
                 "“%(campaign)s” has not been submitted yet.") % {
                     "unit": ctx.get("unit", ""), "campaign": campaign}]
        if ctx.get("deadline"):
            out.append(_("The deadline is %(date)s.") % {"date": ctx["deadline"]})
        return out
    return []
