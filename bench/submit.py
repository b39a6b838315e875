"""Sustained submissions of typed learning reports over HTTP against a real server process.

Prepares its own PostgreSQL database (default ``qt_bench_submit``; rebuilt unless
``--reuse`` finds it prepared):

* the demo organisation (``quantriet demo --scale small --no-campaign``);
* the published campaign ``bench-submit`` owned by the top unit, whose roster is
  ``--participants`` members of the organisation (written in one ``INSERT … SELECT``), each
  routed to the parent of their unit as the default routing does;
* an account per participant, linked to their person (``org_person.user_id``), and
  ``--reviewers`` accounts holding the reviewer role at every managing unit (bulk inserts);
* the campaign's report policy and grading scale (``services.policy_for``).

Before each run the campaign's reports (versions, reviews) and all sessions are deleted;
every participant gets a logged-in session written straight into the session table.
Then it starts granian (``--workers`` × ``--threads``, DEBUG off, persistent database
connections) and ``--clients`` client processes, each with keep-alive ``http.client``
connections and its own disjoint share of the participants. Each client first submits
``--warmup`` reports untimed, then for ``--seconds`` POSTs ``reports:submit`` as
``application/x-www-form-urlencoded`` with ``Accept: application/json``: the text of a new
report (300–800 words of Vietnamese in paragraphs, different for every participant) with
a fresh ``client_ref``, one participant after another. Among the requests,
``--duplicates`` re-send an earlier submission unchanged (same text, same
``client_ref``: the answer must be version 1 again) and ``--races`` send a new submission
on two connections at once (both answers must be version 1).

Afterwards it verifies in the database that the participants with a version are exactly
the participants the clients sent, each with exactly one version whose SHA-256, text
length and ``client_ref`` are the ones sent, that no other version exists, and that every
report is submitted, routed to its managing unit and assigned to a reviewer of that unit,
and that each version's copy check is queued exactly once (no task worker runs during the
benchmark). Prints one JSON line; exits with status 1 if a verification fails.

``--profile`` also submits ``--profile-n`` reports through Django's test client inside
``CaptureQueriesContext`` (before the HTTP run) and adds the queries per submission, the
time spent in SQL and the slowest statements to the output.

    .venv/bin/python bench/submit.py                 # build the database, then run
    .venv/bin/python bench/submit.py --reuse         # run again on the prepared database
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing as mp
import random
import secrets
import statistics
import sys
import time
import urllib.parse
from collections import Counter
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

SLUG = "bench-submit"
SECRET_KEY = "bench-submit-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
USER_PREFIX = "bench-p-"
REVIEWER_PREFIX = "bench-r-"

# Vocabulary of the generated reports (NFC; the server stores them unchanged).
WORDS = (
    "công đoàn đoàn viên người lao động nghị quyết đại hội học tập quán triệt nhận thức "
    "trách nhiệm bản thân đơn vị cơ sở tổ chức hoạt động phong trào thi đua chăm lo đời "
    "sống việc làm thu nhập điều kiện làm việc an toàn vệ sinh lao động pháp luật chính "
    "sách quyền lợi hợp pháp chính đáng đối thoại thương lượng thỏa ước tập thể cán bộ "
    "chuyên trách kiêm nhiệm ban chấp hành ủy ban kiểm tra phát triển đoàn viên xây dựng "
    "vững mạnh đổi mới nội dung phương thức chuyển đổi số tuyên truyền giáo dục chính trị "
    "tư tưởng đạo đức lối sống kỷ luật kỷ cương dân chủ công khai minh bạch hiệu quả thiết "
    "thực cụ thể kế hoạch hành động nhiệm vụ giải pháp mục tiêu chỉ tiêu năm nhiệm kỳ giai "
    "đoạn tiếp tục nâng cao chất lượng tăng cường phối hợp chặt chẽ với chuyên môn doanh "
    "nghiệp chính quyền địa phương cấp trên cấp dưới trực tiếp gắn bó niềm tin đoàn kết "
    "thống nhất ý chí hành động khó khăn thách thức cơ hội thuận lợi hạn chế nguyên nhân "
    "bài học kinh nghiệm đề xuất kiến nghị thực hiện triển khai kiểm tra giám sát đánh giá "
    "tổng kết khen thưởng nữ công gia đình trẻ em nhà ở công nhân khu công nghiệp"
).split()
OPENINGS = ("Thứ nhất,", "Thứ hai,", "Bên cạnh đó,", "Ngoài ra,", "Qua học tập,", "Tóm lại,",
            "Về phía bản thân,", "Tại đơn vị,")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_args(p, "qt_bench_submit")
    p.add_argument("--scale", default="small", choices=["small", "medium", "full"])
    p.add_argument("--participants", type=int, default=18_000,
                   help="participants on the roster (each submits at most once)")
    p.add_argument("--reviewers", type=int, default=2, help="reviewers per managing unit")
    p.add_argument("--workers", type=int, default=2, help="granian worker processes")
    p.add_argument("--threads", type=int, default=4, help="blocking threads per worker")
    p.add_argument("--clients", type=int, default=6, help="client processes")
    p.add_argument("--seconds", type=float, default=30, help="length of the timed phase")
    p.add_argument("--warmup", type=int, default=5, help="untimed submissions per client")
    p.add_argument("--duplicates", type=float, default=0.05,
                   help="share of requests re-sending an earlier submission")
    p.add_argument("--races", type=float, default=0.02,
                   help="share of new submissions sent on two connections at once")
    p.add_argument("--min-words", type=int, default=300)
    p.add_argument("--max-words", type=int, default=800)
    p.add_argument("--profile", action="store_true",
                   help="count the queries of a submission through the test client first")
    p.add_argument("--profile-n", type=int, default=20)
    p.add_argument("--settings", default="quantriet.settings",
                   help="settings module of the server and of this process (experiments)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--full-path", action="store_true",
                   help="no submit key: every submission takes the session-based full path")
    return p.parse_args()


# ---------------------------------------------------------------- database


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """The organisation, campaign, roster, accounts and reviewers (skipped when present)."""
    from django.db import connection, transaction

    from quantriet.campaigns.models import Campaign

    timings = migrate_and_demo(args.scale)
    campaign = Campaign.objects.filter(slug=SLUG).first()
    if (campaign is None or campaign.participants.count() != args.participants
            or not campaign.participants.filter(person__user__isnull=False).exists()):
        t = time.perf_counter()
        with transaction.atomic():
            if campaign is not None:
                drop_campaign(campaign)
            build_campaign(args)
        with connection.cursor() as cur:
            cur.execute("ANALYZE campaigns_participant, org_person, auth_user, org_grant")
        timings["campaign_s"] = round(time.perf_counter() - t, 1)
    return timings


def drop_campaign(campaign: Any) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("UPDATE org_person SET user_id = NULL WHERE user_id IN (SELECT id FROM "
                    "auth_user WHERE username LIKE %s)", [USER_PREFIX + "%"])
        cur.execute("DELETE FROM org_grant WHERE user_id IN (SELECT id FROM auth_user WHERE "
                    "username LIKE %s)", [REVIEWER_PREFIX + "%"])
        cur.execute("DELETE FROM django_session")
        cur.execute("DELETE FROM reports_report WHERE campaign_id = %s", [campaign.pk])
        cur.execute("DELETE FROM campaigns_participant WHERE campaign_id = %s", [campaign.pk])
        cur.execute("DELETE FROM auth_user WHERE username LIKE %s OR username LIKE %s",
                    [USER_PREFIX + "%", REVIEWER_PREFIX + "%"])
    campaign.delete()


def build_campaign(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone, translation

    from quantriet.campaigns import services as campaigns
    from quantriet.campaigns.models import Campaign
    from quantriet.org.models import Grant, Unit
    from quantriet.reports import services

    User = get_user_model()
    admin = User.objects.get(username="admin")
    top = Unit.objects.get(parent__isnull=True)
    campaign = campaigns.create_campaign(slug=SLUG, title="Benchmark nộp bài thu hoạch",
                                         owner_unit=top, actor=admin)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PUBLISHED)
    now = timezone.now()
    with connection.cursor() as cur:
        # members without an account, in a fixed pseudo-random order; each managed by the
        # parent of their unit (the default routing)
        cur.execute(
            "INSERT INTO campaigns_participant (campaign_id, person_id, unit_id, sort_key, "
            "managing_unit_id, source, active, reason, pinned, created_at, updated_at) "
            "SELECT %s, p.id, p.unit_id, p.sort_key, COALESCE(u.parent_id, u.id), 'rule', "
            "true, '', false, %s, %s FROM org_person p JOIN org_unit u ON u.id = p.unit_id "
            "WHERE u.valid_to IS NULL AND p.user_id IS NULL "
            "ORDER BY md5(p.id::text) LIMIT %s",
            [campaign.pk, now, now, args.participants])
        cur.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) "
            "SELECT '!bench', false, %s || pa.person_id, '', '', '', false, true, %s "
            "FROM campaigns_participant pa WHERE pa.campaign_id = %s",
            [USER_PREFIX, now, campaign.pk])
        cur.execute(
            "UPDATE org_person p SET user_id = a.id FROM auth_user a "
            "WHERE a.username = %s || p.id AND p.id IN (SELECT person_id FROM "
            "campaigns_participant WHERE campaign_id = %s)", [USER_PREFIX, campaign.pk])
    units = sorted(set(campaign.participants.values_list("managing_unit_id", flat=True)))
    User.objects.bulk_create([User(username=f"{REVIEWER_PREFIX}{u}-{k}", password="!bench",
                                   first_name="Người chấm")
                              for u in units for k in range(args.reviewers)], batch_size=2000)
    ids = dict(User.objects.filter(username__startswith=REVIEWER_PREFIX)
               .values_list("username", "pk"))
    Grant.objects.bulk_create([Grant(user_id=ids[f"{REVIEWER_PREFIX}{u}-{k}"], unit_id=u,
                                     role="reviewer", granted_by=admin)
                               for u in units for k in range(args.reviewers)], batch_size=2000)
    with translation.override("vi"):
        services.policy_for(campaign)


# ---------------------------------------------------------------- one run


def reset(campaign: Any) -> None:
    """No reports, copy checks or sessions left from a previous run, the progress
    counters recounted (as applying a roster does), the tables vacuumed."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from quantriet.progress import counters
    from quantriet.similarity.tasks import check_version

    DBTaskResult.objects.filter(task_path=check_version.module_path).delete()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM reports_review WHERE report_id IN (SELECT id FROM "
                    "reports_report WHERE campaign_id = %s)", [campaign.pk])
        cur.execute("DELETE FROM reports_version WHERE report_id IN (SELECT id FROM "
                    "reports_report WHERE campaign_id = %s)", [campaign.pk])
        cur.execute("DELETE FROM reports_report WHERE campaign_id = %s", [campaign.pk])
        cur.execute("DELETE FROM core_auditevent WHERE action LIKE 'reports.%%'")
        cur.execute("DELETE FROM django_session")
    counters.recount(campaign.pk)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE reports_report, reports_version, reports_review, "
                    "django_session, progress_unitprogress")


