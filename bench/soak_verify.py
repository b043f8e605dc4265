"""After the soak: what the clients saw, checked against the database and the SMTP server.

- Requests: every journey carries its own requester address, so its rows are found by it. A
  basket the employee received must be exactly one row with the basket's reference; a refused
  journey must have stored nothing; a row whose journey never saw its basket is "accepted but
  unanswered".
- Operators: every confirmation or rejection an operator was told succeeded must be the
  request's status, and no request may be finished twice.
- E-mail: every outbox message must have reached the SMTP server exactly once (counted by its
  Message-ID), each confirmed or rejected request must have exactly one such e-mail to its
  requester, and every request exactly one notification to operations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.soak_employees import ACCEPTED_KINDS, Journey
from bench.soak_operators import Desk
from ociflex.models import OutboxMessage, RentalRequest, StatusCount, Transfer, format_reference
from tests.support.smtp import ReceivedMail

#: The e-mail to the requester that each final status must have produced.
STATUS_MAIL = {"confirmed": "confirmation", "rejected": "rejection", "cancelled": "cancellation"}
#: Evidence kept per kind of problem.
EXAMPLES = 10


@dataclass
class Verdict:
    """Figures for the table, and the problems found with their evidence."""

    figures: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def problem(self, kind: str, evidence: str) -> None:
        self.problems[kind].append(evidence)

    def count(self, kind: str) -> int:
        return len(self.problems.get(kind, []))

    def evidence(self) -> dict[str, list[str]]:
        return {kind: found[:EXAMPLES] for kind, found in self.problems.items() if found}


@dataclass(frozen=True)
class Stored:
    rows: list[RentalRequest]
    outbox: list[OutboxMessage]
    status_counts: dict[tuple[str, str], int]
    baskets_logged: Counter[str]


def read_database(url: str) -> Stored:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            rows = list(session.scalars(select(RentalRequest).order_by(RentalRequest.id)))
            outbox = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            counts = {
                (c.customer_id, c.status): c.count for c in session.scalars(select(StatusCount))
            }
            logged = Counter(
                dict(
                    session.execute(
                        select(Transfer.outcome, func.count())
                        .where(Transfer.kind == "basket")
                        .group_by(Transfer.outcome)
                    ).all()
                )
            )
            session.expunge_all()
    finally:
        engine.dispose()
    return Stored(rows, outbox, counts, logged)


def verify(
    stored: Stored, journeys: list[Journey], desk: Desk, mails: list[ReceivedMail]
) -> Verdict:
    verdict = Verdict()
    verdict.figures["employees"] = _employees(journeys, verdict)
    verdict.figures["requests stored"] = _requests(stored, journeys, verdict)
    verdict.figures["operators"] = _operators(stored, desk, verdict)
    verdict.figures["e-mails"] = _mails(stored, mails, verdict)
    return verdict


def _employees(journeys: list[Journey], verdict: Verdict) -> dict[str, Any]:
    outcomes = Counter(j.outcome for j in journeys)
    doubles = [j for j in journeys if j.kind == "double submit" and j.outcome == "accepted"]
    one_reference = [j for j in doubles if len(set(j.references)) == 1]
    for journey in journeys:
        if journey.outcome in ("unexpected", "no answer", "running"):
            verdict.problem(
                journey.outcome, f"journey {journey.number} ({journey.kind}): {journey.detail}"
            )
    for journey in doubles:
        if len(set(journey.references)) != 1:
            verdict.problem(
                "double submit answered with two references",
                f"journey {journey.number}: {journey.references}",
            )
    rejected = Counter(j.kind for j in journeys if j.outcome == "rejected")
    return {
        "journeys tried": len(journeys),
        "accepted (basket page received)": outcomes["accepted"],
        "of which double submits": len(doubles),
        "double submits sent at once (double click)": sum(
            j.detail == "double click" for j in doubles
        ),
        "double submits sent again after the answer": sum(
            j.detail == "sent again" for j in doubles
        ),
        "double submits answered with one reference": len(one_reference),
        "rejected": outcomes["rejected"],
        "rejected by reason": dict(sorted(rejected.items())),
        "unexpected answers": outcomes["unexpected"],
        "no answer (refused, reset, timed out)": outcomes["no answer"],
    }


def _requests(stored: Stored, journeys: list[Journey], verdict: Verdict) -> dict[str, Any]:
    rows_by_email: dict[str, list[RentalRequest]] = defaultdict(list)
    for row in stored.rows:
        rows_by_email[row.requester_email].append(row)
    known = set()
    for journey in journeys:
        known.add(journey.email)
        rows = rows_by_email.get(journey.email, [])
        references = sorted(r.reference for r in rows)
        if len(rows) > 1:
            verdict.problem("duplicated", f"journey {journey.number}: rows {references}")
        if journey.references:
            if not rows:
                verdict.problem("lost", f"journey {journey.number}: basket {journey.references}")
            elif set(journey.references) - set(references):
                verdict.problem(
                    "reference mismatch",
                    f"journey {journey.number}: saw {journey.references}, stored {references}",
                )
        elif rows and journey.outcome == "rejected":
            verdict.problem("stored although rejected", f"journey {journey.number}: {references}")
        elif rows:
            verdict.problem(
                "accepted but unanswered",
                f"journey {journey.number} ({journey.outcome}: {journey.detail}): {references}",
            )
        if journey.kind not in ACCEPTED_KINDS and rows:
            verdict.problem(
                "stored for a bad booking", f"journey {journey.number} ({journey.kind})"
            )
    for email, rows in rows_by_email.items():
        if email not in known:
            verdict.problem("row of no journey", f"{email}: {[r.reference for r in rows]}")
    by_status = Counter((r.customer_id, r.status) for r in stored.rows)
    counted = {key: count for key, count in stored.status_counts.items() if count}
    if counted != dict(by_status):
        verdict.problem("status counts off", f"counts table {counted}, rows {dict(by_status)}")
    if stored.baskets_logged["sent"] != len(stored.rows):
        verdict.problem(
            "transfer log off",
            f"{stored.baskets_logged['sent']} baskets logged as sent for {len(stored.rows)} rows",
        )
    return {
        "rows": len(stored.rows),
        "by status": dict(sorted(Counter(r.status for r in stored.rows).items())),
        "lost (basket seen, no row)": verdict.count("lost"),
        "duplicated (more than one row)": verdict.count("duplicated"),
        "reference mismatch": verdict.count("reference mismatch"),
        "accepted but unanswered": verdict.count("accepted but unanswered"),
        "stored although rejected": verdict.count("stored although rejected"),
        "rows of no journey": verdict.count("row of no journey"),
        "transfer log baskets sent / resent": (
            f"{stored.baskets_logged['sent']} / {stored.baskets_logged['resent']}"
        ),
        "status counts match the rows": verdict.count("status counts off") == 0,
    }


def _operators(stored: Stored, desk: Desk, verdict: Verdict) -> dict[str, Any]:
    status_of = {row.id: row.status for row in stored.rows}
    for request_id, told in desk.finished.items():
        if len(told) > 1:
            verdict.problem("finished twice", f"{format_reference(request_id)}: {told}")
        if status_of.get(request_id) != told[-1]:
            verdict.problem(
                "acknowledged but not stored",
                f"{format_reference(request_id)}: told {told}, stored {status_of.get(request_id)}",
            )
    for what in desk.unexpected:
        verdict.problem("operator got an unexpected answer", what)
    return {
        "logins": desk.logins,
        "actions done (303)": dict(sorted(desk.done.items())),
        "409 conflicts (another operator was first)": sum(desk.conflicts.values()),
        "action already gone from the page": desk.gone,
        "unexpected answers": len(desk.unexpected),
        "finished twice": verdict.count("finished twice"),
        "acknowledged but not stored": verdict.count("acknowledged but not stored"),
    }


def _mails(stored: Stored, mails: list[ReceivedMail], verdict: Verdict) -> dict[str, Any]:
    delivered = Counter(str(mail.message["Message-ID"]) for mail in mails)
    recipients = {str(mail.message["Message-ID"]): mail.rcpt_tos for mail in mails}
    queued = {message.message_id: message for message in stored.outbox}
    for message in stored.outbox:
        times = delivered[message.message_id]
        where = f"{message.kind} id={message.id} request_id={message.request_id}"
        if times == 0:
            verdict.problem(
                "e-mail undelivered",
                f"{where} status={message.status} attempts={message.attempts} "
                f"error={message.last_error[:120]}",
            )
        elif times > 1:
            verdict.problem("e-mail duplicated", f"{where} delivered {times} times")
        elif recipients[message.message_id] != [message.recipient]:
            verdict.problem(
                "e-mail to the wrong recipient",
                f"{where} to {recipients[message.message_id]}, not {message.recipient}",
            )
    for message_id in delivered.keys() - queued.keys():
        verdict.problem("e-mail not from the outbox", message_id)
    kinds_of: dict[int | None, Counter[str]] = defaultdict(Counter)
    for message in stored.outbox:
        kinds_of[message.request_id][message.kind] += 1
    for row in stored.rows:
        expected = Counter({"new_request": 1})
        if row.status in STATUS_MAIL:
            expected[STATUS_MAIL[row.status]] += 1
        if kinds_of[row.id] != expected:
            verdict.problem(
                "e-mails queued off",
                f"{row.reference} ({row.status}): {dict(kinds_of[row.id])}",
            )
    retried = [m for m in stored.outbox if m.attempts > 1]
    return {
        "queued": len(stored.outbox),
        "queued by kind": dict(sorted(Counter(m.kind for m in stored.outbox).items())),
        "delivered": sum(delivered.values()),
        "delivered once": sum(1 for count in delivered.values() if count == 1),
        "duplicated": verdict.count("e-mail duplicated"),
        "undelivered": verdict.count("e-mail undelivered"),
        "not from the outbox": verdict.count("e-mail not from the outbox"),
        "to the wrong recipient": verdict.count("e-mail to the wrong recipient"),
        "requests whose queued e-mails are off": verdict.count("e-mails queued off"),
        "delivered after a failed attempt": len(retried),
    }
