"""What each kind of notification says: its subject and its paragraphs, in the active
language (the sender activates the recipient's language; the notification centre the
reader's). The words are built from the ``context`` stored with the notification, so a
message says what was true when the event happened."""

from __future__ import annotations

from typing import Any

from django.utils.formats import number_format
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
    if kind == Kind.LAGGING_UNITS:
        n = len(ctx.get("units", []))
        return ngettext("%(n)s unit of %(unit)s is lagging in “%(campaign)s”",
                        "%(n)s units of %(unit)s are lagging in “%(campaign)s”", n) % {
            "n": n, "unit": ctx.get("unit", ""), "campaign": campaign}
    if kind == Kind.ESCALATION:
        return _("%(unit)s is still below %(threshold)s %% in “%(campaign)s” after the "
                 "deadline") % {"unit": ctx.get("name", ""),
                                "threshold": ctx.get("threshold", ""), "campaign": campaign}
    if kind == Kind.INVITATION:
        return _("Invitation: “%(campaign)s” at %(point)s") % {
            "campaign": campaign, "point": ctx.get("point", "")}
    if kind == Kind.CONFERENCE_SOON:
        return _("Reminder: the conference of “%(campaign)s” at %(point)s starts at "
                 "%(starts)s") % {"campaign": campaign, "point": ctx.get("point", ""),
                                  "starts": ctx.get("starts", "")}
    if kind == Kind.PLAN_RETURNED:
        return _("The action plan of %(unit)s for “%(campaign)s” was returned for "
                 "revision") % {"unit": ctx.get("unit", ""), "campaign": campaign}
    if kind == Kind.PLAN_APPROVED:
        return _("The action plan of %(unit)s for “%(campaign)s” was approved") % {
            "unit": ctx.get("unit", ""), "campaign": campaign}
    if kind == Kind.PLAN_OVERDUE:
        n = int(ctx.get("count", 0))
        return ngettext("%(n)s measure of the units below %(unit)s is overdue (“%(campaign)s”)",
                        "%(n)s measures of the units below %(unit)s are overdue "
                        "(“%(campaign)s”)", n) % {"n": n, "unit": ctx.get("unit", ""),
                                                  "campaign": campaign}
    return str(Kind(kind).label) if kind in Kind.values else kind


def _place(ctx: dict[str, Any]) -> list[str]:
    """The bridge point's lines: name and address, time, link of the stream."""
    out = [_("Bridge point: %(point)s") % {"point": ctx.get("point", "")}
           + (f" — {ctx['address']}" if ctx.get("address") else "")]
    if ctx.get("starts"):
        out.append(_("Session: %(starts)s") % {"starts": ctx["starts"]})
    if ctx.get("stream"):
        out.append(_("Online link: %(url)s") % {"url": ctx["stream"]})
    return out


def _rate_line(line: dict[str, Any]) -> str:
    return _("%(name)s: %(rate)s %% (%(submitted)s/%(owing)s reports submitted)") % {
        "name": line.get("name", ""), "rate": number_format(line.get("rate", 0), 1),
        "submitted": line.get("submitted", 0), "owing": line.get("owing", 0)}


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
    if kind == Kind.LAGGING_UNITS:
        units = ctx.get("units", [])
        return [
            ngettext("In the campaign “%(campaign)s”, %(n)s child unit of %(unit)s has "
                     "submitted reports for fewer than %(threshold)s %% of those who must "
                     "submit:",
                     "In the campaign “%(campaign)s”, %(n)s child units of %(unit)s have "
                     "submitted reports for fewer than %(threshold)s %% of those who must "
                     "submit:", len(units))
            % {"campaign": campaign, "n": len(units), "unit": ctx.get("unit", ""),
               "threshold": ctx.get("threshold", "")},
            "\n".join(f"– {_rate_line(line)}" for line in units),
        ]
    if kind == Kind.INVITATION:
        return [
            _("You are invited to the conference of the campaign “%(campaign)s”.") % {
                "campaign": campaign},
            "\n".join(_place(ctx)),
            _("Your participant number is %(n)s. Show the QR code of this message, or of "
              "your invitation letter, at the check-in.") % {"n": ctx.get("number", "")},
        ]
    if kind == Kind.CONFERENCE_SOON:
        return [
            _("The conference of the campaign “%(campaign)s” you are invited to starts soon.")
            % {"campaign": campaign},
            "\n".join(_place(ctx)),
        ]
    if kind == Kind.ESCALATION:
        return [
            _("The deadline for personal learning reports of the campaign “%(campaign)s” "
              "was %(date)s, and %(unit)s is still below %(threshold)s %%:") % {
                "campaign": campaign, "date": ctx.get("deadline", ""),
                "unit": ctx.get("name", ""), "threshold": ctx.get("threshold", "")},
            _rate_line(ctx),
            _("You receive this notice as a head of %(parent)s, the unit above it.") % {
                "parent": ctx.get("parent", "")},
        ]
    if kind in (Kind.PLAN_RETURNED, Kind.PLAN_APPROVED):
        args = {"unit": ctx.get("unit", ""), "campaign": campaign}
        if kind == Kind.PLAN_APPROVED:
            return [_("The level above approved the action plan of %(unit)s for the campaign "
                      "“%(campaign)s”. Record the follow-up of each measure on the plan's "
                      "page as the work goes on.") % args]
        out = [_("The level above returned the action plan of %(unit)s for the campaign "
                 "“%(campaign)s” for revision.") % args]
        if ctx.get("comments"):
            out.append(_("The reviewer's comments:") + "\n" + ctx["comments"])
        out.append(_("Revise the plan; the unit's head then submits it again."))
        return out
    if kind == Kind.PLAN_OVERDUE:
        n = int(ctx.get("count", 0))
        out = [ngettext("In the approved action plans of the units below %(unit)s for the "
                        "campaign “%(campaign)s”, %(n)s measure is overdue:",
                        "In the approved action plans of the units below %(unit)s for the "
                        "campaign “%(campaign)s”, %(n)s measures are overdue:", n)
               % {"n": n, "unit": ctx.get("unit", ""), "campaign": campaign},
               "\n".join(_("– %(measure)s (%(unit)s, due %(date)s)") % line
                          for line in ctx.get("measures", []))]
        if n > len(ctx.get("measures", [])):
            out.append(_("Only the oldest are listed here."))
        return out
    return []
