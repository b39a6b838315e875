"""Materialised paths for the unit tree.

Each unit's ``path`` is its parent's path followed by one fixed-width segment that
encodes the unit's own primary key in base 36 (digits and lower-case letters). A
subtree is therefore every row whose path starts with the root's path, and a move
is one UPDATE that rewrites the prefix.

Prefix filters are written differently per database so that they use an index:
SQLite compiles ``startswith`` to ``LIKE ... ESCAPE`` which never uses an index, so
there we filter on the range ``path >= p AND path < p + '~'`` ('~' sorts after every
path character in the BINARY collation). PostgreSQL's default collation ignores
punctuation, so a range is unsafe there; ``LIKE 'p%'`` with the
``varchar_pattern_ops`` index that Django adds for an indexed CharField is used.
"""

from django.db import connections
from django.db.models import Q

SEGMENT = 6
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_ID = 36**SEGMENT - 1


def encode(pk: int) -> str:
    """Fixed-width base-36 segment of one primary key."""
    if pk < 0 or pk > MAX_ID:
        raise ValueError(f"id {pk} does not fit in a path segment")
    out = []
    for _ in range(SEGMENT):
        pk, rem = divmod(pk, 36)
        out.append(ALPHABET[rem])
    return "".join(reversed(out))


def decode(segment: str) -> int:
    return int(segment, 36)


def ancestor_paths(path: str) -> list[str]:
    """Paths of every proper ancestor, root first."""
    return [path[:i] for i in range(SEGMENT, len(path), SEGMENT)]


def ancestor_ids(path: str) -> list[int]:
    return [decode(p[-SEGMENT:]) for p in ancestor_paths(path)]


def depth_of(path: str) -> int:
    return len(path) // SEGMENT - 1


def subtree_q(path: str, field: str = "path", using: str = "default") -> Q:
    """Q for the rows whose ``field`` lies in the subtree rooted at ``path``."""
    if connections[using].vendor == "sqlite":
        return Q(**{f"{field}__gte": path, f"{field}__lt": path + "~"})
    return Q(**{f"{field}__startswith": path})


def any_subtree_q(paths: list[str], field: str = "path", using: str = "default") -> Q:
    """Q matching rows in any of the subtrees. An empty list matches nothing."""
    q = Q(pk__in=[])
    for p in minimal_roots(paths):
        q |= subtree_q(p, field, using)
    return q


def minimal_roots(paths: list[str]) -> list[str]:
    """Drop every path that lies inside another one of the list."""
    out: list[str] = []
    for p in sorted(set(paths)):
        if not out or not p.startswith(out[-1]):
            out.append(p)
    return out


def subtree_sql(column: str, paths: list[str] | None, vendor: str) -> tuple[str, list[str]]:
    """Raw-SQL form of ``any_subtree_q``: (condition, params). None means no restriction."""
    if paths is None:
        return "1=1", []
    roots = minimal_roots(paths)
    if not roots:
        return "1=0", []
    parts, params = [], []
    for p in roots:
        if vendor == "sqlite":
            parts.append(f"({column} >= %s AND {column} < %s)")
            params += [p, p + "~"]
        else:
            parts.append(f"{column} LIKE %s")
            params.append(p + "%")
    return "(" + " OR ".join(parts) + ")", params
