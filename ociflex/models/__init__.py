"""Database models (SQLAlchemy 2). Schema changes go through Alembic: ``ociflex/migrations``."""

from ociflex.models.base import Base, UtcDateTime, utcnow
from ociflex.models.operators import LoginAttempt, Operator, OperatorEvent, OperatorSession
from ociflex.models.orders import (
    ORDER_HANDLINGS,
    ORDER_STATES,
    ORDER_TYPES,
    PurchaseOrder,
    PurchaseOrderLine,
)
from ociflex.models.outbox import OUTBOX_STATUSES, OutboxMessage
from ociflex.models.planning_feeds import PlanningFeed
from ociflex.models.request_numbers import RequestNumber
from ociflex.models.request_words import RequestWord
from ociflex.models.requests import (
    STATUSES,
    RentalRequest,
    RequestEvent,
    StatusCount,
    format_reference,
    parse_reference,
    search_key,
)
from ociflex.models.start_pages import StartPage
from ociflex.models.transfers import TRANSFER_KINDS, TRANSFER_OUTCOMES, Transfer, TransferBudget

__all__ = [
    "ORDER_HANDLINGS",
    "ORDER_STATES",
    "ORDER_TYPES",
    "OUTBOX_STATUSES",
    "STATUSES",
    "TRANSFER_KINDS",
    "TRANSFER_OUTCOMES",
    "Base",
    "LoginAttempt",
    "Operator",
    "OperatorEvent",
    "OperatorSession",
    "OutboxMessage",
    "PlanningFeed",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "RentalRequest",
    "RequestEvent",
    "RequestNumber",
    "RequestWord",
    "StartPage",
    "StatusCount",
    "Transfer",
    "TransferBudget",
    "UtcDateTime",
    "format_reference",
    "parse_reference",
    "search_key",
    "utcnow",
]
