"""Sustained check-ins over HTTP against a real server process, and the live board.

Prepares its own PostgreSQL database (default ``qt_bench_checkin``; rebuilt unless
``--reuse`` finds it prepared):

* the demo organisation (``quantriet demo --scale medium --no-campaign``: 7,014 units,
  504,167 members);
* the campaign ``bench-checkin`` owned by the top unit, whose roster is every member of the
  organisation (written in one ``INSERT … SELECT`` like ``apply_roster`` does);
* one bridge point per current unit below the top plus the central point
  (``services.generate_points``), every participant assigned by
  ``services.assign_default``, then more sites for the largest points until there are
  ``--points`` (default 15,000): a point's participants are shared out between it and its
  extra sites (hand assignments, like ``move_attendance``), and the counters are
  recounted;
* a coordinator account per point used by the clients (``services.add_coordinator``),
  each with a logged-in session written straight into the session table.

Before each run every attendance is set back to "expected", the counters to zero and the
sessions replaced. Then it starts granian (``--workers`` × ``--threads``, DEBUG off,
persistent database connections as configured by ``CONN_MAX_AGE``) and ``--clients``
client processes of ``--connections`` threads each; every thread is one phone-like
client: one keep-alive ``http.client`` connection, its own disjoint set of points (a
random sample of the points, large enough for ``--pool`` participants), one request at a
time. Two timed phases:

  scan   for ``--scan-seconds``: one POST to ``…/checkin/scan/`` per check-in, rotating
         over the client's points (each request with that point's coordinator's session
         and CSRF token), 75 % by signed token and 25 % by participant number, each with
         a client reference; 5 % of the requests scan again someone already checked in
         (the answer must be "already").
  sync   for ``--sync-seconds``: offline queues posted to ``…/checkin/sync/``, ``--batch``
         items each (one point's participants, with client references and offline
         times); one batch in five is posted a second time (every item must answer
         "already").

Rates are counted over the whole phase, from the moment every client starts to the moment
the last answer of the phase came back. The CPU time of the server's processes, of all
PostgreSQL processes and of the clients is read from ``/proc`` at the phase boundaries and
given in cores and per request (scan) or per item (sync); "other" is the rest of the
machine (other users' work).

While the scan phase runs, the parent polls the board's data fragment every 2 seconds as
the organiser's big screen would. Afterwards it times the board (page, data fragment,
big-screen mode) over HTTP, median of 7, and verifies in the database that the present
attendances are exactly the participants the clients sent, each answered "checked_in"
exactly once, with the client reference of that check-in, and that the points' counters
equal a fresh recount (``services.verify_counters``). Prints one JSON line; exits with
status 1 if a verification fails.

    .venv/bin/python bench/checkin.py                 # build the database, then run
    .venv/bin/python bench/checkin.py --reuse         # run again on the prepared database
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import http.client
import json
import multiprocessing as mp
import random
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter, deque
from typing import Any

from _http import (
    HOST,
    cpu_snapshot,
    cpu_use,
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

SLUG = "bench-checkin"
# tokens are signed with SECRET_KEY: the same fixed key for this process and the server
SECRET_KEY = "bench-checkin-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN_SHARE = 0.75  # scans by signed token; the rest by participant number
REPEAT_SHARE = 0.05  # scans of someone already checked in
REPLAY_SHARE = 0.2  # sync batches posted a second time


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_args(p, "qt_bench_checkin")
    p.add_argument("--scale", default="medium", choices=["small", "medium", "full"])
    p.add_argument("--points", type=int, default=15_000)
    p.add_argument("--workers", type=int, default=2, help="granian worker processes")
    p.add_argument("--threads", type=int, default=8,
                   help="blocking threads per worker (0: granian's default)")
    p.add_argument("--clients", type=int, default=4, help="client processes")
    p.add_argument("--connections", type=int, default=4,
                   help="keep-alive connections (threads) per client process")
    p.add_argument("--scan-seconds", type=float, default=30)
    p.add_argument("--sync-seconds", type=float, default=20)
    p.add_argument("--batch", type=int, default=100, help="items per sync request")
    p.add_argument("--pool", type=int, default=150_000,
                   help="participants of the points given to the clients")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--full-path", action="store_true",
                   help="no scan key: every scan takes the session-based full path")
    return p.parse_args()


# ---------------------------------------------------------------- database


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """The organisation, campaign, roster, points and assignment (skipped when present)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from quantriet.campaigns.models import Campaign

    timings = migrate_and_demo(args.scale)
    campaign = Campaign.objects.filter(slug=SLUG).first()
    if campaign is None or campaign.bridge_points.count() != args.points:
        t = time.perf_counter()
        admin = get_user_model().objects.get(username="admin")
        with transaction.atomic():
            if campaign is not None:
                with connection.cursor() as cur:
                    cur.execute("DELETE FROM conference_attendance WHERE point_id IN (SELECT id "
                                "FROM conference_bridgepoint WHERE campaign_id = %s)",
                                [campaign.pk])
                    cur.execute("DELETE FROM campaigns_participant WHERE campaign_id = %s",
                                [campaign.pk])
                campaign.delete()
            build_campaign(admin, args.points)
        with connection.cursor() as cur:
            cur.execute("ANALYZE campaigns_participant, conference_attendance, "
                        "conference_bridgepoint")
        timings["campaign_s"] = round(time.perf_counter() - t, 1)
    return timings


