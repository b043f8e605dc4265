"""The transfer log: every document from the buyer's system and every cart sent back, for
diagnosing a punch-out from ociflex alone. ``ociflex/transfers.py`` writes and prunes it
(entries hold personal data), ``ociflex/ops/transfers.py`` shows it to operators."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base, UtcDateTime, utcnow

#: callup: an OCI call-up; function: an OCI FUNCTION call (DETAIL, VALIDATE, ...);
#: setup: a cXML PunchOutSetupRequest; profile: a cXML ProfileRequest; order: a cXML
#: OrderRequest (a purchase order); request: any other cXML
#: document posted to ociflex (unreadable, or of a kind ociflex does not take);
#: start: a cXML StartPage opened by the employee's browser;
#: booking: a booking form that was refused; basket: a cart posted back to the buyer's system;
#: suppressed: how many rejected entries (or baskets sent again) of one client address and
#: customer were counted but not stored, over their budget (see ociflex/transfers.py).
TRANSFER_KINDS = (
    "callup",
    "function",
    "setup",
    "profile",
    "order",
    "request",
    "start",
    "booking",
    "basket",
    "suppressed",
)
#: accepted / rejected: a document from the buyer's system or a booking; sent: a cart for a new
#: or changed request, or an unchanged one; resent: the same cart again, for a double submit.
TRANSFER_OUTCOMES = ("accepted", "rejected", "sent", "resent")


class Transfer(Base):
    """One document from the buyer's system, or one cart sent to it, or how many of those one
    client address sent over its budget (``suppressed``). Never holds the company password or a
    shared secret.

    The list pages read newest first, by customer and outcome: each filter has an index ending
    in ``id``; ``at`` is indexed for pruning, ``punchout_id`` for the whole story of a punch-out.
    """

    __tablename__ = "transfers"
    __table_args__ = (
        Index("ix_transfers_customer_id_id", "customer_id", "id"),
        Index("ix_transfers_customer_outcome_id", "customer_id", "outcome", "id"),
        Index("ix_transfers_outcome_id", "outcome", "id"),
        Index("ix_transfers_at", "at"),
        Index("ix_transfers_punchout_id", "punchout_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The customer id as requested, also when no such customer is served (cut to 64).
    customer_id: Mapped[str] = mapped_column(String(64))
    #: The protocol: ``oci`` or ``cxml``.
    protocol: Mapped[str] = mapped_column(String(10), default="oci")
    kind: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(10))
    #: The HTTP status of ociflex's answer.
    status: Mapped[int] = mapped_column(Integer)
    #: Why it was rejected (the English text of the error), what a FUNCTION call answered, or
    #: what became of an order.
    reason: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(10))
    #: The punch-out session: links a call-up to its basket.
    punchout_id: Mapped[str | None] = mapped_column(String(64))
    #: The request a basket was sent for.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("rental_requests.id"))
    #: ``scheme://host[:port]`` of the return URL (HOOK_URL, BrowserFormPost; its query string
    #: may hold the buyer's session ids).
    return_origin: Mapped[str | None] = mapped_column(String(255))
    #: OCI: [name, value] pairs as received, without the password; capped in number and length.
    parameters: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    #: How many parameters were received (more than ``parameters`` holds when capped).
    parameter_count: Mapped[int] = mapped_column(Integer, default=0)
    #: cXML: the document received, without its secrets; capped in length.
    document: Mapped[str | None] = mapped_column(Text)
    #: cXML: the document ociflex answered with.
    answer: Mapped[str | None] = mapped_column(Text)
    #: For a cart: exactly as posted to the buyer's system (see ociflex.booking.cart.Cart).
    cart: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client_address: Mapped[str | None] = mapped_column(String(64))
    #: A ``suppressed`` entry: how many entries it counts, that were not stored.
    suppressed: Mapped[int | None] = mapped_column(Integer)


class TransferBudget(Base):
    """How many rejected entries (or baskets sent again) one client address sent for one
    customer key in one window of time. Counted up atomically, one row per key and window, so
    that the budget holds across all gunicorn workers and servers sharing the database; the
    entries over the budget are counted in the summary entry ``summary_id``. A row is of no
    use once its window is over, and is pruned with the log.
    """

    __tablename__ = "transfer_budgets"
    __table_args__ = (Index("ix_transfer_budgets_window_start", "window_start"),)

    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The customer id, or one key for all ids that no customer file names.
    customer_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The outcome counted: ``rejected`` or ``resent``, each its own budget.
    outcome: Mapped[str] = mapped_column(String(10), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    #: How many entries of this key came in the window, stored or not.
    seen: Mapped[int] = mapped_column(Integer)
    summary_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
