"""Section 5: the outbox worker sending 10,000 queued e-mails to a local SMTP server."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from typing import Any

from sqlalchemy import insert, select

from bench.inbox import database_app
from bench.punchout import sqlite_database
from bench.servers import ROOT
from ociflex.db import session_for
from ociflex.devtools.seed import seed_customers, seed_requests
from ociflex.mail.compose import confirmation
from ociflex.mail.delivery import run_worker
from ociflex.mail.outbox import new_message_id
from ociflex.models import OutboxMessage, RentalRequest, utcnow
from tests.support.postgres import free_port

BATCH = 100


def _queue(app: Any, count: int) -> None:
    """``count`` confirmations (with their calendar entry) of one seeded request, queued."""
    seed_requests(app.extensions["ociflex.engine"], 1, seed_customers({}, 1))
    with session_for(app) as session:
        request = session.scalar(select(RentalRequest))
        composed = confirmation(request)
        now = utcnow()
        rows = [
            {
                "message_id": new_message_id(),
                "request_id": request.id,
                "kind": composed.kind,
                "recipient": composed.recipient,
                "subject": f"{composed.subject} ({number})",
                "body_text": composed.text,
                "body_html": composed.html,
                "attachments": list(composed.attachments),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
            for number in range(count)
        ]
        session.execute(insert(OutboxMessage), rows)
        session.commit()


def outbox(count: int) -> dict[str, Any]:
    port = free_port()
    sink = subprocess.Popen(  # noqa: S603 (our own interpreter)
        [sys.executable, "-m", "bench.smtp_sink", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        with sqlite_database() as url, tempfile.TemporaryDirectory() as instance:
            environ = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port)}
            with database_app(url, instance, **environ) as app:
                _queue(app, count)
                began = time.perf_counter()
                report = run_worker(app, once=True, batch=BATCH)
                seconds = time.perf_counter() - began
    finally:
        sink.terminate()
        received, _ = sink.communicate(timeout=30)
    return {
        "messages": count,
        "batch": BATCH,
        "sent": report.sent,
        "received_by_smtp": int(received.strip().splitlines()[-1]),
        "seconds": round(seconds, 2),
        "per_second": round(report.sent / seconds, 1),
    }
