"""``quantriet campaign-roster SLUG [--apply] [--export PATH.csv]``"""

import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns import services
from quantriet.campaigns.export import write_roster_csv
from quantriet.campaigns.models import Campaign


class Command(BaseCommand):
    help = ("Show what the campaign's rules select now (the diff against the roster), apply "
            "it with --apply, and/or export the roster as CSV.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--apply", action="store_true", help="freeze the roster now")
        parser.add_argument("--user", default=None,
                            help="act as this account (default: the first superuser)")
        parser.add_argument("--export", metavar="PATH.csv",
                            help="write member_code, unit_code, rules, managing_unit_code")

    def handle(self, *args, slug, apply, user, export, **options):
        campaign = Campaign.objects.filter(slug=slug).select_related("owner_unit").first()
        if campaign is None:
            raise CommandError(f"no campaign {slug!r}")
        User = get_user_model()
        actor = (User.objects.filter(username=user).first() if user
                 else User.objects.filter(is_superuser=True).order_by("pk").first())
        if actor is None:
            raise CommandError("no such account (give --user)")
        t = time.perf_counter()
        if apply:
            try:
                diff = services.apply_roster(campaign=campaign, actor=actor)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        else:
            diff = services.preview_roster(campaign=campaign)
        seconds = time.perf_counter() - t
        self.stdout.write(
            f"{'applied' if apply else 'preview'} in {seconds:.1f} s: eligible {diff.eligible:,}, "
            f"new {diff.added:,}, back {diff.reactivated:,}, removed {diff.removed:,}, "
            f"manual decisions kept {diff.kept_manual:,}"
        )
        for name, n in diff.by_rule:
            self.stdout.write(f"  {n:>9,}  {name}")
        if export:
            n = write_roster_csv(campaign, export)
            self.stdout.write(self.style.SUCCESS(f"exported {n:,} participants to {export}"))
