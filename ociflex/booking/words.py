"""The words a request is found by in the inbox: the start of any word of its requester's name.

A name is stored as its *word keys*: every word, folded (:func:`fold`: case and accents
ignored), and each start of it of at least :data:`MIN_LENGTH` characters ("Jan Jansen": ``ja``,
``jan``, ``jans``, ``janse``, ``jansen``). A search for the start of a word is then an equality
on the key, which the table ``request_words`` (:class:`ociflex.models.RequestWord`) serves from
its primary key (word, request id) newest first: the inbox has a page after reading that page's
entries, however many requests share the word (``ociflex.ops.inbox_query``).

A word is what the name holds between spaces, and also each part of it between hyphens,
apostrophes and other punctuation: "Berg-Jansen" is found by ``berg-j``, ``berg`` and
``jansen``; "O'Brien" by ``o'b`` and ``brien``.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from ociflex.models import RentalRequest, RequestWord

#: The shortest start of a word that finds it: two letters, as surnames such as "Li" and "Wu"
#: and the "de" of "de Vries" are words of their own.
MIN_LENGTH = 2
#: The longest key kept: a longer word (no real name has one) is found by its first 32
#: characters, so that a 255-character name cannot store hundreds of keys.
MAX_LENGTH = 32
#: Requests whose words the backfill reads and writes at a time.
BATCH_SIZE = 10_000

_PARTS = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """``text`` as words are compared: case-folded, without accents ("Zoë" -> "zoe", "Straße"
    -> "strasse"), and single-spaced."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split())


def _words(name: str) -> Iterator[str]:
    """The words of ``name``, folded: each between spaces, and its parts between punctuation."""
    for token in fold(name).split():
        yield token
        parts = _PARTS.findall(token)
        if parts != [token]:
            yield from parts


def name_words(name: str) -> set[str]:
    """The word keys of ``name``: each start of each word of :data:`MIN_LENGTH` characters or
    more, at most :data:`MAX_LENGTH` long."""
    return {
        word[:length]
        for word in _words(name)
        for length in range(MIN_LENGTH, min(len(word), MAX_LENGTH) + 1)
    }


def query_words(q: str) -> list[str] | None:
    """The word keys a search ``q`` asks for (a request must have each of them), longest first;
    None when a word of ``q`` is too short to be one (a single letter)."""
    words = [word[:MAX_LENGTH] for word in dict.fromkeys(fold(q).split())]
    if not words or any(len(word) < MIN_LENGTH for word in words):
        return None
    return sorted(words, key=len, reverse=True)


def word_rows(request_id: int, name: str) -> list[dict[str, object]]:
    """The rows of ``request_words`` for request ``request_id`` named ``name``."""
    return [{"word": word, "request_id": request_id} for word in sorted(name_words(name))]


def fill_request_words(connection: Connection, *, after: int = 0) -> int:
    """Write the word rows of every request numbered above ``after``, :data:`BATCH_SIZE`
    requests per statement, read by keyset so that memory stays that of one batch; the number
    of requests done. For requests stored without them: the ones before the word table
    (migration 0011) and made-up ones written straight into the table
    (``ociflex.devtools.seed``). Rows already there are kept, so filling twice does no harm.
    The caller commits."""
    upsert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = upsert(RequestWord).on_conflict_do_nothing()
    done = 0
    for batch in _batches(connection, after):
        rows = [row for request_id, name in batch for row in word_rows(request_id, name)]
        if rows:
            connection.execute(statement, rows)
        done += len(batch)
    return done


def _batches(connection: Connection, after: int) -> Iterable[list[tuple[int, str]]]:
    statement = (
        select(RentalRequest.id, RentalRequest.requester_name)
        .order_by(RentalRequest.id)
        .limit(BATCH_SIZE)
    )
    while batch := [
        (int(request_id), name)
        for request_id, name in connection.execute(statement.where(RentalRequest.id > after))
    ]:
        yield batch
        after = batch[-1][0]
