"""``quantriet notify-deadline --campaign SLUG --days N``: remind everyone who must submit a
report to the campaign and has not that the deadline is N days away; ``--passed``: tell them
that it has passed; ``--escalate``: report the units still lagging to the heads of the unit
above. Safe to run again: nobody gets the same notice twice (run it e.g. daily
from cron with --days 7, then --days 1, then --passed)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns.models import Campaign
from quantriet.notifications import services


class Command(BaseCommand):
    help = "Queue the 'deadline approaching' reminder for the non-submitters of a campaign."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, help="short name (slug)")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--days", type=int,
                           help="how many days before the deadline this reminder is")
        group.add_argument("--passed", action="store_true",
                           help="the deadline has passed: tell those who did not submit")
        group.add_argument("--escalate", action="store_true",
                           help="the deadline has passed: report the units still below the "
                                "threshold to the heads of the unit above")

    def handle(self, *args, campaign, days=None, passed=False, escalate=False, **options):
        found = Campaign.objects.filter(slug=campaign).first()
        if found is None:
            raise CommandError(f"no campaign {campaign!r}")
        try:
            if escalate:
                n = services.escalations(campaign=found)
            elif passed:
                n = services.deadline_passed(campaign=found)
            else:
                n = services.deadline_approaching(campaign=found, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(
            f"{found.slug}: {n} notice(s) queued (already queued ones are not repeated)"))
