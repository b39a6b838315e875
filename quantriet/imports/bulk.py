"""Loading many rows into a nearly empty table: build its indexes once, after the rows.

PostgreSQL's advice for a bulk load ("Populating a Database" in its manual) is to drop a
table's indexes and foreign keys, load, and create them again: one sort per index and one
join per foreign key are far cheaper than keeping every B-tree up to date row by row and
running a deferred trigger for every row at commit. For a million members into an empty
``org_person`` the load went from about 18 s to about 8 s (docs/benchmarks.md).

It pays only when the table holds fewer rows than the load adds (the first import of a
national roster); an import of a few units' members into a full table keeps the indexes.
Everything happens inside the caller's transaction, so a failure or a killed worker
leaves the table, its indexes and its constraints as they were. The table is locked
(ACCESS EXCLUSIVE) until that transaction ends: nobody reads it meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

MIN_ROWS = 10_000
"""Below this many new rows, keeping the indexes is cheap enough whatever the table."""


def worth_it(table: str, new_rows: int) -> bool:
    """True on PostgreSQL when ``table`` holds fewer rows than ``new_rows`` (counted at
    most up to ``new_rows``, so the check costs no more than the load)."""
    if connection.vendor != "postgresql" or new_rows < MIN_ROWS:
        return False
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS t",  # noqa: S608
            [new_rows],
        )
        return cur.fetchone()[0] < new_rows


@contextmanager
def indexes_rebuilt_after(table: str, enabled: bool = True) -> Iterator[None]:
    """Drop ``table``'s secondary indexes, unique and foreign-key constraints on entry and
    create the same ones again (same names, same definitions) on exit.

    The primary key stays, and so does any unique constraint another table's foreign key
    relies on. If the block raises, nothing is re-created: the caller's transaction is
    rolled back and with it the drops. On SQLite nothing is dropped.
    """
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'f') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' "
            "AND r.confrelid = c.conrelid AND r.conindid = c.conindid AND c.contype = 'u') "
            "ORDER BY c.contype, c.conname",
            [table],
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT ci.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class ci ON ci.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid "
            "AND c.conindid = i.indexrelid) ORDER BY ci.relname",
            [table],
        )
        indexes = cur.fetchall()
        quoted = connection.ops.quote_name
        # rows written earlier in the transaction leave deferred foreign-key checks
        # queued, and PostgreSQL refuses to alter a table with checks pending: run them
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _kind, _definition in constraints:
            cur.execute(f"ALTER TABLE {quoted(table)} DROP CONSTRAINT {quoted(name)}")
        for name, _definition in indexes:
            cur.execute(f"DROP INDEX {quoted(name)}")
    yield
    with connection.cursor() as cur:
        # unique constraints first ('u' sorts after 'f', hence the reversal)
        for name, _kind, definition in reversed(constraints):
            cur.execute(f"ALTER TABLE {quoted(table)} ADD CONSTRAINT {quoted(name)} {definition}")
        for _name, definition in indexes:
            cur.execute(definition)
        cur.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def default_now(table: str, columns: list[str]) -> Iterator[None]:
    """Give ``columns`` of ``table`` the default ``now()`` (the transaction's start) inside
    the block, so that a COPY may leave them out; on PostgreSQL, inside the caller's
    transaction, which a failure rolls back with the default."""
    if connection.vendor != "postgresql":
        yield
        return
    quoted = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {quoted(table)} " + ", ".join(
            f"ALTER COLUMN {quoted(c)} SET DEFAULT now()" for c in columns))
    yield
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {quoted(table)} " + ", ".join(
            f"ALTER COLUMN {quoted(c)} DROP DEFAULT" for c in columns))


def copy_rows(model: type[Model], columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write rows of database values into ``model``'s table; columns not named get NULL.

    COPY on PostgreSQL; elsewhere (SQLite) INSERTs of 1,000 rows at a time.
    """
    db = connections[DEFAULT_DB_ALIAS]
    quoted = db.ops.quote_name
    table = quoted(model._meta.db_table)
    names = ", ".join(quoted(c) for c in columns)
    with db.cursor() as cur:
        if db.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        rows = iter(rows)
        while batch := list(islice(rows, 1000)):
            cur.executemany(sql, batch)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(v: Any) -> str:
    """One value as COPY text (see :func:`copy_line`)."""
    if v is None:
        return "\\N"
    if type(v) is str:
        return v.translate(_COPY_ESCAPES)
    return str(v)


def copy_line(row: Sequence[Any]) -> str:
    """One line of PostgreSQL's COPY text format: None as ``\\N``, text escaped, other
    values (numbers, dates, times, booleans) as ``str`` writes them.

    Cleaned cells hardly ever hold a backslash, tab or line break, so the line is joined
    first and escaped value by value only when the joined line shows one of them (the
    ``\\N`` of each None accounts for one backslash).
    """
    line = "\t".join([v if type(v) is str else "\\N" if v is None else str(v) for v in row])
    if ("\\" in line and line.count("\\") != row.count(None)
            or line.count("\t") != len(row) - 1 or "\n" in line or "\r" in line):
        line = "\t".join([copy_value(v) for v in row])
    return line + "\n"
