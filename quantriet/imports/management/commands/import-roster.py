"""``quantriet import-roster PATH [--dry-run] [--user NAME]``"""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from quantriet.imports.engine import RosterImport
from quantriet.imports.readers import ReadError, open_workbook
from quantriet.org.managers import scope_paths


class Command(BaseCommand):
    help = (
        "Import units, members and positions from an .xlsx, a .csv, a folder or a .zip of "
        ".csv files. Everything is checked first; if any row is invalid nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true",
                            help="check and count, write nothing")
        parser.add_argument("--user", help="import with this account's rights (default: all)")
        parser.add_argument("--lang", default="vi", choices=["vi", "en"],
                            help="language of the error messages")
        parser.add_argument("--max-errors", type=int, default=200,
                            help="how many errors to print")

    def handle(self, *args, path, dry_run, user, lang, max_errors, **options):
        translation.activate(lang)
        actor, scope = None, None
        if user:
            try:
                actor = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no account named {user!r}") from None
            scope = scope_paths(actor, "change")
        try:
            workbook = open_workbook(path)
        except ReadError as exc:
            raise CommandError(exc.message_en if lang == "en" else exc.message_vi) from None
        for table in workbook.tables.values():
            if table.unmapped:
                self.stderr.write(f"{table.source}: ignored columns: {', '.join(table.unmapped)}")

        def progress(phase, done):
            if sys.stderr.isatty():
                self.stderr.write(f"\r{phase}: {done:,} rows", ending="")

        result = RosterImport(workbook, actor=actor, scope=scope, progress=progress).run(
            apply=not dry_run
        )
        self.stdout.write("table       rows      new  updated unchanged restructured errors")
        for name, t in result.tables.items():
            self.stdout.write(
                f"{name:<10}{t.rows:>6}{t.new:>9}{t.updated:>9}{t.unchanged:>10}"
                f"{t.restructured:>13}{t.errors:>7}"
            )
        for issue in sorted(result.issues, key=lambda i: (i.table, i.row))[:max_errors]:
            self.stderr.write(f"{issue.table} row {issue.row} [{issue.column}]: {issue.text(lang)}")
        if not result.ok:
            raise CommandError(f"{result.issue_count} error(s): nothing was written")
        self.stdout.write(self.style.SUCCESS(
            "checked: nothing written (dry run)" if dry_run else "imported"))
