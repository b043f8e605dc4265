"""The documents hold: the tests they name exist, and the service answers each HTTP status they
promise.

docs/security.md names, for each threat, the tests that hold its statuses. README.md,
docs/customer-config.md and docs/onboarding.md promise statuses in their prose: each promise
below is found in its document, the status (and any message it quotes) is read from the
document's own words, and the service is asked what the promise is about. A status a document
mentions that no promise holds fails the test too, so a new one cannot go unchecked.
"""

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import gettext
from sqlalchemy import func, select

from ociflex import create_app
from ociflex.db import session_for
from ociflex.models import PurchaseOrder, Transfer
from ociflex.punchout.common import CatalogueUnavailable
from tests.conftest import ACME_HOOK_URL, ACME_PASSWORD, CXML_CUSTOMERS, make_environ
from tests.support.cxml import Buyer, Line, Order, Setup, order_request
from tests.support.html import Html, single_spaced
from tests.support.orders import booked
from tests.support.punchout import count_stored

ROOT = Path(__file__).resolve().parent.parent
#: ``tests/x.py::name``, ``tests/x.py::name_*`` (a family), and ``...::name`` after one of them.
REFERENCE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+\*?))?|`\.\.\.::(\w+\*?)`")


def _references(document: Path) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    current = ""
    for match in REFERENCE.finditer(document.read_text(encoding="utf-8")):
        path, name, continued = match.groups()
        current = path or current
        found.append((current, name or continued))
    return found


@pytest.mark.parametrize("document", ["docs/security.md"])
def test_every_test_a_document_names_exists(document: str) -> None:
    references = _references(ROOT / document)
    assert references
    for path, name in references:
        source = (ROOT / path).read_text(encoding="utf-8")
        if name is None:
            continue
        pattern = re.escape(name.rstrip("*")) + (r"\w*" if name.endswith("*") else r"\b")
        assert re.search(rf"^def {pattern}", source, re.MULTILINE), f"{path}::{name}"


# --- The statuses the documents promise ---------------------------------------------------------

#: The documents whose prose promises statuses (security.md names its tests instead;
#: performance.md holds measurements).
DOCUMENTS = ("README.md", "docs/customer-config.md", "docs/onboarding.md")
#: An HTTP status, or a class of them, as a document writes it.
STATUS = re.compile(r"(?<![\w.:/,-])(?:[1-5][0-9][0-9]|[45]xx)(?![\w/-]|[.,:][0-9])")
#: cXML's own statuses besides HTTP's: 450 (not implemented), 560 (temporary server error).
CXML_STATUSES = {450, 560}
#: What reads like a status but promises none of the service, with why.
NOT_PROMISES = {
    "200 parameters, 500 characters": "the transfer log's caps",
    "with 1, 100 and 1,000 customer files": "a number of files",
    "(a 5xx reply such as": "an SMTP server's reply to the outbox",
    "a 5xx means: send the same document again later": "held by tests/test_cxml_orders.py::"
    "test_an_order_sent_while_the_database_is_gone_is_a_5xx_and_stored_once_when_sent_again",
}


