"""The minute round that queues due syncs, resumes runs that waited for a rate limit and restarts runs
whose worker died (a django-q2 schedule)."""

from django.db import migrations

FUNC = "integrations.tasks.sync_dispatch"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(
        func=FUNC,
        defaults={"name": "Dispatch syncs", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.using(schema_editor.connection.alias).filter(
        func=FUNC
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_sync")]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
