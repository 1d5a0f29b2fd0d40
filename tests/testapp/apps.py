from django.apps import AppConfig


class TestappConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"

    def ready(self) -> None:
        # Its entity type is registered before any migrate, so its export permission is made with the rest.
        from tests.testapp import entities  # noqa: F401
