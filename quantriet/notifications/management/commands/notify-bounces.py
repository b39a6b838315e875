"""``quantriet notify-bounces PATH [PATH ...] [--delete]``: read the delivery status
notifications (bounces) that came back to the bounce mailbox and record their permanent
failures: the notice is marked bounced and the address listed as invalid for the unit's
administrators. PATH is a Maildir, an mbox file, a file with one message, or ``-`` for one
message on standard input (for a mail server that pipes the bounce address to a command).
Reading a report again changes nothing more; ``--delete`` removes the reports read from a
Maildir or an mbox."""

import email
import mailbox
import sys
from email import policy
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quantriet.notifications import bounces


def _parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


class Command(BaseCommand):
    help = "Record the bounces (delivery status notifications) found in mailboxes or on stdin."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--delete", action="store_true",
                            help="remove the reports read from a Maildir or an mbox")

    def handle(self, *args, paths, delete=False, **options):
        total: dict[str, int] = {}
        for path in paths:
            counts = self._one(path, delete)
            for k, v in counts.items():
                total[k] = total.get(k, 0) + v
        self.stdout.write(
            f"{total['messages']} message(s), {total['reports']} delivery report(s): "
            f"{total['bounced']} notice(s) marked bounced, {total['addresses_only']} "
            f"address(es) without a notice of ours, {total['already']} already recorded")

    def _one(self, path: str, delete: bool) -> dict[str, int]:
        if path == "-":
            return bounces.process([_parse(sys.stdin.buffer.read())])
        p = Path(path)
        if p.is_dir():
            if not (p / "cur").is_dir() or not (p / "new").is_dir():
                raise CommandError(f"{path}: a directory that is not a Maildir")
            box: mailbox.Mailbox = mailbox.Maildir(p, factory=None, create=False)
        elif p.is_file():
            with open(p, "rb") as f:
                if not f.read(5).startswith(b"From "):
                    return bounces.process([_parse(p.read_bytes())])
            box = mailbox.mbox(p, create=False)
        else:
            raise CommandError(f"{path}: no such file or directory")
        box.lock()
        try:
            keys = list(box.keys())
            counts = {"messages": 0, "reports": 0, "bounced": 0, "addresses_only": 0,
                      "already": 0}
            for key in keys:
                one = bounces.process([_parse(box.get_bytes(key))])
                for k, v in one.items():
                    counts[k] += v
                if delete and one["reports"]:
                    box.remove(key)
            box.flush()
        finally:
            box.unlock()
            box.close()
        return counts
