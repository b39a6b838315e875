"""``quantriet demo``: build the demo organisation (see quantriet.org.demo)."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, IntegrityError, connection

from quantriet.org import demo
from quantriet.org.models import Unit


class Command(BaseCommand):
    help = (
        "Build a plausible Vietnam General Confederation of Labour organisation: units, "
        "members, positions and demo accounts (password demo12345). Deterministic for a "
        "seed. small ≈ 20,000 members, medium ≈ 500,000, full ≈ 12,000,000 (PostgreSQL)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--scale", choices=list(demo.SCALES), default="small",
                            metavar="{small,medium,full}",
                            help="Size of the organisation (default: small).")
        parser.add_argument("--structure", choices=["2025", "2018"], default="2025",
                            help="2025: 34 provinces, commune/ward unions; 2018: 63 "
                                 "provinces, district federations (default: 2025).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default: 1).")
        parser.add_argument("--flush", action="store_true",
                            help="Delete the existing organisation data (campaigns, people, "
                                 "positions, units, grants, unit events) and the demo "
                                 "accounts first.")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing (and succeed) when the database already has "
                                 "units.")
        parser.add_argument("--no-campaign", action="store_true",
                            help="Do not create the seed campaign (Nghị quyết Đại hội XII) "
                                 "and its roster.")
        # for tests and measurements
        parser.add_argument("--members", type=int, default=None, help=argparse.SUPPRESS)
        parser.add_argument("--method", choices=["auto", "orm", "copy"], default="auto",
                            help=argparse.SUPPRESS)

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stderr.style_func = None  # progress, not errors
        scale, method = opts["scale"], opts["method"]
        vendor = connection.vendor
        if scale == "full" and vendor != "postgresql":
            raise CommandError(
                "The full scale (about 12 million members and 130,000 units) needs "
                f"PostgreSQL; this database is {vendor}. Set DATABASE_URL=postgres://… , "
                "run `quantriet migrate`, then run the demo again (or use --scale medium)."
            )
        if method == "copy" and vendor != "postgresql":
            raise CommandError("--method copy needs PostgreSQL.")
        if opts["flush"]:
            try:
                demo.flush(log=lambda m: self.stderr.write(m))
            except (IntegrityError, DatabaseError) as exc:
                raise CommandError(
                    "Could not delete the organisation data: other data refers to it "
                    f"({exc}). Delete that data first."
                ) from exc
        elif not demo.org_is_empty():
            n = Unit.objects.count()
            if opts["if_empty"]:
                self.stdout.write(f"The database already has an organisation ({n:,} units); "
                                  "the demo data was not loaded.")
                return
            raise CommandError(
                f"The database already has an organisation ({n:,} units). Run "
                "`quantriet demo --flush …` to replace it with the demo data (this deletes "
                "all people, positions, units, grants and unit events)."
            )
        debug = settings.DEBUG
        settings.DEBUG = False  # no query log (and no parameter quoting) during the load
        try:
            builder = demo.DemoBuilder(
                scale=scale, structure=opts["structure"], seed=opts["seed"],
                members=opts["members"], method=method,
                log=self.stderr if opts["verbosity"] >= 1 else None,
            )
            result = builder.run()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            settings.DEBUG = debug
        self.stdout.write(
            f"Demo organisation ({scale}, structure {opts['structure']}, seed {opts['seed']}): "
            f"{result.units:,} units, {result.people:,} members, {result.positions:,} "
            f"positions in {result.seconds:.1f} s ({result.method})."
        )
        accounts = list(result.accounts)
        if not opts["no_campaign"]:
            from quantriet.campaigns.demo import create_demo_campaign, participant_account_rows

            create_demo_campaign(log=lambda m: self.stdout.write(m))
            accounts.extend(participant_account_rows())
        demo.print_accounts(self.stdout, accounts)
