"""``quantriet notify-run [--campaign SLUG]``: send whatever notices are due, by each
campaign's schedule (Notifications → schedule, on the campaign's page): invitations,
conference reminders, deadline reminders, "deadline passed", escalations, daily digests.
Run it periodically from cron (every 15 minutes); running it again, or after a crash,
sends nobody the same notice twice."""

from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns.models import Campaign
from quantriet.notifications import services


class Command(BaseCommand):
    help = "Queue every notice that is due by the campaigns' notification schedules."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="short name (slug) of one campaign")

    def handle(self, *args, campaign=None, **options):
        campaigns = None
        if campaign:
            campaigns = list(Campaign.objects.filter(slug=campaign).select_related("owner_unit"))
            if not campaigns:
                raise CommandError(f"no campaign {campaign!r}")
        counts = services.run_due(campaigns=campaigns)
        done = ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items()) if n)
        self.stdout.write(self.style.SUCCESS(
            f"notices offered: {done or 'none'} (already queued ones are not repeated)"))
