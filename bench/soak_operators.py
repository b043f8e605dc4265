"""The soak's operators: each logs in through the real login form, then takes new requests from
the inbox and works them to the end (take into work, schedule, confirm; now and then a
rejection) with the forms and CSRF token of the request's page, until the time is up.

Operators pick among the newest few requests of the inbox, so two of them regularly act on the
same request: the loser gets a 409 (or finds the action gone from the page), which is counted
and is not an error.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from bench.soak_http import Answer, NoAnswer, Tally, exchange, forms_in

COOKIE = "ociflex_ops"
#: Operators choose among this many of the newest new requests.
CHOOSE_AMONG = 5
#: Share of the requests an operator rejects after taking it into work.
REJECT_SHARE = 0.1
IDLE_WAIT = 0.5
_REQUEST_LINK = re.compile(r'class="ref" href="/ops/requests/(\d+)"')


@dataclass
class Desk:
    """What all operators share: the server, the clock, and what they did."""

    base_url: str
    deadline: float
    tally: Tally
    rng: random.Random
    #: Actions answered 303 (done), by action.
    done: Counter[str] = field(default_factory=Counter)
    #: 409: another operator changed the request first.
    conflicts: Counter[str] = field(default_factory=Counter)
    #: The next action was no longer on the request's page (another operator moved it on).
    gone: int = 0
    #: Any other answer, with what it was.
    unexpected: list[str] = field(default_factory=list)
    #: request id -> every final status an operator was told it reached (one expected).
    finished: dict[int, list[str]] = field(default_factory=dict)
    logins: int = 0


class OpsClient:
    """One operator's browser: the session cookie (``Secure``, so kept by hand over the
    loopback's plain HTTP) and the pages."""

    def __init__(self, desk: Desk, http: aiohttp.ClientSession, username: str) -> None:
        self.desk = desk
        self.http = http
        self.username = username
        self.cookie = ""

    async def request(
        self, step: str, method: str, path: str, data: list[tuple[str, str]] | None = None
    ) -> Answer:
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        answer = await exchange(
            self.http,
            self.desk.tally,
            step,
            method,
            f"{self.desk.base_url}{path}",
            data=data,
            headers=headers,
            who=f"operator {self.username}",
        )
        if COOKIE in answer.cookies:
            self.cookie = answer.cookies[COOKIE]
        return answer

    async def log_in(self, password: str) -> None:
        page = await self.request("ops login", "GET", "/ops/login")
        forms = forms_in(page.text).values()
        form = next((f for f in forms if "csrf_token" in f.values()), None)
        if form is None:
            raise RuntimeError(f"the login page has no form with a CSRF token: {page.status}")
        data = [(n, v) for n, v in form.fields if n not in ("username", "password")]
        data += [("username", self.username), ("password", password)]
        answer = await self.request("ops login", "POST", "/ops/login", data)
        if answer.status != 303:
            raise RuntimeError(f"{self.username} could not log in: {answer.status}")
        self.desk.logins += 1


async def operator(desk: Desk, http: aiohttp.ClientSession, username: str, password: str) -> None:
    """Log in, then work requests from the inbox until the deadline."""
    client = OpsClient(desk, http, username)
    await client.log_in(password)
    while time.monotonic() < desk.deadline:
        try:
            await _work_one(client)
        except NoAnswer as error:
            desk.unexpected.append(f"{username}: no answer: {error}")


async def _work_one(client: OpsClient) -> None:
    """Take one of the newest new requests from the inbox and work it as far as it goes."""
    desk = client.desk
    inbox = await client.request("ops inbox", "GET", "/ops/?status=new")
    ids = [int(found) for found in _REQUEST_LINK.findall(inbox.text)]
    if inbox.status != 200 or not ids:
        if inbox.status != 200:
            desk.unexpected.append(f"inbox: {inbox.status}")
        await asyncio.sleep(IDLE_WAIT)
        return
    request_id = desk.rng.choice(ids[:CHOOSE_AMONG])
    rejects = desk.rng.random() < REJECT_SHARE
    plan = ["start", "reject"] if rejects else ["start", "schedule", "confirm"]
    for action in plan:
        if not await _act(client, request_id, action):
            return


async def _act(client: OpsClient, request_id: int, action: str) -> bool:
    """Send ``action``'s form from the request's page as the operator sees it; True when done."""
    desk = client.desk
    page = await client.request("ops request page", "GET", f"/ops/requests/{request_id}")
    if page.status != 200:
        desk.unexpected.append(f"request page {request_id}: {page.status}")
        return False
    form = forms_in(page.text).get(f"action-{action}")
    if form is None:
        desk.gone += 1
        return False
    data = form.fields
    if action == "reject":
        data = [(n, v) for n, v in data if n != "reason"]
        data.append(("reason", "Er is die week geen auto beschikbaar (soak)."))
    answer = await client.request(f"ops {action}", "POST", form.attrs["action"], data)
    if answer.status == 303:
        desk.done[action] += 1
        if action in ("confirm", "reject"):
            status = "confirmed" if action == "confirm" else "rejected"
            desk.finished.setdefault(request_id, []).append(status)
        return True
    if answer.status == 409:
        desk.conflicts[action] += 1
    else:
        desk.unexpected.append(f"{action} on request {request_id}: {answer.status}")
    return False
