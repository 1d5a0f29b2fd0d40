"""The admin of every mirrored family, driven from the declarations: lists with pinned query counts (the
same for 10 and 50 rows), read-only detail pages with lines, raw payload and a link into the ledger, search
and filters, and bulk actions that do what they say."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from django.contrib import admin
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounting.admin.records import record_url
from accounting.api.serializers import serializers_for
from accounting.families import FAMILIES, Child, Family
from core.exports import export_columns_of
from integrations.models import SyncRun
from integrations.providers import get_provider
from sandbox.xero.api import services as xero_services

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

# Queries one changelist page makes, whatever its length: session, user, the connection filter's choices,
# the capped count, the rows with their connection (5); the currency filter's index walk (+1, families with
# a currency); the date hierarchy's first and last date (+1, families with a date). PostgreSQL reads the
# planner's estimate of the table before counting (+1).
CHANGELIST_QUERIES = 5


@pytest.fixture
def admin_client(staff_user) -> Client:
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def mirrored(request, xero_connection, qbo_connection, xero_orgs, pull):
    """The family under test pulled from both sandboxes (from the one that has it, for one-ledger families)."""
    family: Family = FAMILIES[request.param]
    if family.key == "contact_groups":
        # The seeded organisation has no contact groups: make two in the ledger.
        with xero_services.batch(xero_orgs[0], emit_events=False) as batch:
            batch.write("ContactGroups", [{"Name": "Wholesale"}, {"Name": "Retail"}])
    connections = [
        connection
        for connection in (xero_connection, qbo_connection)
        if family.key in get_provider(connection.provider).entity_keys
    ]
    for connection in connections:
        run = pull(connection, family.key, full=True)[family.key]
        assert run.status == "succeeded", run.error
    assert family.model._default_manager.exists(), family.key
    return family


def families(*, with_children: bool = False) -> list[str]:
    return [key for key, family in FAMILIES.items() if family.children or not with_children]


def _url(family: Family, view: str = "changelist", *args: object) -> str:
    from django.urls import reverse

    return reverse(f"admin:accounting_{family.model._meta.model_name}_{view}", args=args)


def _listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(rb'name="_selected_action" value="(\d+)"', response.content)]


def _fill(family: Family, rows: int) -> None:
    """Copy the first record (and its child rows) until the family has `rows` records."""
    manager = family.model._default_manager
    template = manager.order_by("pk")[0]
    children = {child: list(getattr(template, _related(child)).all()) for child in family.children}
    for index in range(rows - manager.count()):
        template.pk = None
        template.remote_id = f"copy-{index}"
        template.save()
        for child, lines in children.items():
            for line in lines:
                line.pk = None
                setattr(line, child.parent_field, template)
            child.model._default_manager.bulk_create(lines)


def _related(child: Child) -> str:
    return str(child.model._meta.get_field(child.parent_field).remote_field.related_name)  # type: ignore[union-attr]


def _with_children(family: Family):
    """A record with rows of every child kind if there is one, else with rows of the first, else any."""
    manager = family.model._default_manager.order_by("pk")
    every = {f"{_related(child)}__isnull": False for child in family.children}
    first = {f"{_related(child)}__isnull": False for child in family.children[:1]}
    return manager.filter(**every).first() or manager.filter(**first).first() or manager.first()


def _post_action(client: Client, family: Family, action: str, pks: list[int], **extra: str):
    return client.post(_url(family), {"action": action, "_selected_action": pks, **extra})


@pytest.mark.parametrize("mirrored", families(), indirect=True)
def test_changelist_lists_rows_with_a_pinned_query_count(mirrored, admin_client, monkeypatch):
    family = mirrored
    _fill(family, 50)
    model_admin = admin.site._registry[family.model]
    counted = {}
    for per_page in (10, 50):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(db_connection) as queries:
            response = admin_client.get(_url(family))
        assert response.status_code == 200
        assert len(_listed(response)) == per_page
        counted[per_page] = len(queries)
    # No query per row, and no more than the pinned number per page.
    assert counted[10] == counted[50], counted
    has_currency = any(f.name == "currency" for f in family.model._meta.concrete_fields)
    pinned = (
        CHANGELIST_QUERIES + has_currency + bool(family.date_field) + (db_connection.vendor == "postgresql")
    )
    assert counted[50] == pinned, "\n".join(q["sql"][:150] for q in queries.captured_queries)
    # Nothing counts the whole table: the only COUNT is the capped one over a LIMITed subquery.
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT" in counts[0].upper()
    # The family's columns, the connection and the flags, in that order.
    shown = {"status": "status_badge", "contact_name": "contact_column"}
    expected = [shown.get(column, column) for column in family.columns] + ["connection", "flags"]
    assert model_admin.list_display == expected
    for column in expected:
        assert f'class="sortable column-{column}'.encode() in response.content or (
            f'class="column-{column}'.encode() in response.content
        ), column


@pytest.mark.parametrize("mirrored", families(), indirect=True)
def test_detail_is_read_only_with_lines_raw_payload_and_ledger_link(mirrored, admin_client):
    family = mirrored
    record = _with_children(family)
    response = admin_client.get(_url(family, "change", record.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="ll-raw"' in content
    first_key = next(iter(record.raw))
    assert f"&quot;{first_key}&quot;" in content
    label = get_provider(record.connection.provider).label
    assert f"View in {label}" in content
    assert record_url(record).replace("&", "&amp;") in content
    assert record.remote_id in content
    # Read-only: no save button, no form inputs for the record's fields, no blank inline forms.
    assert 'name="_save"' not in content
    assert 'name="number"' not in content
    for child in family.children:
        related = _related(child)
        lines = getattr(record, related).count()
        if not lines:
            assert child is not family.children[0], child.key
            continue
        # Every line is shown, as text: no inputs for its fields, no blank form to add one.
        assert f'id="{related}-{lines - 1}"' in content
        assert f'id="{related}-{lines}"' not in content
        shown = [
            f.name for f in child.model._meta.concrete_fields if f.name not in ("id", child.parent_field)
        ]
        assert all(f'name="{related}-0-{name}"' not in content for name in shown)


@pytest.mark.parametrize("mirrored", families(), indirect=True)
def test_search_and_filters_find_the_right_rows(mirrored, admin_client):
    family = mirrored
    manager = family.model._default_manager
    field = family.search_fields[0]
    record = manager.exclude(**{field: ""}).order_by("pk").first() or manager.order_by("pk").first()
    term = getattr(record, field) or record.remote_id
    response = admin_client.get(_url(family), {"q": term})
    assert response.status_code == 200
    assert record.pk in _listed(response)
    assert set(_listed(response)) == set(
        manager.filter(pk__in=_listed(response)).values_list("pk", flat=True)
    )
    # The ledger's id finds the record exactly.
    assert record.pk in _listed(admin_client.get(_url(family), {"q": record.remote_id}))
    # Archived: just the one archived record.
    manager.filter(pk=record.pk).update(archived=True)
    assert _listed(admin_client.get(_url(family), {"archived__exact": "1"})) == [record.pk]
    # Provider: only that ledger's rows.
    provider = record.connection.provider
    listed = _listed(admin_client.get(_url(family), {"connection__provider__exact": provider}))
    expected = manager.filter(connection__provider=provider).count()
    assert len(listed) == min(expected, 50)
    assert set(manager.filter(pk__in=listed).values_list("connection__provider", flat=True)) == {provider}
    # Linked: nothing is linked to a local record yet.
    assert _listed(admin_client.get(_url(family), {"linked": "yes"})) == []
    if any(f.name == "currency" for f in family.model._meta.concrete_fields):
        currency = manager.exclude(currency="").values_list("currency", flat=True).first()
        if currency:
            listed = _listed(admin_client.get(_url(family), {"currency": currency}))
            assert listed
            assert set(manager.filter(pk__in=listed).values_list("currency", flat=True)) == {currency}


@pytest.mark.parametrize("mirrored", families(), indirect=True)
def test_bulk_actions_do_what_they_say(mirrored, admin_client):
    family = mirrored
    manager = family.model._default_manager
    pks = list(manager.order_by("pk").values_list("pk", flat=True)[:2])
    total = manager.count()

    response = _post_action(admin_client, family, "archive_selected", pks)
    assert response.status_code == 302
    assert set(manager.filter(archived=True).values_list("pk", flat=True)) == set(pks)
    page = admin_client.get(response["Location"]).content.decode()
    assert (
        f"{len(pks)} {family.model._meta.verbose_name_plural if len(pks) > 1 else family.model._meta.verbose_name} archived"
        in page
    )
    _post_action(admin_client, family, "unarchive_selected", pks[:1])
    assert list(manager.filter(archived=True).values_list("pk", flat=True)) == pks[1:]

    all_pks = list(manager.values_list("pk", flat=True))
    for action, read in (
        ("export_csv", lambda body: list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))),
        ("export_xlsx", lambda body: list(openpyxl.load_workbook(io.BytesIO(body)).active.values)),
    ):
        response = _post_action(admin_client, family, action, all_pks)
        assert response.status_code == 200, action
        assert "attachment" in response["Content-Disposition"]
        # CSV is streamed, as the API's export is; XLSX is sent from its file.
        rows = read(b"".join(response.streaming_content) if response.streaming else response.content)
        # One export path: the admin's file is the API list's export of these rows.
        assert list(rows[0]) == export_columns_of(serializers_for(family)[0]), action
        assert len(rows) == total + 1, action

    runs_before = SyncRun.objects.count()
    response = _post_action(admin_client, family, "refresh_selected", all_pks)
    assert response.status_code == 302
    connections = set(manager.values_list("connection_id", flat=True))
    runs = SyncRun.objects.order_by("pk")[runs_before:]
    assert {(run.connection_id, run.entity) for run in runs} == {(pk, family.key) for pk in connections}
    assert "Queued a pull of" in admin_client.get(response["Location"]).content.decode()

    deleted = _with_children(family)
    lines_before = {
        child.key: child.model._default_manager.filter(**{child.parent_field: deleted}).count()
        for child in family.children
    }
    confirm = _post_action(admin_client, family, "delete_from_mirror", [deleted.pk])
    assert confirm.status_code == 200
    assert "the ledger keeps them" in confirm.content.decode()
    assert manager.filter(pk=deleted.pk).exists()
    response = _post_action(admin_client, family, "delete_from_mirror", [deleted.pk], post="yes")
    assert response.status_code == 302
    assert not manager.filter(pk=deleted.pk).exists()
    assert manager.count() == total - 1
    for child in family.children:
        assert not child.model._default_manager.filter(**{f"{child.parent_field}_id": deleted.pk}).exists()
    assert not family.children or lines_before[family.children[0].key], lines_before


@pytest.mark.parametrize("mirrored", ["invoices"], indirect=True)
def test_no_add_edit_or_cascade_delete(mirrored, admin_client):
    family = mirrored
    record = family.model._default_manager.order_by("pk").first()
    assert admin_client.get(_url(family, "add")).status_code == 403
    assert admin_client.post(_url(family, "change", record.pk), {"number": "changed"}).status_code == 403
    response = admin_client.post(_url(family, "delete", record.pk), {"post": "yes"})
    assert response.status_code == 302
    assert family.model._default_manager.filter(pk=record.pk).exists()
    actions = re.findall(rb'<option value="(\w+)"', admin_client.get(_url(family)).content)
    assert b"delete_selected" not in actions
    assert {b"archive_selected", b"delete_from_mirror", b"export_csv", b"export_xlsx"} <= set(actions)


def test_record_links_point_at_the_record_in_each_ledger():
    xero, qbo = get_provider("xero"), get_provider("quickbooks")
    assert xero.record_link(
        short_code="!abc", tenant_id="t", remote_type="Invoice", remote_id="inv-1", kind="purchase"
    ) == (
        "https://go.xero.com/organisationlogin/default.aspx?shortcode=!abc"
        "&redirecturl=/AccountsPayable/View.aspx?InvoiceID=inv-1"
    )
    assert xero.record_link(
        short_code="!abc", tenant_id="t", remote_type="Contact", remote_id="c-1"
    ).endswith("&redirecturl=/Contacts/View/c-1")
    # No page of its own: the organisation.
    assert xero.record_link(
        short_code="!abc", tenant_id="t", remote_type="TaxRate", remote_id="OUTPUT"
    ) == xero.deep_link(short_code="!abc", tenant_id="t")
    assert (
        qbo.record_link(short_code="", tenant_id="1", remote_type="Bill", remote_id="42")
        == "https://app.qbo.intuit.com/app/bill?txnId=42"
    )
    assert (
        qbo.record_link(short_code="", tenant_id="1", remote_type="Vendor", remote_id="7")
        == "https://app.qbo.intuit.com/app/vendordetail?nameId=7"
    )


def test_sync_run_pages_reload_themselves_while_a_run_moves(xero_connection, admin_client):
    run = SyncRun.objects.create(
        connection=xero_connection,
        entity="invoices",
        mode="full",
        trigger="manual",
        status="running",
        total=200,
    )
    SyncRun.objects.filter(pk=run.pk).update(fetched=50)
    refresh = b'<meta http-equiv="refresh" content="5">'
    page = admin_client.get("/admin/integrations/syncrun/")
    assert refresh in page.content
    assert b'<progress max="100" value="25">' in page.content
    assert refresh in admin_client.get(f"/admin/integrations/syncrun/{run.pk}/change/").content
    SyncRun.objects.filter(pk=run.pk).update(status="succeeded")
    assert refresh not in admin_client.get("/admin/integrations/syncrun/").content
    assert refresh not in admin_client.get(f"/admin/integrations/syncrun/{run.pk}/change/").content
