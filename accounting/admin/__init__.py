"""The Django admin of the mirror: one read-only admin per entity family, made from its declaration
(`accounting.families.FAMILIES`) by `accounting.admin.records.mirror_admin`."""

from django.contrib import admin

from accounting.admin import exports as _exports  # noqa: F401  (registers ExportJobAdmin)
from accounting.admin.records import mirror_admin
from accounting.families import FAMILIES

for _family in FAMILIES.values():
    admin.site.register(_family.model, mirror_admin(_family))
