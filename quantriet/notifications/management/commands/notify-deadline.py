"""``quantriet notify-deadline --campaign SLUG --days N``: remind everyone who must submit a
report to the campaign and has not that the deadline is N days away. Safe to run again:
nobody gets the same reminder twice (run it e.g. daily from cron with --days 7, then 1)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns.models import Campaign
from quantriet.notifications import services


class Command(BaseCommand):
    help = "Queue the 'deadline approaching' reminder for the non-submitters of a campaign."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, help="short name (slug)")
        parser.add_argument("--days", type=int, required=True,
                            help="how many days before the deadline this reminder is")

    def handle(self, *args, campaign, days, **options):
        found = Campaign.objects.filter(slug=campaign).first()
        if found is None:
            raise CommandError(f"no campaign {campaign!r}")
        try:
            n = services.deadline_approaching(campaign=found, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(
            f"{found.slug}: {n} notice(s) queued (already queued ones are not repeated)"))
