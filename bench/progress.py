"""Progress pages over HTTP and the cost of a counter update, on PostgreSQL.

Prepares its own database (default ``qt_bench_progress``; rebuilt unless ``--reuse``
finds it prepared):

* the demo organisation (``quantriet demo --scale SCALE --no-campaign``; ``small`` ≈ 20,000
  members, ``medium`` ≈ 500,000, ``full`` 12 million -- the full scale takes hours);
* the campaign ``bench-progress`` owned by the top unit, whose roster is every member
  (one ``INSERT … SELECT``, as ``apply_roster`` writes it), one bridge point, an
  attendance for everyone (87 % present, 6 % excused, the rest absent) and a report for
  about 70 % of them (submitted, returned or graded on the default scale), all written in
  SQL with ``random()`` seeded by ``--seed``;
* the counters recomputed from scratch (``progress.services.rebuild``, timed);
* an account with the unit-administrator role at the top unit, logged in.

Then it starts granian (``--workers``, DEBUG off) and times, over one keep-alive
connection, ``--repeat`` GETs (after two warm-ups) of the progress page of the nation
(the top unit), the province and the grassroots union with the most participants, and the
last page of that union's list of participants: median and 95th percentile. Finally the counter update in the database: ``--events`` single
events (``counters.bump`` on a random unit, each its own transaction, and the same in one
transaction to show the statement alone), ``counters.bump_participant``, and a lock-like
``bump_many`` over 50 units; every change is undone and ``progress-verify`` must find no
difference. Prints one JSON line; exit status 1 if the verification fails.

    .venv/bin/python bench/progress.py --scale small          # about a minute
    .venv/bin/python bench/progress.py --scale medium --reuse
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import time
from typing import Any

from _http import (
    HOST,
    database_args,
    drop_database,
    free_port,
    migrate_and_demo,
    ms,
    open_database,
    sessions,
    start_server,
    stop_server,
)

SLUG = "bench-progress"
SECRET_KEY = "bench-progress-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_args(p, "qt_bench_progress")
    p.add_argument("--scale", default="medium", choices=["small", "medium", "full"])
    p.add_argument("--workers", type=int, default=2, help="granian worker processes")
    p.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    p.add_argument("--events", type=int, default=2000, help="counter updates timed")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from quantriet.campaigns import services as campaigns
    from quantriet.campaigns.models import Campaign
    from quantriet.org.models import Unit
    from quantriet.progress import services
    from quantriet.reports.services import policy_for

    timings = migrate_and_demo(args.scale)
    campaign = Campaign.objects.filter(slug=SLUG).first()
    if campaign is None:
        t = time.perf_counter()
        admin = get_user_model().objects.get(username="admin")
        top = Unit.objects.get(parent__isnull=True)
        now = timezone.now()
        with transaction.atomic():
            campaign = campaigns.create_campaign(slug=SLUG, title="Benchmark progress",
                                                 owner_unit=top, actor=admin)
            policy_for(campaign)
            with connection.cursor() as cur:
                cur.execute("SELECT setseed(%s)", [(args.seed % 1000) / 1000])
                cur.execute(
                    "INSERT INTO campaigns_participant (campaign_id, person_id, unit_id, sort_key, "
                    "managing_unit_id, source, active, reason, pinned, created_at, "
                    "updated_at) SELECT %s, p.id, p.unit_id, p.sort_key, p.unit_id, 'rule', "
                    "true, '', false, %s, %s FROM org_person p JOIN org_unit u ON u.id = p.unit_id "
                    "WHERE u.valid_to IS NULL ORDER BY p.id", [campaign.pk, now, now])
                cur.execute(
                    "INSERT INTO conference_bridgepoint (campaign_id, code, name, "
                    "host_unit_id, is_central, address, stream_url, locked, expected, "
                    "present, excused, substitutes) VALUES (%s, 'central', 'Central', %s, "
                    "true, '', '', true, 0, 0, 0, 0) RETURNING id", [campaign.pk, top.pk])
                point = cur.fetchone()[0]
                cur.execute(
                    "INSERT INTO conference_attendance (participant_id, point_id, overridden, "
                    "status, checked_in_at, reason, client_ref) "
                    "SELECT id, %s, false, s, CASE WHEN s = 'present' THEN %s END, '', '' "
                    "FROM (SELECT id, CASE WHEN r < 0.87 THEN 'present' WHEN r < 0.93 "
                    "THEN 'excused' ELSE 'absent' END AS s FROM (SELECT id, random() AS r "
                    "FROM campaigns_participant WHERE campaign_id = %s) x) y",
                    [point, now, campaign.pk])
                cur.execute("SELECT id FROM reports_gradelevel WHERE campaign_id = %s "
                            "ORDER BY \"order\"", [campaign.pk])
                grades = [r[0] for r in cur.fetchall()]
                cur.execute(
                    "INSERT INTO reports_report (campaign_id, participant_id, status, draft, "
                    "managing_unit_id, review_unit_id, escalated, version_count, "
                    "first_submitted_at, submitted_at, late, grade_id, graded_at, updated_at) "
                    "SELECT %s, id, CASE WHEN r < 0.45 THEN 'graded' WHEN r < 0.5 THEN "
                    "'returned' ELSE 'submitted' END, '', unit_id, unit_id, false, 1, %s, %s, "
                    "r > 0.66, CASE WHEN r < 0.45 THEN (ARRAY[%s, %s, %s, %s])"
                    "[1 + floor(r * 8.8)::int %% 4] END, CASE WHEN r < 0.45 THEN %s END, %s "
                    "FROM (SELECT id, unit_id, random() AS r FROM campaigns_participant "
                    "WHERE campaign_id = %s) x WHERE r < 0.7",
                    [campaign.pk, now, now, *grades[:4], now, now, campaign.pk])
            services.rebuild(campaign=campaign)
        timings["campaign_s"] = round(time.perf_counter() - t, 1)
        with connection.cursor() as cur:
            cur.execute("ANALYZE campaigns_participant, conference_attendance, reports_report, "
                        "progress_unitprogress, org_unit")
    t = time.perf_counter()
    services.rebuild(campaign=campaign)
    timings["rebuild_s"] = round(time.perf_counter() - t, 2)
    return timings


def targets(campaign: Any) -> dict[str, Any]:
    """The nation, and the province and grassroots union with the most participants."""
    from django.db.models import Count

    from quantriet.org.models import Unit

    top = campaign.owner_unit
    counts = dict(campaign.participants.values("unit").annotate(n=Count("id"))
                  .values_list("unit", "n"))
    units = {u.pk: u for u in Unit.objects.filter(pk__in=counts).select_related("level")}
    grassroots = max((u for u in units.values() if u.level.code == "grassroots"),
                     key=lambda u: counts[u.pk])
    by_province: dict[str, int] = {}
    for pk, n in counts.items():
        prefix = units[pk].path[:len(top.path) + 6]
        by_province[prefix] = by_province.get(prefix, 0) + n
    province = Unit.objects.get(path=max(by_province, key=lambda p: by_province[p]))
    return {"nation": top, "province": province, "grassroots": grassroots,
            "sizes": {"nation": sum(counts.values()), "province": by_province[province.path],
                      "grassroots": counts[grassroots.pk]}}


def time_pages(port: int, session: str, units: dict[str, Any], repeat: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"Cookie": f"sessionid={session}"}
    from quantriet.progress.views import PAGE_SIZE

    last = -(-units["sizes"]["grassroots"] // PAGE_SIZE)  # the list's last page
    out = {}
    for name, unit, query in (("nation", "nation", ""), ("province", "province", ""),
                              ("grassroots", "grassroots", ""),
                              ("grassroots_last_page", "grassroots", f"?page={last}")):
        path = f"/progress/{SLUG}/unit/{units[unit].code}/{query}"
        times = []
        for i in range(repeat + 2):
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            res = conn.getresponse()
            body = res.read()
            if res.status != 200:
                raise RuntimeError(f"{path}: {res.status} {body[:200]!r}")
            if i >= 2:
                times.append(time.perf_counter() - t)
        out[name] = {"unit": units[unit].code + query, "participants": units["sizes"][unit],
                     "p50_ms": ms(times, 0.5), "p95_ms": ms(times, 0.95),
                     "bytes": len(body)}
    conn.close()
    return out


def time_counters(campaign: Any, n: int, seed: int) -> dict[str, Any]:
    from django.db import transaction

    from quantriet.progress import counters
    from quantriet.progress.models import UnitProgress

    rnd = random.Random(seed)
    units = list(UnitProgress.objects.filter(campaign=campaign).values_list("unit_id",
                                                                            flat=True))
    participants = list(campaign.participants.filter(active=True).order_by("?")
                        .values_list("pk", flat=True)[:n])
    picks = [rnd.choice(units) for _ in range(n)]
    each = []
    for unit in picks:  # one event, one transaction (with its commit)
        t = time.perf_counter()
        with transaction.atomic():
            counters.bump(campaign.pk, unit, attended=1, excused=-1)
        each.append(time.perf_counter() - t)
    statement = []
    with transaction.atomic():  # the statement alone
        for unit in picks:
            t = time.perf_counter()
            counters.bump(campaign.pk, unit, attended=-1, excused=1)
            statement.append(time.perf_counter() - t)
    by_participant = []
    with transaction.atomic():
        for pk in participants:
            t = time.perf_counter()
            counters.bump_participant(pk, submitted=1)
            by_participant.append(time.perf_counter() - t)
        for pk in participants:
            counters.bump_participant(pk, submitted=-1)
    many = []
    for _ in range(20):
        chosen = {u: {"absent": 1} for u in rnd.sample(units, min(50, len(units)))}
        t = time.perf_counter()
        with transaction.atomic():
            counters.bump_many(campaign.pk, chosen)
        many.append(time.perf_counter() - t)
        counters.bump_many(campaign.pk, {u: {"absent": -1} for u in chosen})
    return {
        "events": n,
        "bump_with_commit_p50_ms": ms(each, 0.5), "bump_with_commit_p95_ms": ms(each, 0.95),
        "bump_statement_p50_ms": ms(statement, 0.5),
        "bump_statement_mean_ms": round(statistics.mean(statement) * 1000, 3),
        "bump_participant_p50_ms": ms(by_participant, 0.5),
        "bump_many_50_units_p50_ms": ms(many, 0.5),
    }


def main() -> int:
    args = parse_args()
    database_url, reused = open_database(args, SECRET_KEY)
    from django.contrib.auth import get_user_model
    from django.db import connections

    from quantriet.campaigns.models import Campaign
    from quantriet.org import services as org_services
    from quantriet.progress import services
    from quantriet.progress.models import UnitProgress

    t0 = time.perf_counter()
    out: dict[str, Any] = {"database": "postgresql", "scale": args.scale, "reused": reused}
    out.update(prepare(args))
    campaign = Campaign.objects.select_related("owner_unit").get(slug=SLUG)
    units = targets(campaign)
    User = get_user_model()
    head = User.objects.filter(username="bench-progress-head").first()
    if head is None:
        head = User.objects.create_user("bench-progress-head", password="x-" + SECRET_KEY)
        org_services.grant_role(user=head, unit=campaign.owner_unit, role="unit_admin")
    session = sessions([(head.pk, head.password)])[0]
    out["participants"] = units["sizes"]["nation"]
    out["unit_rows"] = UnitProgress.objects.filter(campaign=campaign).count()
    out["setup_s"] = round(time.perf_counter() - t0, 1)
    connections.close_all()

    port = free_port()
    server = start_server(port=port, database_url=database_url, secret_key=SECRET_KEY,
                          workers=args.workers)
    try:
        out["pages"] = time_pages(port, session, units, args.repeat)
    finally:
        stop_server(server)
    out["counters"] = time_counters(campaign, args.events, args.seed)
    diffs = services.verify(campaign)
    out["verify_differences"] = len(diffs)
    connections.close_all()
    if args.drop:
        drop_database(args.pg, args.db)
    print(json.dumps(out, ensure_ascii=False))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
