"""Check-ins without index maintenance: the columns a check-in changes are no longer
indexed, and on PostgreSQL the attendance table leaves room in each page (fillfactor 70)
so that the new version of a row fits next to the old one (a HOT update)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            setting = f"SET (fillfactor = {value})" if value else "RESET (fillfactor)"
            schema_editor.execute(f"ALTER TABLE conference_attendance {setting}")
            schema_editor.execute(f"ALTER TABLE conference_bridgepoint {setting}")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('conference', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='attendance',
            name='conference_att_point',
        ),
        migrations.AlterField(
            model_name='attendance',
            name='checked_in_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='attendance',
            name='checked_in_point',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='conference.bridgepoint'),
        ),
        migrations.RunPython(_fillfactor(70), _fillfactor(None)),
    ]