def build_campaign(admin: Any, n_points: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from quantriet.campaigns import services as campaigns
    from quantriet.conference import services
    from quantriet.conference.models import Attendance, BridgePoint
    from quantriet.org.models import Unit, UnitLevel

    top = Unit.objects.get(parent__isnull=True)
    campaign = campaigns.create_campaign(slug=SLUG, title="Benchmark check-in", owner_unit=top,
                                         actor=admin)
    now = timezone.now()
    with connection.cursor() as cur:  # the whole organisation is on the roster
        cur.execute(
            "INSERT INTO campaigns_participant (campaign_id, person_id, unit_id, sort_key, "
            "source, active, reason, pinned, created_at, updated_at) "
            "SELECT %s, p.id, p.unit_id, p.sort_key, 'rule', true, '', false, %s, %s "
            "FROM org_person p "
            "JOIN org_unit u ON u.id = p.unit_id WHERE u.valid_to IS NULL ORDER BY p.id",
            [campaign.pk, now, now])
    levels = list(UnitLevel.objects.exclude(pk=top.level_id).values_list("code", flat=True))
    services.generate_points(campaign=campaign, level_codes=levels, actor=admin)
    services.assign_default(campaign=campaign, actor=admin)
    # more sites (rooms) for the largest points, until there are n_points: each new site
    # goes to the point with the most participants per site
    points = list(campaign.bridge_points.select_related("host_unit").order_by("pk"))
    sites = {p.pk: 1 for p in points}
    expected = {p.pk: p.expected for p in points}
    heap = [(-p.expected, p.pk) for p in points if p.expected > 1]
    heapq.heapify(heap)
    for _ in range(max(n_points - len(points), 0)):
        if not heap:
            break
        _, pk = heapq.heappop(heap)
        sites[pk] += 1
        heapq.heappush(heap, (-expected[pk] / sites[pk], pk))
    extra, base_of = [], []
    for p in points:
        for k in range(2, sites[p.pk] + 1):
            extra.append(BridgePoint(campaign=campaign, code=f"{p.code}.{k}"[:40],
                                     name=f"{p.name} ({k})"[:300], host_unit=p.host_unit))
            base_of.append(p.pk)
    BridgePoint.objects.bulk_create(extra, batch_size=2000)  # PostgreSQL returns the ids
    site_ids: dict[int, list[int]] = {}
    for base, bp in zip(base_of, extra, strict=True):
        site_ids.setdefault(base, [base]).append(bp.pk)
    moves: list[tuple[int, int]] = []  # participants shared out round-robin between sites
    for base, ids in site_ids.items():
        atts = Attendance.objects.filter(point_id=base).order_by("pk").values_list("pk",
                                                                                    flat=True)
        moves.extend((att, ids[i % len(ids)]) for i, att in enumerate(atts) if i % len(ids))
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE bench_moves (att BIGINT, point BIGINT)")
        with cur.copy("COPY bench_moves (att, point) FROM STDIN") as copy:
            for row in moves:
                copy.write_row(row)
        cur.execute("UPDATE conference_attendance a SET point_id = m.point, overridden = true "
                    "FROM bench_moves m WHERE a.id = m.att")
        cur.execute("DROP TABLE bench_moves")
    services._recount(campaign)


# ---------------------------------------------------------------- one run


def reset(campaign: Any) -> None:
    """Everyone expected again, counters at zero, the tables vacuumed."""
    from django.db import connection

    from quantriet.progress import counters

    with connection.cursor() as cur:
        cur.execute("UPDATE conference_attendance SET status = 'expected', checked_in_at = NULL, "
                    "checked_in_point_id = NULL, checked_in_by_id = NULL, client_ref = '', "
                    "substitute_id = NULL, reason = '' WHERE point_id IN (SELECT id FROM "
                    "conference_bridgepoint WHERE campaign_id = %s) AND (status <> 'expected' "
                    "OR client_ref <> '' OR checked_in_at IS NOT NULL)", [campaign.pk])
        cur.execute("UPDATE conference_bridgepoint SET present = 0, excused = 0, "
                    "substitutes = 0, locked = false WHERE campaign_id = %s", [campaign.pk])
        cur.execute("DELETE FROM django_session")
    counters.recount(campaign.pk)  # the progress counters of the units, from the reset rows
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE conference_attendance, conference_bridgepoint, "
                    "django_session, progress_unitprogress")


