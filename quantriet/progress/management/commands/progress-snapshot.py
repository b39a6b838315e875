"""``quantriet progress-snapshot [--campaign SLUG]``: store today's roll-ups of the large
subtrees for the chart over time (run it daily, late in the day, e.g. from cron)."""

from django.core.management.base import BaseCommand

from quantriet.campaigns.models import Campaign
from quantriet.progress import services


class Command(BaseCommand):
    help = "Store today's progress of every large subtree of open campaigns."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="short name (slug) of one campaign")

    def handle(self, *args, campaign=None, **options):
        campaigns = Campaign.objects.select_related("owner_unit").exclude(
            status__in=["draft", "closed"])
        if campaign:
            campaigns = Campaign.objects.select_related("owner_unit").filter(slug=campaign)
        for c in campaigns:
            n = services.take_snapshot(campaign=c)
            self.stdout.write(f"{c.slug}: {n} subtree(s)")
