"""``quantriet org-verify [--fix]``: recount every unit's members from scratch."""

from django.core.management.base import BaseCommand, CommandError

from quantriet.org.services import verify_member_counters


class Command(BaseCommand):
    help = "Recount the members of every unit and report units whose counter differs."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="correct the counters")

    def handle(self, *args, fix=False, **options):
        diffs = verify_member_counters(fix=fix)
        for code, stored, actual in diffs:
            self.stdout.write(f"{code}: stored {stored}, actual {actual}")
        if diffs and not fix:
            raise CommandError(f"{len(diffs)} unit counter(s) differ; run with --fix")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(diffs)} counter(s) corrected" if diffs else "all unit counters are exact"
            )
        )