def workload(campaign: Any,
             args: argparse.Namespace) -> list[list[tuple[int, str, str, str]]]:
    """Disjoint shares of the participants: (participant id, session key, CSRF secret,
    the writing page's submit key -- empty with ``--full-path``)."""
    from quantriet.campaigns.models import Participant
    from quantriet.reports import quick

    rows = list(campaign.participants.filter(active=True).order_by("pk")
                .values_list("pk", "person__user_id", "person__user__password"))
    random.Random(args.seed).shuffle(rows)
    keys = sessions([(user, password) for _, user, password in rows])
    specs: list[list[tuple[int, str, str, str]]] = [[] for _ in range(args.clients)]
    for i, ((pid, user, _), key) in enumerate(zip(rows, keys, strict=True)):
        submit_key = "" if args.full_path else quick.submit_key(
            user_id=user, participant=Participant(pk=pid, campaign_id=campaign.pk),
            slug=SLUG, session_key=key)
        specs[i % args.clients].append((pid, key, secrets.token_hex(16), submit_key))
    return specs


def report_text(seed: int, pid: int, lo: int, hi: int) -> str:
    """A report of lo..hi words in paragraphs, different for every participant."""
    rng = random.Random(f"{seed}/{pid}")
    n = rng.randint(lo, hi)
    paragraphs = [f"Bài thu hoạch của đại biểu số {pid}."]
    words = len(paragraphs[0].split())
    while words < n:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            opening = rng.choice(OPENINGS)
            k = min(rng.randint(8, 22), max(n - words - len(opening.split()), 1))
            sentences.append(f"{opening} {' '.join(rng.choice(WORDS) for _ in range(k))}.")
            words += len(opening.split()) + k
            if words >= n:
                break
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------- server


