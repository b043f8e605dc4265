"""Marking texts for translation in code that runs without a request (and so without a locale)."""


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown, with gettext."""
    return message
