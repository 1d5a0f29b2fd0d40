import pytest

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_connections_through_the_sdk(identity_api, xero_org):
    [connection] = identity_api.get_connections()
    assert connection.tenant_id == xero_org.tenant_id
    assert connection.tenant_name == "Demo Company (UK)"
    assert connection.tenant_type == "ORGANISATION"
