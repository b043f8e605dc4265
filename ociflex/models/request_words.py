"""The words each requester's name is found by (:mod:`ociflex.booking.words`)."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ociflex.models.base import Base


class RequestWord(Base):
    """One word key of a request's requester name: a word, or a start of it.

    The primary key (word, request id) is the search: the requests with a word, newest first,
    are the key's entries read backwards. On SQLite the table is that index alone (WITHOUT
    ROWID), as it holds nothing else.
    """

    __tablename__ = "request_words"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    word: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Deleted with its request: the words are the request's own.
    request_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("rental_requests.id", ondelete="CASCADE"), primary_key=True
    )
