"""``quantriet progress-verify [--campaign SLUG] [--fix]``: recount the progress counters
from scratch and print every difference (exit status 1 if any)."""

from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns.models import Campaign
from quantriet.progress import services


class Command(BaseCommand):
    help = "Recompute the progress counters of campaigns and report every difference."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="short name (slug) of one campaign")
        parser.add_argument("--fix", action="store_true",
                            help="write the recomputed counters")

    def handle(self, *args, campaign=None, fix=False, **options):
        campaigns = Campaign.objects.select_related("owner_unit").order_by("pk")
        if campaign:
            campaigns = campaigns.filter(slug=campaign)
            if not campaigns.exists():
                raise CommandError(f"no campaign {campaign!r}")
        total = 0
        for c in campaigns:
            diffs = services.verify(c)
            for code, counter, stored, expected in diffs:
                self.stdout.write(f"{c.slug} {code} {counter}: stored {stored}, "
                                  f"recomputed {expected}")
            total += len(diffs)
            if diffs and fix:
                services.rebuild(campaign=c)
        if total and not fix:
            raise CommandError(f"{total} progress counter(s) differ; run with --fix")
        self.stdout.write(self.style.SUCCESS(
            f"{total} counter(s) corrected" if total else "all progress counters are exact"))
