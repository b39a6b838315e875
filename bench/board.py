"""The live board of a campaign with 15,000 bridge points: time to render.

Uses the organisation in the database named by DATABASE_URL (any demo scale). Creates a
throwaway campaign ``bench-board`` owned by the top unit with N points (default 15,000)
hosted by current units, with random counters, renders the board page, its 2-second data
fragment, a far page sorted by name and the big-screen mode through Django's test client
(middleware included, as a superuser), seven times each, prints the medians as one JSON
line, and deletes the campaign.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qt_bench .venv/bin/python bench/board.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from quantriet.campaigns.models import Campaign  # noqa: E402
from quantriet.conference.models import BridgePoint  # noqa: E402
from quantriet.org.models import Unit  # noqa: E402

SLUG = "bench-board"


def main(n: int = 15_000) -> None:
    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        admin = User.objects.create_superuser("bench", "bench@example.org", None)
    top = Unit.objects.get(parent__isnull=True)
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(slug=SLUG, title="Benchmark board", owner_unit=top)
    hosts = list(Unit.objects.filter(valid_to__isnull=True).exclude(pk=top.pk)
                 .order_by("path")[:n])
    rng = random.Random(1)
    points = []
    for i in range(n):
        expected = rng.randint(0, 300)
        present = rng.randint(0, expected)
        points.append(BridgePoint(
            campaign=campaign, code=f"BP-{i:05d}", name=f"Điểm cầu số {i}",
            host_unit=hosts[i % len(hosts)], is_central=i == 0, expected=expected,
            present=present, excused=rng.randint(0, expected - present),
            substitutes=rng.randint(0, present)))
    BridgePoint.objects.bulk_create(points, batch_size=2000)
    try:
        c = Client()
        c.force_login(admin)
        board = reverse("conference:board", args=[SLUG])
        data = reverse("conference:board_data", args=[SLUG])
        out = {"database": connection.vendor, "points": n}
        for label, url, params in (("board_ms", board, {}), ("data_ms", data, {}),
                                   ("data_name_page100_ms", data, {"sort": "name",
                                                                   "page": "100"}),
                                   ("screen_ms", board, {"screen": "1"})):
            c.get(url, params)  # warm up
            runs = []
            for _ in range(7):
                t = time.perf_counter()
                resp = c.get(url, params)
                runs.append(time.perf_counter() - t)
                assert resp.status_code == 200, resp.status_code
            out[label] = round(statistics.median(runs) * 1000, 1)
        print(json.dumps(out))
    finally:
        BridgePoint.objects.filter(campaign=campaign).delete()
        campaign.delete()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15_000)
