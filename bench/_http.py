"""What the benchmarks that build their own PostgreSQL database share (checkin.py,
submit.py, progress.py): the database options and the scratch database with the demo
organisation, a granian server process, logged-in sessions written into the session table,
CPU accounting from /proc and percentiles."""

from __future__ import annotations

import argparse
import http.client
import io
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def database_args(p: argparse.ArgumentParser, name: str) -> None:
    """``--pg``, ``--db`` (default ``name``), ``--reuse`` and ``--drop``."""
    p.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"),
                   help="PostgreSQL server (without the database name)")
    p.add_argument("--db", default=name, help="database name")
    p.add_argument("--reuse", action="store_true",
                   help="use the database if it is already prepared (else rebuild it)")
    p.add_argument("--drop", action="store_true", help="drop the database afterwards")


def open_database(args: argparse.Namespace, secret_key: str,
                  **env: str) -> tuple[str, bool]:
    """Point Django at ``args.pg``/``args.db`` (created, or kept with ``--reuse`` when
    prepared), with DEBUG off and ``env`` added, and set it up. Returns the database URL
    and whether the database was reused."""
    database_url = f"{args.pg}/{args.db}"
    os.environ.update({"DATABASE_URL": database_url, "DEBUG": "0", "SECRET_KEY": secret_key,
                       "DJANGO_SETTINGS_MODULE": "quantriet.settings", **env})
    sys.path.insert(0, str(ROOT))
    reused = ensure_database(args.pg, args.db, args.reuse)
    import django

    django.setup()
    return database_url, reused


def migrate_and_demo(scale: str) -> dict[str, float]:
    """Migrate the (configured) database and load the demo organisation at ``scale`` if it
    has no units yet; ``{"demo_s": seconds}`` when it was loaded."""
    from django.core.management import call_command

    from quantriet.org.models import Unit

    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("migrate", verbosity=0, **quiet)
    if Unit.objects.exists():
        return {}
    t = time.perf_counter()
    call_command("demo", scale=scale, no_campaign=True, verbosity=0, **quiet)
    return {"demo_s": round(time.perf_counter() - t, 1)}


def start_server(*, port: int, database_url: str, secret_key: str, workers: int,
                 threads: int = 0, settings: str = "quantriet.settings",
                 **env_extra: str) -> subprocess.Popen:
    """granian serving the WSGI app with DEBUG off; returns once /login/ answers.
    ``threads`` 0 leaves granian's default number of blocking threads."""
    env = dict(os.environ, DATABASE_URL=database_url, DEBUG="0", SECRET_KEY=secret_key,
               ALLOWED_HOSTS=HOST, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE=settings,
               **env_extra)
    granian = Path(sys.executable).parent / "granian"
    blocking = ["--blocking-threads", str(threads)] if threads else []
    proc = subprocess.Popen(
        [str(granian), "--interface", "wsgi", "--host", HOST, "--port", str(port),
         "--workers", str(workers), *blocking, "--log-level", "warning",
         "quantriet.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start")


def ensure_database(pg: str, name: str, reuse: bool) -> bool:
    """Create the database (dropping an old one unless reused); True if it existed."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [name]).fetchone() is not None
        if exists and reuse:
            return True
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return False


def drop_database(pg: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_snapshot(server_pid: int, client_pids: list[int]) -> dict[str, float]:
    """CPU seconds used so far: the whole machine, the server's processes, PostgreSQL's
    processes (all of them, also other users') and the clients."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[str, int, int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            data = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        rest = data[data.rindex(")") + 2:].split()
        procs[int(d)] = (comm, int(rest[1]), int(rest[11]) + int(rest[12]))
    server, todo = set(), [server_pid]
    while todo:
        pid = todo.pop()
        server.add(pid)
        todo.extend(p for p, (_, ppid, _) in procs.items() if ppid == pid and p not in server)
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in fields]
    return {
        "machine": (sum(ticks[:8]) - ticks[3] - ticks[4]) / tick,
        "server": sum(procs[p][2] for p in server if p in procs) / tick,
        "postgres": sum(c for comm, _, c in procs.values() if comm == "postgres") / tick,
        "clients": sum(procs[p][2] for p in client_pids if p in procs) / tick,
    }


def cpu_use(a: dict[str, float], b: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores busy on average between two snapshots, by group."""
    use = {k: round((b[k] - a[k]) / seconds, 2) for k in a}
    use["other"] = round(use["machine"] - use["server"] - use["postgres"] - use["clients"], 2)
    return use


def ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(values[min(int(q * len(values)), len(values) - 1)] * 1000, 1)


def sessions(users: list[tuple[int, str]]) -> list[str]:
    """A logged-in session per account (pk, password hash), written into the table."""
    import datetime as dt

    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    User = get_user_model()
    store = SessionStore()
    expire = timezone.now() + dt.timedelta(days=1)
    keys, rows = [], []
    for pk, password in users:
        key = secrets.token_hex(16)
        keys.append(key)
        auth_hash = User(pk=pk, password=password).get_session_auth_hash()
        rows.append(Session(session_key=key, expire_date=expire, session_data=store.encode({
            SESSION_KEY: str(pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: auth_hash})))
    Session.objects.bulk_create(rows, batch_size=2000)
    return keys
