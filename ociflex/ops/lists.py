"""What the list pages (inbox, transfer log) share: addresses that change their filters."""

from collections.abc import Callable, Mapping

from flask import url_for


def list_url_maker(endpoint: str, current: Mapping[str, str]) -> Callable[..., str]:
    """``url(**changes)``: the list at ``endpoint`` with the ``current`` filter arguments and
    ``changes`` to them (None: without it), on its first page unless a ``before`` or
    ``after`` is among the changes."""

    def url(**changes: str | int | None) -> str:
        args: dict[str, str | int | None] = {**current, **changes}
        return url_for(endpoint, **{name: value for name, value in args.items() if value})

    return url
