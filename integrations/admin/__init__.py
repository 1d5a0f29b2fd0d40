"""The integrations app in the Django admin: connections (`connections`, with its columns, forms and
actions), their deletions (`deletions`), sync runs and states (`sync`) and the dashboard page (`dashboard`).

Importing the modules registers their admins. `Credential` and `OAuthState` are deliberately not
registered: they hold nothing staff act on that the connection page does not already show, and registering
them would put secret-bearing rows one field addition away from being displayed or edited by hand."""

from integrations.admin import connections, deletions, sync

__all__ = ["connections", "deletions", "sync"]
