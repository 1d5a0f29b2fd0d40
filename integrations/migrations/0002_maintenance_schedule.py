"""The hourly round that keeps every connection's tokens and health fresh (a django-q2 schedule)."""

from django.db import migrations

FUNC = "integrations.tasks.connections_maintain"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(
        func=FUNC,
        defaults={"name": "Keep connections fresh", "schedule_type": "I", "minutes": 60, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.using(schema_editor.connection.alias).filter(
        func=FUNC
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
