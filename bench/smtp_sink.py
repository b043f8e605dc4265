"""An SMTP server that only counts what it accepts, as a process of its own (so it takes no
time from the outbox worker being measured): ``python -m bench.smtp_sink PORT``. It prints
``ready`` once listening, and on SIGTERM the number of messages accepted."""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Counter:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages += 1
        return "250 Message accepted for delivery"


def main(port: int) -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port, server_hostname="bench")
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(counter.messages, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
