from django.db import migrations

from quantriet.org.seed import seed


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