def workload(campaign: Any, args: argparse.Namespace) -> list[list[dict[str, Any]]]:
    """Disjoint sets of points for the clients, with their coordinator's session and their
    participants (id, signed token) in a random order."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from quantriet.campaigns.models import Participant
    from quantriet.conference import quick, services
    from quantriet.conference.models import Attendance

    rng = random.Random(args.seed)
    candidates = list(campaign.bridge_points.filter(expected__gt=0).order_by("pk")
                      .values_list("pk", "code", "expected"))
    rng.shuffle(candidates)
    chosen, total = [], 0
    for row in candidates:
        chosen.append(row)
        total += row[2]
        if total >= args.pool:
            break
    people: dict[int, list[int]] = {pk: [] for pk, _, _ in chosen}
    for i in range(0, len(chosen), 1000):
        ids = [pk for pk, _, _ in chosen[i:i + 1000]]
        for point_id, pid in Attendance.objects.filter(point_id__in=ids).values_list(
                "point_id", "participant_id"):
            people[point_id].append(pid)
    User = get_user_model()
    names = {pk: f"bench-coord-{pk}" for pk, _, _ in chosen}
    have = {u.username: u for u in User.objects.filter(username__in=list(names.values()))}
    User.objects.bulk_create([User(username=n, password=make_password(None), first_name="Điều phối")
                              for n in names.values() if n not in have], batch_size=2000)
    users = {u.username: u for u in User.objects.filter(username__in=list(names.values()))}
    admin = User.objects.get(username="admin")
    through = campaign.bridge_points.model.coordinators.through
    linked = set(through.objects.filter(bridgepoint_id__in=list(names)).values_list(
        "bridgepoint_id", "user_id"))
    for point in campaign.bridge_points.select_related("campaign__owner_unit", "host_unit").filter(
            pk__in=list(names)):
        user = users[names[point.pk]]
        if (point.pk, user.pk) not in linked:
            services.add_coordinator(point=point, user=user, actor=admin)
    keys = sessions([(users[names[pk]].pk, users[names[pk]].password)
                     for pk, _, _ in chosen])
    # the check-in page's scan key (quick.scan_key) for each coordinator's phone
    points = campaign.bridge_points.select_related("campaign").in_bulk(list(names))
    units = args.clients * args.connections
    specs: list[list[dict[str, Any]]] = [[] for _ in range(units)]
    for i, ((pk, code, _), key) in enumerate(zip(chosen, keys, strict=True)):
        pids = people[pk]
        rng.shuffle(pids)
        tokens = [services.invitation_token(Participant(pk=pid, campaign_id=campaign.pk))
                  for pid in pids]
        scan_key = "" if args.full_path else quick.scan_key(
            user_id=users[names[pk]].pk, point=points[pk], session_key=key)
        specs[i % units].append({"code": code, "session": key, "scan_key": scan_key,
                                 "csrf": secrets.token_hex(16),
                                 "people": list(zip(pids, tokens, strict=True))})
    return specs


# ---------------------------------------------------------------- server


# ---------------------------------------------------------------- clients


class Http:
    """One keep-alive connection; a request that got no answer is sent again (the
    check-in endpoints are idempotent, as the page's script relies on)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.retries = 0

    def call(self, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in range(3):
            try:
                self.conn.request(method, path, body, headers)
                res = self.conn.getresponse()
                return res.status, res.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.retries += 1
                if attempt == 2:
                    raise
        raise AssertionError


def headers(point: dict[str, Any], content_type: str | None = None) -> dict[str, str]:
    h = {"Cookie": f"sessionid={point['session']}; csrftoken={point['csrf']}",
         "X-CSRFToken": point["csrf"], "Accept": "application/json",
         "Accept-Language": "vi"}
    if point.get("scan_key"):
        h["X-Scan-Key"] = point["scan_key"]
    if content_type:
        h["Content-Type"] = content_type
    return h


def client(first: int, specs: list[list[dict[str, Any]]], port: int,
           args: argparse.Namespace, barrier: Any, out: Any) -> None:
    """One client process: a thread per connection, each with its own points."""
    threads = [threading.Thread(target=worker, args=(first + i, spec, port, args,
                                                          barrier, out))
               for i, spec in enumerate(specs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def worker(idx: int, spec: list[dict[str, Any]], port: int, args: argparse.Namespace,
               barrier: Any, out: Any) -> None:
    """One keep-alive connection working through its points as their coordinators."""
    rng = random.Random(f"bench-checkin/{args.seed}/{idx}")
    web = Http(port)
    base = f"/conference/{SLUG}/points/"
    paths = [base + urllib.parse.quote(p["code"]) + "/checkin/" for p in spec]
    for i in range(min(len(spec), 5)):  # warm-up: the counts fragment, nobody checked in
        web.call("GET", paths[i] + "?part=counts", None, headers(spec[i]))
    queues = [deque(p["people"]) for p in spec]
    done: list[tuple[int, int, str]] = []  # (point, participant, token) checked in
    errors: Counter[str] = Counter()
    samples: list[str] = []
    checked: dict[int, str] = {}  # participant -> client_ref of the answer "checked_in"
    answers_checked_in = 0
    sent: list[int] = []
    res: dict[str, Any] = {"idx": idx}

    def wrong(key: str, detail: Any) -> None:
        errors[key] += 1
        if len(samples) < 5:
            samples.append(f"{key}: {str(detail)[:300]}")

    # ------------------------------------------------ phase 1: one scan per request
    barrier.wait()
    end = time.time() + args.scan_seconds
    lat: list[float] = []
    n = repeats = by_token = 0
    k = -1
    exhausted = False
    while time.time() < end:
        repeat = bool(done) and rng.random() < REPEAT_SHARE
        if repeat:  # someone this client checked in before, at their point
            point, pid, token = rng.choice(done)
        else:
            k = (k + 1) % len(spec)
            if not queues[k]:
                if not any(queues):
                    exhausted = True
                    break
                continue
            point = k
            pid, token = queues[k].popleft()
        n += 1
        ref = f"s{idx}-{n}"
        form = {"client_ref": ref, "accept_other_point": "0", "at": str(int(time.time() * 1000))}
        if rng.random() < TOKEN_SHARE:
            form["token"] = token
            by_token += 1
        else:
            form["participant_id"] = str(pid)
        t = time.perf_counter()
        status, body = web.call("POST", paths[point] + "scan/",
                                urllib.parse.urlencode(form).encode(),
                                headers(spec[point], "application/x-www-form-urlencoded"))
        lat.append(time.perf_counter() - t)
        if status != 200:
            wrong(f"scan status {status}", body)
            continue
        answer = json.loads(body)
        want = "already" if repeat else "checked_in"
        if answer.get("outcome") != want or answer.get("participant") != pid:
            wrong(f"scan {want} -> {answer.get('outcome')}", answer)
        if answer.get("outcome") == "checked_in":
            answers_checked_in += 1
            checked[pid] = ref
        if repeat:
            repeats += 1
        else:
            sent.append(pid)
            done.append((point, pid, token))
    res["scan"] = {"requests": n, "repeats": repeats, "by_token": by_token,
                   "latencies": lat, "exhausted": exhausted}

    # ------------------------------------------------ phase 2: offline queues
    barrier.wait()
    end = time.time() + args.sync_seconds
    lat = []
    batches = items = replays = 0
    exhausted = False
    while time.time() < end:
        k = (k + 1) % len(spec)
        if not queues[k]:
            if not any(queues):
                exhausted = True
                break
            continue
        now_ms = int(time.time() * 1000)
        wire, pids = [], []
        while queues[k] and len(wire) < args.batch:
            pid, token = queues[k].popleft()
            item: dict[str, Any] = {"client_ref": f"y{idx}-{batches}-{len(wire)}",
                                    "accept_other_point": 0,
                                    "at": now_ms - rng.randint(60_000, 3_600_000)}
            if rng.random() < TOKEN_SHARE:
                item["token"] = token
            else:
                item["participant_id"] = pid
            wire.append(item)
            pids.append(pid)
            sent.append(pid)
        body_out = json.dumps(wire).encode()
        replay = rng.random() < REPLAY_SHARE
        for attempt in range(2 if replay else 1):
            t = time.perf_counter()
            status, body = web.call("POST", paths[k] + "sync/", body_out,
                                    headers(spec[k], "application/json"))
            lat.append(time.perf_counter() - t)
            batches += 1
            items += len(wire)
            if status != 200:
                wrong(f"sync status {status}", body)
                continue
            results = json.loads(body).get("results", [])
            if len(results) != len(wire):
                wrong("sync answered items", len(results))
            want = "already" if attempt else "checked_in"
            for item, pid, r in zip(wire, pids, results, strict=False):
                if (r.get("outcome") != want or r.get("client_ref") != item["client_ref"]
                        or r.get("participant") != pid):
                    wrong(f"sync {want} -> {r.get('outcome')}", r)
                if r.get("outcome") == "checked_in":
                    answers_checked_in += 1
                    checked[pid] = item["client_ref"]
        replays += replay
    res["sync"] = {"requests": batches, "items": items, "replayed_batches": replays,
                   "latencies": lat, "exhausted": exhausted}
    barrier.wait()
    res.update(sent=sent, checked=checked, answers_checked_in=answers_checked_in,
               errors=dict(errors), samples=samples, retries=web.retries)
    out.put(res)


# ---------------------------------------------------------------- measuring


def time_board(port: int, session: str, rounds: int = 7) -> dict[str, Any]:
    web = Http(port)
    h = {"Cookie": f"sessionid={session}", "Accept-Language": "vi"}
    board = f"/conference/{SLUG}/board/"
    out: dict[str, Any] = {}
    for label, path in (("board_ms", board), ("data_ms", board + "data/"),
                        ("data_name_page100_ms", board + "data/?sort=name&page=100"),
                        ("screen_ms", board + "?screen=1")):
        web.call("GET", path, None, h)  # warm-up
        runs = []
        for _ in range(rounds):
            t = time.perf_counter()
            status, body = web.call("GET", path, None, h)
            runs.append(time.perf_counter() - t)
            assert status == 200, (path, status)
        out[label] = round(statistics.median(runs) * 1000, 1)
    out["board_bytes"] = len(body)
    return out


# ---------------------------------------------------------------- main


def main() -> int:
    args = parse_args()
    database_url, reused = open_database(args, SECRET_KEY)
    from django.contrib.auth import get_user_model
    from django.db import connections

    from quantriet.campaigns.models import Campaign
    from quantriet.conference import services
    from quantriet.conference.models import Attendance, BridgePoint
    from quantriet.progress import counters

    t0 = time.perf_counter()
    out: dict[str, Any] = {"database": "postgresql", "reused": reused}
    out.update(prepare(args))
    campaign = Campaign.objects.get(slug=SLUG)
    reset(campaign)
    specs = workload(campaign, args)
    admin = get_user_model().objects.get(username="admin")
    admin_session = sessions([(admin.pk, admin.password)])[0]
    out["participants"] = campaign.participants.count()
    out["points"] = campaign.bridge_points.count()
    out["points_used"] = sum(len(s) for s in specs)
    out["pool"] = sum(len(p["people"]) for s in specs for p in s)
    out["server"] = (f"granian wsgi, {args.workers} workers x "
                     f"{args.threads or 'default'} threads")
    out["clients"] = f"{args.clients} processes x {args.connections} connections"
    out["scans"] = "full path" if args.full_path else "scan key (one statement)"
    out["setup_s"] = round(time.perf_counter() - t0, 1)
    connections.close_all()

    port = free_port()
    server = start_server(port=port, database_url=database_url, secret_key=SECRET_KEY,
                          workers=args.workers, threads=args.threads)
    ctx = mp.get_context("fork")
    units = args.clients * args.connections
    # a client that fails breaks the barrier instead of leaving the others waiting
    barrier = ctx.Barrier(units + 1, timeout=max(args.scan_seconds, args.sync_seconds) + 600)
    results_q = ctx.Queue()
    procs = [ctx.Process(target=client, args=(
        i * args.connections, specs[i * args.connections:(i + 1) * args.connections], port,
        args, barrier, results_q)) for i in range(args.clients)]
    try:
        for p in procs:
            p.start()
        pids = [p.pid for p in procs if p.pid]
        board = f"/conference/{SLUG}/board/data/"
        poll = Http(port)
        barrier.wait()  # ---- scan phase
        t_scan, cpu0 = time.perf_counter(), cpu_snapshot(server.pid, pids)
        under_load = []
        scan_end = time.time() + args.scan_seconds
        next_poll = time.time()
        while next_poll < scan_end - 1:  # the big screen's poll, every 2 seconds
            t = time.perf_counter()
            status, _ = poll.call("GET", board, None, {"Cookie": f"sessionid={admin_session}"})
            under_load.append(time.perf_counter() - t)
            assert status == 200, status
            next_poll += 2
            time.sleep(max(0.0, next_poll - time.time()))
        barrier.wait()  # ---- sync phase
        t_sync, cpu1 = time.perf_counter(), cpu_snapshot(server.pid, pids)
        barrier.wait()
        t_end, cpu2 = time.perf_counter(), cpu_snapshot(server.pid, pids)
        results = [results_q.get(timeout=600) for _ in range(units)]
        for p in procs:
            p.join()
        out["board"] = time_board(port, admin_session)
        out["board"]["data_under_load_p50_ms"] = ms(under_load, 0.5)
        out["board"]["data_under_load_max_ms"] = ms(under_load, 1.0)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        stop_server(server)

    scan_s, sync_s = t_sync - t_scan, t_end - t_sync
    scan_lat = [x for r in results for x in r["scan"]["latencies"]]
    sync_lat = [x for r in results for x in r["sync"]["latencies"]]
    scan_req = sum(r["scan"]["requests"] for r in results)
    scan_rep = sum(r["scan"]["repeats"] for r in results)
    sync_items = sum(r["sync"]["items"] for r in results)
    sync_req = sum(r["sync"]["requests"] for r in results)
    sync_rep = sum(r["sync"]["replayed_batches"] for r in results)
    out["scan"] = {
        "seconds": round(scan_s, 1), "requests": scan_req,
        "requests_per_s": round(scan_req / scan_s), "checkins": scan_req - scan_rep,
        "checkins_per_s": round((scan_req - scan_rep) / scan_s), "repeats": scan_rep,
        "by_token": sum(r["scan"]["by_token"] for r in results),
        "p50_ms": ms(scan_lat, 0.5), "p95_ms": ms(scan_lat, 0.95), "p99_ms": ms(scan_lat, 0.99),
        "exhausted": any(r["scan"]["exhausted"] for r in results),
    }
    sent = [pid for r in results for pid in r["sent"]]
    scan_new = scan_req - scan_rep
    sync_new = len(sent) - scan_new
    out["sync"] = {
        "seconds": round(sync_s, 1), "requests": sync_req, "items": sync_items,
        "items_per_s": round(sync_items / sync_s), "checkins": sync_new,
        "checkins_per_s": round(sync_new / sync_s), "replayed_batches": sync_rep,
        "items_per_request": round(sync_items / max(sync_req, 1), 1),
        "p50_ms": ms(sync_lat, 0.5), "p95_ms": ms(sync_lat, 0.95),
        "exhausted": any(r["sync"]["exhausted"] for r in results),
    }
    out["cpu_cores"] = {"scan": cpu_use(cpu0, cpu1, scan_s), "sync": cpu_use(cpu1, cpu2, sync_s)}
    # CPU time per request (scan) or per item (sync): what the check-ins cost, whatever
    # else the machine was doing
    for phase, n in (("scan", scan_req), ("sync", sync_items)):
        use = out["cpu_cores"][phase]
        seconds = scan_s if phase == "scan" else sync_s
        out[phase]["server_cpu_ms"] = round(use["server"] * seconds * 1000 / max(n, 1), 2)
        out[phase]["postgres_cpu_ms"] = round(use["postgres"] * seconds * 1000 / max(n, 1), 2)

    # ---------------------------------------------------------------- verification
    checked: dict[int, str] = {}
    for r in results:
        checked.update(r["checked"])
    present = dict(Attendance.objects.filter(point__campaign=campaign, status="present")
                   .values_list("participant_id", "client_ref"))
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    mismatches = services.verify_counters(campaign)
    progress_differences = counters.differences(campaign.pk)
    counter_present = sum(BridgePoint.objects.filter(campaign=campaign)
                          .values_list("present", flat=True))
    verify = {
        "sent_distinct": len(set(sent)),
        "sent_total": len(sent),
        "present_in_db": len(present),
        "present_equals_sent": set(present) == set(sent),
        "answers_checked_in": sum(r["answers_checked_in"] for r in results),
        "client_refs_match": present == checked,
        "present_counters_sum": counter_present,
        "counter_mismatches": len(mismatches),
        "progress_differences": len(progress_differences),
        "unexpected_answers": sum(errors.values()),
        "retries": sum(r["retries"] for r in results),
    }
    ok = (verify["sent_distinct"] == verify["sent_total"] == verify["present_in_db"]
          == verify["answers_checked_in"] == counter_present
          and verify["present_equals_sent"] and verify["client_refs_match"]
          and not mismatches and not progress_differences and not errors)
    verify["ok"] = ok
    if errors:
        verify["errors"] = dict(errors)
        verify["samples"] = [s for r in results for s in r["samples"]][:5]
    out["verify"] = verify
    connections.close_all()
    if args.drop:
        drop_database(args.pg, args.db)
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
