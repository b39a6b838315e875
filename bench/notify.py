"""E-mail reminders through a local SMTP sink, on PostgreSQL.

Prepares its own database (default ``qt_bench_notify``, rebuilt every run): ``--count``
queued e-mails of the "deadline approaching" kind, each to its own address, written with
one ``bulk_create`` as ``notifications.services.enqueue`` writes them (timed). An SMTP sink
(aiosmtpd, in this process) counts what arrives by Message-ID. Then ``--workers`` sender
processes run ``notifications.services.drain`` (batches of ``--batch`` over one SMTP
connection each, no rate limit) until the queue is empty; the rate is e-mails arrived per
second of wall time.

With ``--kill`` one sender is killed (SIGKILL) after a second, in the middle of a batch; a
fresh sender is started once its lease (``--lease`` seconds) has run out and picks up the
rest. At the end every e-mail must be marked sent, every message must have arrived, and no
more duplicates than killed senders (the one message a sender may have handed to the server
before its mark committed). Prints one JSON line; exit status 1 if the check fails.

    .venv/bin/python bench/notify.py --count 100000 --workers 2
    .venv/bin/python bench/notify.py --count 20000 --workers 2 --kill
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from _http import ROOT, drop_database, ensure_database, free_port

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.I | re.M)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"),
                   help="PostgreSQL server (without the database name)")
    p.add_argument("--db", default="qt_bench_notify", help="database name")
    p.add_argument("--drop", action="store_true", help="drop the database afterwards")
    p.add_argument("--count", type=int, default=100_000, help="e-mails to send")
    p.add_argument("--workers", type=int, default=2, help="sender processes")
    p.add_argument("--batch", type=int, default=500, help="e-mails per batch")
    p.add_argument("--kill", action="store_true", help="kill one sender mid-batch")
    p.add_argument("--lease", type=int, default=5, help="seconds a claimed batch is held")
    p.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


class Sink:
    def __init__(self) -> None:
        self.ids: collections.Counter[bytes] = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content[:4000])
        with self.lock:
            self.ids[found.group(1) if found else b"?"] += 1
        return "250 OK"


def sender() -> int:
    import django

    django.setup()
    from quantriet.notifications import services

    r = services.drain(seconds=3600)
    print(json.dumps({"sent": r.sent, "errors": r.errors[:3]}), flush=True)
    return 0


def enqueue(count: int) -> float:
    from django.core.management import call_command

    from quantriet.notifications.models import Channel, Kind, Notification

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    ctx = {"campaign": "Học tập, quán triệt Nghị quyết Đại hội XIII Công đoàn Việt Nam",
           "deadline": "15/12/2026", "days": 3}
    rows = (Notification(kind=Kind.DEADLINE_SOON, channel=Channel.EMAIL,
                         dedup_key=f"email:{Kind.DEADLINE_SOON}:bench:p{i}",
                         address=f"doanvien{i}@example.org", language="vi", context=ctx,
                         url="/reports/bench/") for i in range(count))
    Notification.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return time.perf_counter() - t


def main() -> int:
    args = parse_args()
    os.environ.update(DATABASE_URL=f"{args.pg}/{args.db}", DEBUG="0",
                      DJANGO_SETTINGS_MODULE="quantriet.settings")
    sys.path.insert(0, str(ROOT))
    if args.sender:
        return sender()
    from aiosmtpd.controller import Controller

    ensure_database(args.pg, args.db, reuse=False)
    import django

    django.setup()
    from django.db.models import Count

    from quantriet.notifications.models import Channel, Notification

    out: dict[str, Any] = {"database": "postgresql", "count": args.count,
                           "workers": args.workers, "batch": args.batch, "kill": args.kill}
    out["enqueue_s"] = round(enqueue(args.count), 2)
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = dict(os.environ, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port),
               NOTIFY_BATCH_SIZE=str(args.batch), NOTIFY_RATE="0",
               NOTIFY_LEASE_SECONDS=str(args.lease), LOG_LEVEL="WARNING")

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, __file__, "--sender"], env=env,
                                stdout=subprocess.PIPE, text=True)

    t0 = time.perf_counter()
    procs = [start() for _i in range(args.workers)]
    killed = 0
    if args.kill:
        time.sleep(1.0)
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait()
        killed = 1
        time.sleep(args.lease + 0.5)
        procs.append(start())
    for p in procs:
        p.wait()
    # a sender that found the queue empty while the killed one's batch was still leased
    # has stopped; one more pass takes whatever is left
    if Notification.objects.filter(channel=Channel.EMAIL, status="queued").exists():
        time.sleep(args.lease + 0.5)
        last = start()
        last.wait()
    elapsed = time.perf_counter() - t0
    time.sleep(0.5)
    controller.stop()
    statuses = dict(Notification.objects.filter(channel=Channel.EMAIL).order_by()
                    .values_list("status").annotate(n=Count("id")))
    arrived = sum(sink.ids.values())
    duplicates = sum(n - 1 for n in sink.ids.values() if n > 1)
    out.update(seconds=round(elapsed, 2), arrived=arrived, distinct=len(sink.ids),
               duplicates=duplicates, statuses=statuses,
               emails_per_s=round(arrived / elapsed, 1))
    ok = (statuses.get("sent", 0) == args.count and len(sink.ids) == args.count
          and duplicates <= killed)
    out["ok"] = ok
    print(json.dumps(out))
    from django.db import connections

    connections.close_all()
    if args.drop:
        drop_database(args.pg, args.db)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
