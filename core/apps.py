from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Ledgerlink core"

    def ready(self) -> None:
        from django.contrib import admin

        admin.site.site_header = "Ledgerlink"
        admin.site.site_title = "Ledgerlink"
        admin.site.index_title = "Back office"
