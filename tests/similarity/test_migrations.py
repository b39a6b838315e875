"""Migration 0004 salts the band keys already stored, in place, and can be undone."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from quantriet.campaigns import services as campaigns
from quantriet.similarity import services
from quantriet.similarity.models import BandKey, PhraseSet
from tests.factories import unit, user

BEFORE = [("similarity", "0003_band_key_covering_index")]
AFTER = [("similarity", "0004_salted_band_keys")]
RAW = [0, 1, 12345, 2**62 + 7, 2**63 - 1]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db(transaction=True)
def test_keys_salted_in_place_and_back():
    top = unit("TLD", "Tổng Liên đoàn", "confederation")
    organiser = user("tochuc", organiser=top)
    first = campaigns.create_campaign(slug="a", title="A", owner_unit=top, actor=organiser)
    second = campaigns.create_campaign(slug="b", title="B", owner_unit=top, actor=organiser)
    PhraseSet.objects.create(campaign=first, generation=1, ignore=b"", common=b"")
    rows = [(c.pk, g) for c, g in ((first, 0), (first, 1), (second, 0))]
    try:
        _migrate(BEFORE)
        with connection.cursor() as cur:
            for campaign_id, generation in rows:
                for key in RAW:
                    cur.execute("INSERT INTO similarity_bandkey (campaign_id, key, generation) "
                                "VALUES (%s, %s, %s)", [campaign_id, key, generation])
        _migrate(AFTER)
        for campaign_id, generation in rows:
            stored = sorted(BandKey.objects.filter(campaign_id=campaign_id, generation=generation)
                            .values_list("key", flat=True))
            assert stored == services.stored_keys(campaign_id, generation, RAW)
            assert stored != sorted(RAW)
        _migrate(BEFORE)  # and back: the keys as they were
        with connection.cursor() as cur:
            cur.execute("SELECT campaign_id, generation, key FROM similarity_bandkey")
            back = sorted(cur.fetchall())
        assert back == sorted((c, g, k) for c, g in rows for k in RAW)
    finally:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM similarity_bandkey")
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
