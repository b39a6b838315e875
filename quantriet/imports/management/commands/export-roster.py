"""``quantriet export-roster [--unit CODE] PATH`` — .xlsx, or .zip of .csv files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quantriet.imports.export import export_roster
from quantriet.org.models import Unit


class Command(BaseCommand):
    help = "Export a subtree's units, members and positions in the import format."

    def add_arguments(self, parser):
        parser.add_argument("path", help="output file: .xlsx or .zip (of three .csv files)")
        parser.add_argument("--unit", help="code of the subtree's top unit (default: the top)")

    def handle(self, *args, path, unit, **options):
        if unit:
            root = Unit.objects.filter(code=unit).first()
            if root is None:
                raise CommandError(f"no unit with code {unit!r}")
        else:
            root = Unit.objects.filter(parent__isnull=True).first()
            if root is None:
                raise CommandError("the organisation is empty")
        suffix = Path(path).suffix.lower()
        if suffix not in (".xlsx", ".zip"):
            raise CommandError("the output must end in .xlsx or .zip")
        with open(path, "wb") as fh:
            export_roster(root, fh, "xlsx" if suffix == ".xlsx" else "zip")
        self.stdout.write(self.style.SUCCESS(f"exported {root.name} to {path}"))