# ---------------------------------------------------------------- clients


class Http:
    """One keep-alive connection. A request that got no answer is sent again: a
    submission carries its client_ref, so a retry must not store a second version."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.retries = 0

    def send(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.conn.request("POST", path, body, headers)

    def receive(self) -> tuple[int, bytes]:
        res = self.conn.getresponse()
        return res.status, res.read()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in range(3):
            try:
                self.send(path, body, headers)
                return self.receive()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.retries += 1
                if attempt == 2:
                    raise
        raise AssertionError


def client(idx: int, spec: list[tuple[int, str, str, str]], port: int,
           args: argparse.Namespace,
           barrier: Any, out: Any) -> None:
    rng = random.Random(f"bench-submit/{args.seed}/{idx}")
    path = f"/reports/{SLUG}/submit/"
    web, other = Http(port), Http(port)
    items = []  # (participant, body, headers, sha256, chars, client_ref), ready to send
    for pid, session, csrf, submit_key in spec:
        text = report_text(args.seed, pid, args.min_words, args.max_words)
        ref = f"{idx}-{pid}-{secrets.token_hex(8)}"
        form = {"text": text, "client_ref": ref}
        if submit_key:
            form["submit_key"] = submit_key
        body = urllib.parse.urlencode(form).encode()
        headers = {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf,
                   "Accept": "application/json", "Accept-Language": "vi",
                   "Content-Type": "application/x-www-form-urlencoded"}
        items.append((pid, body, headers, hashlib.sha256(text.encode()).hexdigest(),
                      len(text), ref))
    errors: Counter[str] = Counter()
    samples: list[str] = []
    sent: dict[int, tuple[str, int, str]] = {}  # participant -> (sha256, chars, client_ref)
    done: list[int] = []  # indexes of items submitted
    answers_ok = 0

    def check(status: int, body: bytes, what: str) -> bool:
        nonlocal answers_ok
        try:
            answer = json.loads(body) if status == 200 else {}
        except ValueError:
            answer = {}
        if status != 200 or answer.get("ok") is not True or answer.get("version") != 1:
            errors[f"{what}: {status} {answer.get('version')}"] += 1
            if len(samples) < 5:
                samples.append(f"{what} {status}: {body[:300]!r}")
            return False
        answers_ok += 1
        return True

    k = 0
    for _ in range(min(args.warmup, len(items))):  # untimed
        pid, body, headers, sha, chars, ref = items[k]
        status, answer = web.post(path, body, headers)
        check(status, answer, "warm-up")
        sent[pid] = (sha, chars, ref)
        done.append(k)
        k += 1
    barrier.wait()  # ---- timed phase
    end = time.time() + args.seconds
    new_lat: list[float] = []
    dup_lat: list[float] = []
    duplicates = races = 0
    exhausted = False
    while time.time() < end:
        if done and rng.random() < args.duplicates:  # the same request again
            pid, body, headers, sha, chars, ref = items[rng.choice(done)]
            t = time.perf_counter()
            status, answer = web.post(path, body, headers)
            dup_lat.append(time.perf_counter() - t)
            check(status, answer, "duplicate")
            duplicates += 1
            continue
        if k >= len(items):
            exhausted = True
            break
        pid, body, headers, sha, chars, ref = items[k]
        sent[pid] = (sha, chars, ref)
        done.append(k)
        k += 1
        t = time.perf_counter()
        if rng.random() < args.races:  # on two connections at once
            try:
                web.send(path, body, headers)
                other.send(path, body, headers)
                first, second = web.receive(), other.receive()
            except (OSError, http.client.HTTPException):
                web.conn.close()
                other.conn.close()
                first = second = web.post(path, body, headers)
                web.retries += 1
            new_lat.append(time.perf_counter() - t)
            check(*first, "race")
            check(*second, "race")
            races += 1
        else:
            status, answer = web.post(path, body, headers)
            new_lat.append(time.perf_counter() - t)
            check(status, answer, "new")
    barrier.wait()
    out.put({"idx": idx, "sent": sent, "warmup": min(args.warmup, len(items)),
             "new_latencies": new_lat, "dup_latencies": dup_lat, "duplicates": duplicates,
             "races": races, "exhausted": exhausted, "answers_ok": answers_ok,
             "errors": dict(errors), "samples": samples,
             "retries": web.retries + other.retries})


# ---------------------------------------------------------------- measuring


def profile(campaign: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Queries of ``--profile-n`` submissions made through the test client (one handler, so
    the middleware is loaded once as in the server; the session and user lookups are part
    of each request). The reports are deleted again by the reset that follows."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from quantriet.campaigns.models import Participant
    from quantriet.reports import quick

    url = reverse("reports:submit", args=[SLUG])
    parts = list(campaign.participants.order_by("-pk")
                 .values_list("pk", "person__user_id", "person__user__password")
                 [:args.profile_n])
    keys = sessions([(user, password) for _, user, password in parts])
    c = Client(HTTP_ACCEPT="application/json")
    c.get("/login/")  # loads the middleware
    counts, sql_ms, wall = [], [], []
    by_statement: Counter[str] = Counter()
    time_by_statement: Counter[str] = Counter()
    example: list[str] = []
    for (pid, user, _), key in zip(parts, keys, strict=True):
        c.cookies["sessionid"] = key
        text = report_text(args.seed, pid, args.min_words, args.max_words)
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            form = {"text": text, "client_ref": f"profile-{pid}"}
            if not args.full_path:
                form["submit_key"] = quick.submit_key(
                    user_id=user, participant=Participant(pk=pid, campaign_id=campaign.pk),
                    slug=SLUG, session_key=key)
            resp = c.post(url, form)
            wall.append(time.perf_counter() - t)
        assert resp.status_code == 200 and resp.json()["ok"], resp.content[:300]
        counts.append(len(ctx.captured_queries))
        sql_ms.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        for q in ctx.captured_queries:
            head = q["sql"][:100]
            by_statement[head] += 1
            time_by_statement[head] += float(q["time"]) * 1000
        if not example:
            example = [q["sql"][:100] for q in ctx.captured_queries]
    n = len(parts)
    return {
        "submissions": n,
        "queries_per_submit": round(statistics.mean(counts), 1),
        "sql_ms_per_submit": round(statistics.mean(sql_ms), 2),
        "wall_ms_per_submit": round(statistics.median(wall) * 1000, 2),
        "slowest": [{"sql": s, "per_submit": round(by_statement[s] / n, 1),
                     "ms_per_submit": round(time_by_statement[s] / n, 3)}
                    for s, _ in time_by_statement.most_common(5)],
        "statements": example,
    }


# ---------------------------------------------------------------- main


def main() -> int:
    args = parse_args()
    database_url, reused = open_database(args, SECRET_KEY, ALLOWED_HOSTS=f"{HOST},testserver",
                                         DJANGO_SETTINGS_MODULE=args.settings)
    from django.db import connections

    from quantriet.campaigns.models import Campaign
    from quantriet.org.models import Grant
    from quantriet.progress import counters
    from quantriet.reports import services
    from quantriet.reports.models import Report, Version

    t0 = time.perf_counter()
    out: dict[str, Any] = {"database": "postgresql", "reused": reused}
    out.update(prepare(args))
    campaign = Campaign.objects.get(slug=SLUG)
    sample = report_text(args.seed, 1, args.min_words, args.max_words)
    assert services.tidy_text(sample) == sample, "generated text is not in stored form"
    if args.profile:
        reset(campaign)
        out["profile"] = profile(campaign, args)
    reset(campaign)
    specs = workload(campaign, args)
    out["participants"] = sum(len(s) for s in specs)
    out["managing_units"] = campaign.participants.values("managing_unit").distinct().count()
    out["server"] = f"granian wsgi, {args.workers} workers x {args.threads} threads"
    out["submissions"] = "full path" if args.full_path else "submit key (one statement)"
    if args.settings != "quantriet.settings":
        out["settings"] = args.settings
    out["clients"] = args.clients
    out["setup_s"] = round(time.perf_counter() - t0, 1)
    connections.close_all()

    port = free_port()
    server = start_server(port=port, database_url=database_url, secret_key=SECRET_KEY,
                          workers=args.workers, threads=args.threads,
                          settings=args.settings, CONN_MAX_AGE="600")
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(args.clients + 1)
    results_q = ctx.Queue()
    procs = [ctx.Process(target=client, args=(i, specs[i], port, args, barrier, results_q))
             for i in range(args.clients)]
    try:
        for p in procs:
            p.start()
        pids = [p.pid for p in procs if p.pid]
        barrier.wait(timeout=600)  # ---- timed phase
        t_start, cpu0 = time.perf_counter(), cpu_snapshot(server.pid, pids)
        barrier.wait(timeout=args.seconds + 300)
        t_end, cpu1 = time.perf_counter(), cpu_snapshot(server.pid, pids)
        results = [results_q.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        stop_server(server)

    seconds = t_end - t_start
    new_lat = [x for r in results for x in r["new_latencies"]]
    dup_lat = [x for r in results for x in r["dup_latencies"]]
    warm = sum(r["warmup"] for r in results)
    timed_new = len(new_lat)
    dups = sum(r["duplicates"] for r in results)
    races = sum(r["races"] for r in results)
    out["run"] = {
        "seconds": round(seconds, 1),
        "submissions": timed_new,
        "submissions_per_s": round(timed_new / seconds, 1),
        "requests": timed_new + races + dups,
        "requests_per_s": round((timed_new + races + dups) / seconds, 1),
        "duplicates_resent": dups, "races": races,
        "p50_ms": ms(new_lat, 0.5), "p95_ms": ms(new_lat, 0.95), "p99_ms": ms(new_lat, 0.99),
        "max_ms": ms(new_lat, 1.0),
        "duplicate_p50_ms": ms(dup_lat, 0.5), "duplicate_p95_ms": ms(dup_lat, 0.95),
        "exhausted": any(r["exhausted"] for r in results),
        "warmup_submissions": warm,
    }
    out["cpu_cores"] = cpu_use(cpu0, cpu1, seconds)

    # ---------------------------------------------------------------- verification
    sent: dict[int, tuple[str, int, str]] = {}
    for r in results:
        assert not set(sent) & set(r["sent"]), "clients shared a participant"
        sent.update(r["sent"])
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    versions: dict[int, list[tuple[int, str, int, str]]] = {}
    for pid, number, sha, chars, ref in Version.objects.filter(
            report__campaign=campaign).values_list(
            "report__participant_id", "number", "sha256", "text", "client_ref").iterator():
        versions.setdefault(pid, []).append((number, sha, len(chars), ref))
    pools: dict[int, set[int]] = {}
    for unit, user in Grant.objects.filter(role="reviewer").values_list("unit_id", "user_id"):
        pools.setdefault(unit, set()).add(user)
    managing = dict(campaign.participants.values_list("pk", "managing_unit_id"))
    reports = {pid: (status, count, reviewer, unit, review_unit, escalated)
               for pid, status, count, reviewer, unit, review_unit, escalated
               in Report.objects.filter(campaign=campaign).values_list(
                   "participant_id", "status", "version_count", "reviewer_id",
                   "managing_unit_id", "review_unit_id", "escalated").iterator()}
    # each stored version has its copy check queued, once (the worker is not running)
    from django_tasks_db.models import DBTaskResult

    from quantriet.similarity.tasks import check_version

    checks = Counter(args_kwargs["args"][0] for args_kwargs in DBTaskResult.objects.filter(
        task_path=check_version.module_path).values_list("args_kwargs", flat=True).iterator())
    version_ids = set(Version.objects.filter(report__campaign=campaign)
                      .values_list("pk", flat=True))
    lost = [p for p in sent if p not in versions]
    duplicated = [p for p, vs in versions.items() if len(vs) > 1]
    unexpected = [p for p in versions if p not in sent]
    wrong = [p for p in sent if p in versions and len(versions[p]) == 1
             and versions[p][0] != (1, sent[p][0], sent[p][1], sent[p][2])]
    bad_reports = [p for p in sent if p not in reports or reports[p][:2] != ("submitted", 1)]
    unrouted = [p for p in sent if p in reports and (
        reports[p][3] != managing[p] or reports[p][4] != managing[p] or reports[p][5])]
    unassigned = [p for p in sent if p in reports and (
        reports[p][2] is None or reports[p][2] not in pools.get(reports[p][4], set()))]
    load: dict[int, Counter[int]] = {}
    for pid in sent:
        if pid in reports and reports[pid][2] is not None:
            load.setdefault(reports[pid][4], Counter())[reports[pid][2]] += 1
    spread = max((max(c[r] for r in pools[u]) - min(c[r] for r in pools[u])
                  for u, c in load.items()), default=0)
    expected_answers = len(sent) + races + dups
    answers_ok = sum(r["answers_ok"] for r in results)
    verify = {
        "sent": len(sent), "versions_in_db": sum(len(v) for v in versions.values()),
        "lost": len(lost), "duplicated": len(duplicated), "unexpected": len(unexpected),
        "wrong_hash_or_ref": len(wrong), "bad_report_rows": len(bad_reports),
        "not_routed_to_managing_unit": len(unrouted), "without_reviewer_of_unit": len(unassigned),
        "answers_ok": answers_ok, "answers_expected": expected_answers,
        "unexpected_answers": sum(errors.values()), "retries": sum(r["retries"] for r in results),
        "max_reviewer_spread_in_a_unit": spread,
        "copy_checks_queued": sum(checks.values()),
        "versions_without_copy_check": len(version_ids - set(checks)),
        "copy_checks_twice_or_stray": sum(1 for v, n in checks.items()
                                          if n > 1 or v not in version_ids),
        "progress_differences": len(counters.differences(campaign.pk)),
    }
    ok = (not lost and not duplicated and not unexpected and not wrong and not bad_reports
          and not unrouted and not unassigned and not errors and answers_ok == expected_answers
          and verify["versions_in_db"] == len(sent) and not verify["progress_differences"]
          and not verify["versions_without_copy_check"]
          and not verify["copy_checks_twice_or_stray"])
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
