"""What the one-statement hot paths share (a coordinator's scan, ``conference/quick.py``;
a participant's submission, ``reports/quick.py``).

On the busiest days a request must cost little: instead of reading the session, the
account and the objects one query at a time, such a path proves who is asking with a
**session-bound key** and answers with one SQL statement that re-checks everything that
matters against the database.

The key is handed out by a page the user has opened while logged in. It is signed with the
site's secret, names the account and the objects the page is about, carries a hash of the
browser's session cookie and expires after ``max_age``. Sent back with that same cookie, it
says "this browser's session belonged to this account when the page was opened"; the
statement then checks that the session still exists (``SESSION_ALIVE_SQL``), so logging
out ends the key's use at once. Any key that does not fit -- altered, expired, for other
objects, with another cookie -- is simply not used and the request takes the ordinary
path, which reads the session as usual.

The statements are PostgreSQL's (data-modifying ``WITH`` clauses) and read the session
table, so the paths exist only with PostgreSQL and the database session engine.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.tasks import TaskResultStatus
from django.utils.crypto import salted_hmac

SESSION_ALIVE_SQL = ("EXISTS (SELECT 1 FROM django_session s WHERE s.session_key = "
                     "%(session)s AND s.expire_date > %(now)s)")
"""A condition for the statements: the session the key is bound to is still alive."""


NEVER_BY_COUNT = 1 << 30  # psycopg's prepare_threshold: only statements asked to be prepared


def supported() -> bool:
    """Whether the paths are on: PostgreSQL, sessions in the database, and not turned off
    (``QUANTRIET_FAST_PATHS=0``, e.g. behind a pooler in transaction mode, which does
    not keep prepared statements)."""
    return (connection.vendor == "postgresql" and settings.QUANTRIET_FAST_PATHS
            and settings.SESSION_ENGINE == "django.contrib.sessions.backends.db")


def _session_tag(salt: str, session_key: str) -> str:
    return salted_hmac(salt, session_key or "", algorithm="sha256").hexdigest()[:16]


def sign(salt: str, ids: list[int], names: list[str], session_key: str) -> str:
    """A key naming objects by id (``ids``) and by address (``names``), bound to the
    session cookie ``session_key``."""
    return signing.dumps([*ids, *names, _session_tag(salt, session_key)], salt=salt)


def read(salt: str, key: str, *, ids: int, names: list[str], session_key: str,
         max_age: int) -> list[int] | None:
    """The ``ids`` of a valid key made by :func:`sign` for these ``names``, sent with the
    session cookie it was made for; None for anything else."""
    try:
        data = signing.loads(key, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    if (not isinstance(data, list) or len(data) != ids + len(names) + 1
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in data[:ids])
            or data[ids:] != [*names, _session_tag(salt, session_key)]):
        return None
    return data[:ids]


def session_cookie(request: Any) -> str:
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")


def prepared_cursor() -> Any:
    """A cursor whose statements PostgreSQL prepares once per connection, so that it stops
    planning them on every request -- planning such a statement costs more than running
    it. Django's cursors bind parameters on the client and its connections never prepare
    (``prepare_threshold`` is None, for the sake of connection poolers in transaction
    mode; these paths need direct, persistent connections, see docs/production.md).
    Wrapped like Django's cursors, so that the statement is logged and counted as theirs
    are."""
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:  # None turns preparing off, even when asked for;
        raw.prepare_threshold = NEVER_BY_COUNT  # Django's own cursors never prepare anyway
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    return wrapper(_preparing_cursor()(raw), connection)


@functools.cache
def _preparing_cursor() -> Any:
    import psycopg

    class Preparing(psycopg.Cursor):  # binds on the server and prepares at first use
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                    binary: bool | None = None) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare,
                                   binary=binary)

    return Preparing


# ---------------------------------------------------------------- queueing a task in SQL


def queue_clause(name: str, source: str, arg: str) -> str:
    """A ``WITH`` clause ``name`` that queues a task for each row of the clause ``source``,
    with the one argument ``arg`` (an SQL expression over ``source``), as the database
    task backend's ``enqueue`` writes its row -- so that the hot path commits its work and
    its follow-up task at once, in one round trip. The values come from
    :func:`queue_params`; ``tests/reports/test_quick_submit.py`` checks that the row equals
    one written by ``enqueue``."""
    from django_tasks_db.models import DBTaskResult

    return f"""
{name} AS (
    INSERT INTO {DBTaskResult._meta.db_table} (
           id, status, args_kwargs, priority, task_path, queue_name, backend_name, run_after,
           enqueued_at, exception_class_path, traceback, worker_ids)
    SELECT %(task_id)s, %(task_status)s,
           jsonb_build_object('args', jsonb_build_array({arg}), 'kwargs', '{{}}'::jsonb),
           %(task_priority)s, %(task_path)s, %(task_queue)s, %(task_backend)s,
           %(task_run_after)s, %(now)s, '', '', '[]'::jsonb
      FROM {source}
)"""  # noqa: S608 - names from the model and the caller's constants


def queue_params(task: Any) -> dict[str, Any] | None:
    """The parameters of :func:`queue_clause` for ``task``; None when its backend is not
    the database backend (then the caller enqueues the usual way)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend) or backend.options.get("id_function"):
        return None
    return {"task_id": DBTaskResult._meta.pk.default(), "task_status": TaskResultStatus.READY,
            "task_priority": task.priority, "task_path": task.module_path,
            "task_queue": task.queue_name, "task_backend": backend.alias,
            "task_run_after": task.run_after or get_date_max()}
