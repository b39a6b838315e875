"""Band keys salted with their campaign and generation, and a lookup index of (key, report).

The stored keys are rewritten in place (``key XOR salt`` for each campaign and generation,
``services.stored_keys``), so nothing has to be fingerprinted again. On PostgreSQL this is
one ``ALTER COLUMN … TYPE … USING``: the table is written anew (no dead rows left behind)
and its remaining indexes are built once, after the old lookup index is dropped.
"""

import json

from django.db import migrations, models


def _pairs(apps, schema_editor):
    """(campaign id, generation, salt) of every generation that may have keys."""
    from quantriet.similarity.services import _salt

    PhraseSet = apps.get_model("similarity", "PhraseSet")
    Campaign = apps.get_model("campaigns", "Campaign")
    db = schema_editor.connection.alias
    pairs = {(c, 0) for c in Campaign.objects.using(db).values_list("pk", flat=True)}
    pairs |= set(PhraseSet.objects.using(db).values_list("campaign_id", "generation"))
    return sorted((c, g, _salt(c, g)) for c, g in pairs)


def salt(apps, schema_editor):
    pairs = _pairs(apps, schema_editor)
    if not pairs:
        return
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            # the salts as one jsonb object ("campaign/generation": salt), looked up by key
            # for each row; integers only, so the literal needs no quoting
            salts = json.dumps({f"{c}/{g}": s for c, g, s in pairs})
            cur.execute(
                "ALTER TABLE similarity_bandkey ALTER COLUMN key TYPE bigint USING key # "
                f"COALESCE(('{salts}'::jsonb ->> (campaign_id || '/' || generation))::bigint, 0)")
            return
        for c, g, s in pairs:  # x XOR s = (x | s) & ~(x & s): SQLite has no XOR operator
            cur.execute("UPDATE similarity_bandkey SET key = (key | %s) & ~(key & %s) "
                        "WHERE campaign_id = %s AND generation = %s", [s, s, c, g])


def unsalt(apps, schema_editor):
    salt(apps, schema_editor)  # XOR twice with the same salt is the identity


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0002_participant_sort_key'),
        ('similarity', '0003_band_key_covering_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='bandkey',
            name='similarity_band_lookup',
        ),
        migrations.AlterField(
            model_name='bandkey',
            name='source',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=models.deletion.CASCADE, related_name='+', to='similarity.source'),
        ),
        migrations.RunPython(salt, unsalt, elidable=False),
        migrations.AddIndex(
            model_name='bandkey',
            index=models.Index(condition=models.Q(('report__isnull', False)), fields=['key', 'report'], name='similarity_band_probe'),
        ),
        migrations.AddIndex(
            model_name='bandkey',
            index=models.Index(condition=models.Q(('source__isnull', False)), fields=['key', 'source'], name='similarity_band_template'),
        ),
        migrations.AddIndex(
            model_name='bandkey',
            index=models.Index(condition=models.Q(('source__isnull', False)), fields=['source'], name='similarity_band_source'),
        ),
    ]
