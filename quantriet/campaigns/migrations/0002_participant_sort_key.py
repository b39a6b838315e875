"""Keep the person's name order key on the roster row, so a unit's participants are listed
in Vietnamese order from one index (the rows that exist take their people's key)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0001_initial'),
        ('org', '0003_person_unit_single_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='participant',
            name='campaigns_part_unit',
        ),
        migrations.AddField(
            model_name='participant',
            name='sort_key',
            field=models.CharField(default='', editable=False, help_text="The person's name order key when the roster was frozen.", max_length=200),
        ),
        migrations.RunSQL(
            "UPDATE campaigns_participant SET sort_key = per.sort_key FROM org_person per "
            "WHERE per.id = campaigns_participant.person_id",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='participant',
            index=models.Index(fields=['campaign', 'active', 'unit', 'sort_key', 'id'], name='campaigns_part_unit_sort'),
        ),
    ]
