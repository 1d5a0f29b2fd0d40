from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Ledgerlink core"

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.models.signals import post_migrate

        from core import checks  # noqa: F401  (registers the system checks)
        from core.roles import roles_sync_after_migrate
        from core.signals import signals_connect

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="core.roles_sync")
        signals_connect()

        admin.site.site_header = "Ledgerlink"
        admin.site.site_title = "Ledgerlink"
        admin.site.index_title = "Back office"
