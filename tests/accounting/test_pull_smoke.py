import pytest

from accounting.models import Invoice

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_xero_full_then_incremental(xero_connection, pull):
    runs = pull(xero_connection, full=True)
    for entity, run in runs.items():
        assert run.status == "succeeded", (entity, run.error, run.log)
    assert Invoice.objects.filter(connection=xero_connection).count() > 0
    again = pull(xero_connection)
    for entity, run in again.items():
        assert run.status == "succeeded", (entity, run.error)
        assert run.created == 0, entity
        assert run.updated == 0, entity
