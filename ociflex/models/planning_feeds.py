"""The branches' calendar feeds (``/ops/planning/feed/<slug>.ics``): one secret token each,
stored only as its hash, which an admin rotates (:mod:`ociflex.ops.planning_feeds`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base, UtcDateTime, utcnow
from ociflex.models.requests import RentalRequest


class PlanningFeed(Base):
    """A branch's feed: the rentals picked up at the branch named :attr:`branch`."""

    __tablename__ = "planning_feeds"

    #: The branch in the feed's address (:func:`ociflex.ops.planning.branch_slug`).
    slug: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: The pickup location, as operations type it when they schedule.
    branch: Mapped[str] = mapped_column(String(255))
    #: SHA-256 (hex) of the token in the feed's address; a rotation replaces it.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The admin who made the current token.
    rotated_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    #: How many tokens the feed has had (1: never rotated).
    generation: Mapped[int] = mapped_column(Integer, default=1)


#: A branch's feed reads its rentals by pickup location and pickup moment (migration 0012).
Index("ix_rental_requests_location_pickup", RentalRequest.pickup_location, RentalRequest.pickup_at)
