"""Conference documents of one large bridge point: time to build.

Uses the organisation in the database named by DATABASE_URL (any demo scale with at least
N members, e.g. ``quantriet demo --scale small``). Creates a throwaway campaign
``bench-documents`` owned by the top unit with one bridge point of N participants (default
2,000; members taken in id order, written as rows directly), then times, once each:
the roster XLSX, the roster PDF, the point's invitations as one PDF and the point's ZIP
(roster XLSX + PDF and one invitation PDF per participant). Prints one JSON line with the
wall-clock and CPU seconds (the CPU time of this process varies less when other work
shares the machine) and the sizes, and deletes the campaign.

    DATABASE_URL=sqlite:////tmp/qt_docs.sqlite3 .venv/bin/python bench/documents.py 2000
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from quantriet.campaigns.models import Campaign, Participant  # noqa: E402
from quantriet.conference import documents  # noqa: E402
from quantriet.conference.models import Attendance, BridgePoint  # noqa: E402
from quantriet.org.models import Person, Unit  # noqa: E402

SLUG = "bench-documents"


def main(n: int = 2_000) -> None:
    top = Unit.objects.get(parent__isnull=True)
    Attendance.objects.filter(point__campaign__slug=SLUG).delete()
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(
        slug=SLUG, title="Nghị quyết Đại hội XIII Công đoàn Việt Nam", owner_unit=top,
        status=Campaign.Status.CONFERENCE)
    try:
        start = timezone.make_aware(dt.datetime(2026, 2, 2, 8, 0))
        point = BridgePoint.objects.create(
            campaign=campaign, code="BENCH-01", name="Điểm cầu thử nghiệm", host_unit=top,
            is_central=True, address="Số 1 phố Đinh Lễ, phường Tràng Tiền, Hà Nội",
            starts_at=start, ends_at=start + dt.timedelta(hours=3, minutes=30))
        people = list(Person.objects.order_by("pk")
                      .values_list("pk", "unit_id", "sort_key")[:n])
        if len(people) < n:
            raise SystemExit(f"only {len(people)} members in the database")
        Participant.objects.bulk_create(
            [Participant(campaign=campaign, person_id=pk, unit_id=unit, sort_key=key)
             for pk, unit, key in people],
            batch_size=1000)
        parts = list(campaign.participants.values_list("pk", flat=True))
        Attendance.objects.bulk_create(
            [Attendance(participant_id=pk, point=point) for pk in parts], batch_size=1000)
        BridgePoint.objects.filter(pk=point.pk).update(expected=len(parts))
        point = BridgePoint.objects.select_related("campaign__owner_unit").get(pk=point.pk)

        result: dict[str, object] = {"participants": len(parts),
                                     "database": django.db.connection.vendor}
        for name, build in (("roster_xlsx", documents.roster_xlsx),
                            ("roster_pdf", documents.roster_pdf),
                            ("invitations_pdf", lambda p: documents.invitation_pdf(
                                documents.point_participants(p))),
                            ("point_zip", documents.point_zip)):
            t0, c0 = time.perf_counter(), time.process_time()
            data = build(point)
            result[f"{name}_s"] = round(time.perf_counter() - t0, 2)
            result[f"{name}_cpu_s"] = round(time.process_time() - c0, 2)
            result[f"{name}_mb"] = round(len(data) / 1e6, 1)
        print(json.dumps(result))
    finally:
        Attendance.objects.filter(point__campaign__slug=SLUG).delete()
        Campaign.objects.filter(slug=SLUG).delete()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000)
