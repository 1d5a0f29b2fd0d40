"""Each entity's real rules, as the hooks its declaration names.

A build hook receives a `Draft` whose body already holds the stored document (or a new id), the client's
plain fields and the status the lifecycle allows; it validates, computes Xero's derived fields and stages
the knock-on changes (a payment updates its invoice). Contract: record problems with `draft.error(...)`
rather than raising, and never mutate a body read from the workspace: clone it, then `ws.put` it."""
