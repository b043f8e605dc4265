"""A punch-out session: what the start of a punch-out makes of the buyer's inbound document.

Both protocols make one: OCI from its call-up (:func:`ociflex.oci.callup.read_callup`), cXML
from a PunchOutSetupRequest (:mod:`ociflex.cxml.setup`). It holds everything the booking needs
and nothing of how the protocol said it: who books for which customer, the values of the
customer's fields, what the session is for (a new booking, or changing or looking at one made
before), and where the employee's browser takes the cart back, with the values the protocol
echoes there. It travels as a signed token in the page (:mod:`ociflex.booking.token`), so a
punch-out needs no cookie and no row in the database while the employee fills in the form.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self


class Operation(StrEnum):
    """What the buyer's system opened the session for."""

    #: A new booking.
    CREATE = "create"
    #: Change a booking made before, while operations have not taken it further.
    EDIT = "edit"
    #: Look at a booking made before; nothing changes.
    INSPECT = "inspect"


@dataclass(frozen=True)
class CartReturn:
    """Where the employee's browser posts the cart, and what the protocol echoes in it."""

    #: The URL the buyer's system gave (OCI's HOOK_URL, cXML's BrowserFormPost), exactly as
    #: received and checked against the customer's list: the cart form's action.
    url: str
    #: The frame the cart is posted into.
    target: str
    #: The cart form's accept-charset.
    charset: str
    #: Values of the inbound document that the cart sends back unchanged, under the protocol's
    #: own names (OCI: ``~OkCode``, ``~CALLER``; cXML: the BuyerCookie and the parties).
    echo: Mapping[str, Any] = field(default_factory=dict)


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class PunchoutSession:
    customer_id: str
    #: The protocol that started it (``oci``, ``cxml``).
    protocol: str
    #: ociflex field name -> value as the buyer's system sent it ("" for optional fields not
    #: sent).
    fields: dict[str, str]
    cart_return: CartReturn
    #: The inbound document as the request keeps it, without secrets; its shape is the
    #: protocol's (OCI: ``{"parameters": [[name, value], ...]}``; cXML: ``{"document": ...}``).
    inbound: dict[str, Any]
    operation: Operation = Operation.CREATE
    #: The request an edit or inspect session opens again.
    request_id: int | None = None
    #: Unique per session: two punch-outs never share state, a double submit is recognised.
    id: str = field(default_factory=new_session_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "c": self.customer_id,
            "pr": self.protocol,
            "f": self.fields,
            "u": self.cart_return.url,
            "t": self.cart_return.target,
            "cs": self.cart_return.charset,
            "e": dict(self.cart_return.echo),
            "in": self.inbound,
            "op": self.operation.value,
            "r": self.request_id,
            "id": self.id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The session of :meth:`to_json`'s output; KeyError, TypeError or ValueError when
        ``data`` is not one."""
        request_id = data["r"]
        if request_id is not None and not isinstance(request_id, int):
            raise TypeError("request id")
        return cls(
            customer_id=str(data["c"]),
            protocol=str(data["pr"]),
            fields={str(name): str(value) for name, value in data["f"].items()},
            cart_return=CartReturn(
                url=str(data["u"]),
                target=str(data["t"]),
                charset=str(data["cs"]),
                echo=dict(data["e"]),
            ),
            inbound=dict(data["in"]),
            operation=Operation(data["op"]),
            request_id=request_id,
            id=str(data["id"]),
        )