def text_of(document: str) -> str:
    """The document single-spaced, so that a promise is found however its lines wrap."""
    return single_spaced((ROOT / document).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Answered:
    status: int
    #: What the answer says: a page's text, a cXML Status's text, a transfer log entry.
    text: str


@dataclass(frozen=True)
class Promise:
    """A status ``document`` promises in ``words``: a regular expression over its single-spaced
    text with the group ``status`` and, where the document quotes the answer, ``says``."""

    document: str
    words: str
    #: Asks the service what the promise is about.
    ask: Callable[[Flask], Answered]

    def __str__(self) -> str:
        return f"{self.document}: {self.words}"


@pytest.fixture
def service(tmp_path: Path, migrated_sqlite: Path, customers_dir: Path) -> Iterator[Flask]:
    """The service with the OCI and cXML test customers, and ``broken``, whose file has a
    mistake; on SQLite (the statuses do not depend on the database)."""
    for file in CXML_CUSTOMERS.glob("*.yaml"):
        shutil.copy(file, customers_dir / file.name)
    shutil.copy(
        ROOT / "tests" / "customers_broken" / "unknown-unit.yaml", customers_dir / "broken.yaml"
    )
    database = tmp_path / "ociflex.sqlite3"
    shutil.copyfile(migrated_sqlite, database)
    app = create_app(make_environ(tmp_path, f"sqlite:///{database}", customers_dir))
    yield app
    app.extensions["ociflex.engine"].dispose()


# --- What the promises ask the service ---------------------------------------------------------


def page(app: Flask, path: str, data: dict[str, str] | None = None) -> Answered:
    response = app.test_client().post(path, data=data or {})
    return Answered(response.status_code, single_spaced(Html(response).root.text_content()))


def a_call_up_of_a_broken_file(app: Flask) -> Answered:
    answered = page(app, "/oci/broken")
    # Nobody can read the file's language: the page is in Dutch, the documents in English.
    with app.test_request_context():
        assert gettext(CatalogueUnavailable.message) in answered.text
    return Answered(answered.status, CatalogueUnavailable.message)


def a_cxml_request_to_a_broken_file(app: Flask) -> Answered:
    answer = Buyer(app.test_client(), "broken").set_up()
    return Answered(answer.http_status, answer.text)


def a_call_up_of_an_unknown_customer_in_the_transfer_log(app: Flask) -> Answered:
    page(app, "/oci/nobody")
    with session_for(app) as session:
        entry = session.scalars(select(Transfer)).one()
    return Answered(entry.status, f"{entry.kind} {entry.outcome}")


def the_readiness_of_a_healthy_service(app: Flask) -> Answered:
    response = app.test_client().get("/healthz/ready")
    return Answered(response.status_code, response.get_data(as_text=True))


ACME_CALL_UP = {
    "loginname": "acme-sap",
    "pwd": ACME_PASSWORD,
    "HOOK_URL": ACME_HOOK_URL,
    "user_email": "jane.smith@acme.example",
    "user_name": "Jane Smith",
    "PROJECT": "P-123",
}


def a_call_up_from_outside_the_email_domains(app: Flask) -> Answered:
    answered = page(app, "/oci/acme", {**ACME_CALL_UP, "user_email": "jane@gmail.example"})
    # It names the address and the accepted domains; nothing is stored.
    assert "jane@gmail.example" in answered.text
    assert "acme.example" in answered.text.replace("jane@gmail.example", "")
    assert count_stored(app) == 0
    return answered


def a_call_up_with_a_wrong_value_in_a_field_nobody_can_correct(app: Flask) -> Answered:
    return page(app, "/oci/acme", {**ACME_CALL_UP, "user_name": "Jane\nSmith"})


def cxml_setup(setup: Setup) -> Callable[[Flask], Answered]:
    def ask(app: Flask) -> Answered:
        answer = Buyer(app.test_client()).set_up(setup)
        assert answer.code == answer.http_status  # the cXML Status is the HTTP status
        return Answered(answer.http_status, answer.text)

    return ask


def cxml_document(document: bytes) -> Callable[[Flask], Answered]:
    def ask(app: Flask) -> Answered:
        answer = Buyer(app.test_client()).post(document)
        assert answer.code == answer.http_status
        return Answered(answer.http_status, answer.text)

    return ask


def a_valid_setup(app: Flask) -> Answered:
    answer = Buyer(app.test_client()).set_up()
    return Answered(answer.http_status, f"StartPage URL {answer.start_page}")


def an_order_for_a_booking(app: Flask) -> Answered:
    buyer = Buyer(app.test_client())
    answer = buyer.post(order_request(Order([Line(f"FF-{booked(buyer):06d}")])))
    return Answered(answer.http_status, answer.status.get("text", ""))


def the_same_order_again(app: Flask) -> Answered:
    buyer = Buyer(app.test_client())
    document = order_request(Order([Line(f"FF-{booked(buyer):06d}")]))
    buyer.post(document)
    with session_for(app) as session:
        orders = session.scalar(select(func.count()).select_from(PurchaseOrder))
    again = buyer.post(document)
    with session_for(app) as session:  # it changes nothing
        assert session.scalar(select(func.count()).select_from(PurchaseOrder)) == orders
    return Answered(again.http_status, again.text)


def an_order_with_a_wrong_shared_secret(app: Flask) -> Answered:
    buyer = Buyer(app.test_client())
    answer = buyer.post(order_request(Order([Line("FF-000001")], shared_secret="wrong")))
    return Answered(answer.http_status, answer.text)


PROMISES = [
    Promise(
        "README.md",
        r"`/oci/<id>` answers (?P<status>\d+) with a page saying that its configuration "
        r'"(?P<says>[^"]+)"',
        a_call_up_of_a_broken_file,
    ),
    Promise(
        "README.md",
        r'\(`/cxml/<id>`: a Status (?P<status>\d+), "(?P<says>[^"]+)"\)',
        a_cxml_request_to_a_broken_file,
    ),
    Promise(
        "docs/customer-config.md",
        r"`/oci/<id>` answers (?P<status>\d+) with a page saying that its configuration "
        r'"(?P<says>[^"]+)"',
        a_call_up_of_a_broken_file,
    ),
    Promise(
        "docs/customer-config.md",
        r'\(`/cxml/<id>`: a Status (?P<status>\d+), "(?P<says>[^"]+)"\)',
        a_cxml_request_to_a_broken_file,
    ),
    Promise(
        "README.md",
        r"an unknown customer id as `(?P<says>rejected)`, (?P<status>\d+)",
        a_call_up_of_an_unknown_customer_in_the_transfer_log,
    ),
    Promise(
        "README.md",
        r"`/healthz/ready` answers (?P<status>\d+) only while the database is reachable",
        the_readiness_of_a_healthy_service,
    ),
    Promise(
        "README.md",
        r"the From credential and the SharedSecret \((?P<status>\d+) otherwise\)",
        cxml_setup(Setup(shared_secret="wrong")),
    ),
    Promise(
        "README.md",
        r"answers with a cXML `Response`: (?P<status>\d+) and a (?P<says>StartPage URL)",
        a_valid_setup,
    ),
    Promise(
        "README.md",
        r"or a (?P<status>4xx) Status whose text says what to fix",
        cxml_setup(Setup(buyer_cookie=None)),
    ),
    Promise(
        "README.md",
        r"any other request is a (?P<status>\d+)\.",
        cxml_document(
            order_request(Order([Line("FF-000001")])).replace(b"OrderRequest", b"InvoiceRequest")
        ),
    ),
    Promise(
        "docs/customer-config.md",
        r"is refused with a (?P<status>\d+) that names the address and the accepted domains",
        a_call_up_from_outside_the_email_domains,
    ),
    Promise(
        "docs/customer-config.md",
        r"A field that is not editable and gets such a value refuses the punch-out "
        r"\((?P<status>\d+)\)",
        a_call_up_with_a_wrong_value_in_a_field_nobody_can_correct,
    ),
    Promise(
        "docs/onboarding.md",
        r"a (?P<status>\d+) is a credential or SharedSecret that does not match",
        cxml_setup(Setup(shared_secret="wrong")),
    ),
    Promise(
        "docs/onboarding.md",
        r"a (?P<status>\d+) names what the setup request lacks \(a (?P<says>BuyerCookie)",
        cxml_setup(Setup(buyer_cookie=None)),
    ),
    Promise(
        "docs/onboarding.md",
        r"a (?P<status>\d+) is XML that does not parse",
        cxml_document(b"this is not xml"),
    ),
    Promise(
        "docs/onboarding.md",
        r'ociflex answers `<Response><Status code="(?P<status>\d+)" text="(?P<says>\w+)"/>'
        r"</Response>` once the order is stored",
        an_order_for_a_booking,
    ),
    Promise(
        "docs/onboarding.md",
        r"The same document again \(the same `payloadID`\) is answered (?P<status>\d+) and "
        r"changes nothing",
        the_same_order_again,
    ),
    Promise(
        "docs/onboarding.md",
        r"A (?P<status>4xx) names what to fix",
        an_order_with_a_wrong_shared_secret,
    ),
    Promise(
        "docs/onboarding.md",
        r"ociflex must answer (?P<status>\d+) again and store nothing new",
        the_same_order_again,
    ),
    Promise(
        "docs/onboarding.md",
        r"A wrong SharedSecret \((?P<status>\d+)\), or a reference",
        an_order_with_a_wrong_shared_secret,
    ),
    Promise(
        "docs/onboarding.md",
        r"for a booking made there: answered (?P<status>\d+),",
        an_order_for_a_booking,
    ),
]


def _found(promise: Promise) -> re.Match[str]:
    matches = list(re.finditer(promise.words, text_of(promise.document)))
    assert len(matches) == 1, f"{promise}: found {len(matches)} times; reword it or the promise"
    return matches[0]


@pytest.mark.parametrize("promise", PROMISES, ids=str)
def test_the_service_answers_what_a_document_promises(service: Flask, promise: Promise) -> None:
    said = _found(promise)

    answered = promise.ask(service)

    status = said["status"]
    assert str(answered.status).startswith(status.removesuffix("xx")), (status, answered)
    if "says" in said.re.groupindex:
        assert said["says"] in answered.text


def _is_status(mention: str) -> bool:
    if mention.endswith("xx"):
        return True
    code = int(mention)
    return code in CXML_STATUSES or code in {status.value for status in HTTPStatus}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_status_a_document_mentions_is_held_to_the_service(document: str) -> None:
    text = text_of(document)
    held = [_found(promise).span() for promise in PROMISES if promise.document == document]
    held += [
        (start, start + len(words))
        for words in NOT_PROMISES
        for start in (match.start() for match in re.finditer(re.escape(words), text))
    ]

    unheld = [
        text[max(mention.start() - 60, 0) : mention.end() + 20]
        for mention in STATUS.finditer(text)
        if _is_status(mention[0]) and not any(start <= mention.start() < end for start, end in held)
    ]

    assert unheld == [], "add a Promise (or a NOT_PROMISES entry) for each of these"


def test_every_mention_that_promises_nothing_is_still_in_a_document() -> None:
    texts = [text_of(document) for document in DOCUMENTS]
    stale = [words for words in NOT_PROMISES if not any(words in text for text in texts)]
    assert stale == []
