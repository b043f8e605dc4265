"""The cart: the form the employee's browser posts back to the buyer's system.

Both protocols return the cart the same way, through the browser: OCI as NEW_ITEM fields posted
to HOOK_URL, cXML as one field holding a PunchOutOrderMessage posted to the BrowserFormPost
URL. So a cart is the same plain data for both: where the form goes, into which frame, in
which charset, and its hidden fields in order. It is stored exactly as sent, with the request
and in the transfer log.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class Cart:
    #: The return URL exactly as received (query string included): the form's action.
    action: str
    target: str
    #: The form's accept-charset; every value is encodable in it.
    charset: str
    #: (name, value) pairs in posting order.
    fields: tuple[tuple[str, str], ...]
    #: The document a field carries (cXML's PunchOutOrderMessage), for people to read.
    document: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action,
            "target": self.target,
            "charset": self.charset,
            "fields": [[name, value] for name, value in self.fields],
        }
        if self.document is not None:
            data["document"] = self.document
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            action=data["action"],
            target=data["target"],
            charset=data["charset"],
            fields=tuple((name, value) for name, value in data["fields"]),
            document=data.get("document"),
        )


class CartError(ValueError):
    """The cart would break a rule of its protocol; ``problems`` says which, in English."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)
