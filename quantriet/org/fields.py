"""Model fields of the organisation's records."""

from __future__ import annotations

from typing import Any

from django.db import models


class BytewiseCharField(models.CharField):
    """Text compared byte by byte on PostgreSQL (``COLLATE "C"``).

    For codes, identity numbers and sort keys: their order is that of their bytes anyway
    (a sort key is built of [0-9a-z] for that), and PostgreSQL then compares them with
    ``memcmp`` instead of through the C library's collation. On a million members, the
    unique index of the national ID numbers builds in 0.6 s instead of 1.0 s and that of
    the member codes in 0.23 s instead of 0.45 s (docs/benchmarks.md). SQLite compares
    bytes already and has no collation named "C": nothing changes there.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
