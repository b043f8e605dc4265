"""What the list pages (inbox, transfer log) share: addresses that change their filters, the
address of each row, and the labels their rows repeat."""

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from flask import url_for

#: An id no row has in common with the rest of an address (the largest 32-bit id).
_SAMPLE_ID = 2**31 - 1

K = TypeVar("K")
V = TypeVar("V")


def list_url_maker(endpoint: str, current: Mapping[str, str]) -> Callable[..., str]:
    """``url(**changes)``: the list at ``endpoint`` with the ``current`` filter arguments and
    ``changes`` to them (None: without it), on its first page unless a ``before`` or
    ``after`` is among the changes."""

    def url(**changes: str | int | None) -> str:
        args: dict[str, str | int | None] = {**current, **changes}
        return url_for(endpoint, **{name: value for name, value in args.items() if value})

    return url


def id_url_maker(endpoint: str, argument: str) -> Callable[[int], str]:
    """``url(id)``: what ``url_for(endpoint, **{argument: id})`` returns, for an endpoint whose
    one rule takes the id as ``<int:argument>``.

    A list links each of its 50 rows: the address is built once and each id put in it,
    rather than ``url_for`` finding and building the rule again for every row.
    """
    head, _, tail = url_for(endpoint, **{argument: _SAMPLE_ID}).rpartition(str(_SAMPLE_ID))

    def url(value: int) -> str:
        return f"{head}{value:d}{tail}"

    return url


class Labels(dict[K, V]):
    """``labels[key]``: ``label(key)``, worked out once per key (or taken from ``known``): a
    list's rows repeat the same few statuses, customers and numbers of days."""

    def __init__(self, label: Callable[[K], V], known: Iterable[tuple[K, V]] = ()) -> None:
        super().__init__(known)
        self._label = label

    def __missing__(self, key: K) -> V:
        value = self[key] = self._label(key)
        return value
