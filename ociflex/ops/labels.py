"""What the operations pages show for a request's status, and in which language."""

from flask_babel import get_locale, gettext, ngettext

from ociflex.ops.workflow import STATUS_LABELS


def status_label(status: str | None) -> str:
    if status is None:
        return ""
    return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def days_label(days: int) -> str:
    """How long a rental is: "3 dagen"."""
    return ngettext("%(num)s day", "%(num)s days", days)


def page_language() -> str:
    """The language the page is shown in."""
    return str(get_locale() or "nl")
