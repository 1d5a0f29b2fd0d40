"""The token's row is identified by a number, no longer by its digest (knox's primary key), so the digest
appears in no admin link, selection checkbox or log entry. Existing tokens keep working."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_api_token"),
    ]

    operations = [
        # The digest stops being the primary key before the new one exists: a table has only one.
        migrations.AlterField(
            model_name="apitoken",
            name="digest",
            field=models.CharField(max_length=128, unique=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="id",
            field=models.BigAutoField(primary_key=True, serialize=False),
        ),
    ]
