"""The roster as a CSV file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.db import connection

from quantriet.campaigns.models import Campaign, Participant
from quantriet.imports.spreadsheets import write_csv

HEADER = ["member_code", "full_name", "unit_code", "rules", "managing_unit_code", "source"]


def roster_rows(campaign: Campaign) -> Iterator[list[str]]:
    """Active participants in unit order, with the names of the rules that matched."""
    through = Participant.rules.through._meta.db_table
    names: dict[int, list[str]] = {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT t.participant_id, r.name FROM {through} t "  # noqa: S608
            f"JOIN campaigns_eligibilityrule r ON r.id = t.eligibilityrule_id "
            f"WHERE r.campaign_id = %s ORDER BY r.\"order\"", [campaign.pk])
        for pid, name in cur.fetchall():
            names.setdefault(pid, []).append(name)
    qs = (
        campaign.participants.filter(active=True)
        .order_by("unit__path", "person__sort_key", "pk")
        .values_list("pk", "person__member_code", "person__full_name", "unit__code",
                     "managing_unit__code", "source")
    )
    for pk, code, name, unit, managing, source in qs.iterator(chunk_size=10_000):
        yield [code or "", name, unit, "; ".join(names.get(pk, [])), managing or "", source]


def write_roster_csv(campaign: Campaign, path: str | Path) -> int:
    count = 0

    def counted() -> Iterator[list[str]]:
        nonlocal count
        for row in roster_rows(campaign):
            count += 1
            yield row

    with open(path, "wb") as fh:
        write_csv(fh, HEADER, counted())
    return count
