"""How every app's admin pages render a state and a job's progress, so staff read them the same way everywhere.

The classes (`ll-badge`, `ll-<colour>`, `ll-muted`) are styled by `templates/admin/integrations/styles.html`,
which each admin page that shows these includes."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString


def badge(label: str, colour: str, title: str = "") -> SafeString:
    """A coloured label; `title` (a reason, an error) is its tooltip."""
    return format_html('<span class="ll-badge ll-{}" title="{}">{}</span>', colour, title, label)


def muted(text: str) -> SafeString:
    """Text that stands for an absent value ("—", "not set")."""
    return format_html('<span class="ll-muted">{}</span>', text)


def progress(percent: int | None, *, counting: str = "") -> SafeString:
    """A job's progress. Before the job knows its total (`percent` None) the bar is indeterminate while it
    runs (`counting` says what it is doing, e.g. "counting rows") and a dash otherwise."""
    if percent is None:
        if counting:
            return format_html('<progress max="100" title="{}">…</progress>', counting)
        return muted("—")
    return format_html('<progress max="100" value="{}">{}%</progress> {}%', percent, percent, percent)
