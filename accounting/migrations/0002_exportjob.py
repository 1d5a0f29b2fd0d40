"""Background exports of entity lists, and the hourly task that deletes expired ones (a django-q2 schedule)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PURGE = "accounting.tasks.exports_purge"


def schedule_create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.using(schema_editor.connection.alias).get_or_create(
        func=PURGE,
        defaults={"name": "Delete expired exports", "schedule_type": "I", "minutes": 60, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.using(schema_editor.connection.alias).filter(
        func=PURGE
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("endpoint", models.CharField(help_text="The entity type, e.g. invoices.", max_length=40)),
                (
                    "export_format",
                    models.CharField(choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")], max_length=8),
                ),
                (
                    "query",
                    models.TextField(
                        blank=True, help_text="Filters and ordering, as the list's query string."
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=12,
                    ),
                ),
                ("rows_total", models.PositiveBigIntegerField(blank=True, null=True)),
                ("rows_done", models.PositiveBigIntegerField(default=0)),
                (
                    "file_name",
                    models.CharField(blank=True, help_text="Relative to EXPORT_DIR.", max_length=255),
                ),
                ("file_size", models.PositiveBigIntegerField(blank=True, null=True)),
                ("error", models.TextField(blank=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "expires_at",
                    models.DateTimeField(blank=True, help_text="When the file is deleted.", null=True),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ("-created_at", "-pk"),
                "indexes": [
                    models.Index(fields=["endpoint", "-created_at"], name="exportjob_endpoint"),
                    models.Index(fields=["status"], name="exportjob_status"),
                    models.Index(fields=["expires_at"], name="exportjob_expires"),
                ],
            },
        ),
        migrations.RunPython(schedule_create, schedule_delete),
    ]
