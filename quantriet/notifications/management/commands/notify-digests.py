"""``quantriet notify-digests [--campaign SLUG]``: today's digest to every reviewer who has
reports waiting for review, and to every unit head whose child units lag, and to the
units above action plans with overdue measures, in the campaigns collecting reports (or one
campaign). Run it daily from cron; running it again the same day
sends nobody a second digest."""

from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns.models import Campaign
from quantriet.notifications import services
from quantriet.plans.notices import overdue_digests


class Command(BaseCommand):
    help = ("Queue today's backlog digest for the reviewers with reports waiting and the "
            "digest of lagging child units for the unit heads.")

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="short name (slug) of one campaign")

    def handle(self, *args, campaign=None, **options):
        campaigns = Campaign.objects.filter(status__in=["published", "conference",
                                                        "reporting"]).order_by("pk")
        if campaign:
            campaigns = Campaign.objects.filter(slug=campaign)
            if not campaigns.exists():
                raise CommandError(f"no campaign {campaign!r}")
        for c in campaigns:
            n = services.review_backlogs(campaign=c)
            heads = services.lagging_digests(campaign=c)
            overdue = overdue_digests(campaign=c)
            self.stdout.write(f"{c.slug}: {n} reviewer(s), {heads} lagging-unit digest(s), "
                              f"{overdue} overdue-measure digest(s)")
