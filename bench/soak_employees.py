"""The soak's simulated employees: each one punches out from its ERP to the demo customer again
and again (call-up, booking form, submit, basket page) until the time is up.

Most journeys are valid bookings; some double-submit the same form (one stored request
expected), and some are deliberately bad in one way each, so that the rejections can be told
apart by reason. Every journey carries its own requester e-mail address, which is how the
verification finds the rows it stored.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp

from bench.soak_http import Answer, NoAnswer, Tally, exchange, forms_in
from ociflex.booking.form import REMARKS_MAX_LENGTH, today

CUSTOMER = "demo"
#: The demo customer accepts HOOK_URLs below this address (config/customers/demo.yaml).
HOOK_URL = "http://127.0.0.1:5000/dev/erp/hook"
FOREIGN_HOOK_URL = "https://erp.attacker.example/hook"
VEHICLES = ("COMPACT", "VAN")
LOCATIONS = ("Amsterdam Sloterdijk", "Utrecht Papendorp")
#: Seconds an employee takes to fill in the form, and to start the next punch-out.
FILLING_IN = (1.0, 4.0)
BETWEEN_JOURNEYS = (1.0, 4.0)
#: Seconds between the two sends of a double submit done one after the other.
RESUBMIT_AFTER = (0.1, 1.0)


@dataclass(frozen=True)
class Kind:
    """A kind of journey: how often it is chosen, and the answer ociflex must give."""

    weight: int
    #: The status the call-up must answer; the journey ends there unless it is 200.
    callup_status: int = 200
    #: The status the booking must answer (200: the basket page).
    booking_status: int = 200


KINDS: dict[str, Kind] = {
    "valid": Kind(60),
    "double submit": Kind(10),
    "wrong password": Kind(5, callup_status=403),
    "HOOK_URL not allowed": Kind(5, callup_status=400),
    "end before start": Kind(5, booking_status=422),
    "unknown vehicle": Kind(5, booking_status=422),
    "too-long field": Kind(5, booking_status=422),
    "tampered token": Kind(5, booking_status=400),
}
ACCEPTED_KINDS = ("valid", "double submit")


@dataclass
class Journey:
    """One punch-out of one employee, and what the client saw of it."""

    number: int
    kind: str
    email: str
    hook_url: str
    #: accepted, rejected, unexpected (an answer other than the kind's), no answer.
    outcome: str = "running"
    #: What went wrong; for a double submit, how it was sent ("double click", "sent again").
    detail: str = ""
    #: The reference of every basket page received (two for a double submit).
    references: list[str] = field(default_factory=list)


@dataclass
class Crowd:
    """What all employees share: the server, the clock, the journeys so far."""

    base_url: str
    password: str
    run_tag: str
    deadline: float
    http: aiohttp.ClientSession
    tally: Tally
    rng: random.Random
    journeys: list[Journey] = field(default_factory=list)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def email(self, number: int) -> str:
        return f"soak.{self.run_tag}.{number}@demo.example"


async def employee(crowd: Crowd, start_after: float) -> None:
    """Punch out again and again until the deadline; a journey started is finished."""
    await asyncio.sleep(start_after)
    names, weights = zip(*((name, kind.weight) for name, kind in KINDS.items()), strict=True)
    while time.monotonic() < crowd.deadline:
        number = next(crowd.numbers)
        kind = crowd.rng.choices(names, weights)[0]
        hook_url = f"{HOOK_URL}?session={crowd.run_tag}-{number}"
        journey = Journey(number, kind, crowd.email(number), hook_url)
        crowd.journeys.append(journey)
        try:
            await _journey(crowd, journey)
        except NoAnswer as error:
            journey.outcome, journey.detail = "no answer", str(error)
        await asyncio.sleep(crowd.rng.uniform(*BETWEEN_JOURNEYS))


def _callup(crowd: Crowd, journey: Journey) -> dict[str, str]:
    """The call-up the employee's ERP sends: the demo customer's parameters."""
    params = {
        "USERNAME": "demo-erp",
        "PASSWORD": crowd.password,
        "HOOK_URL": journey.hook_url,
        "~OkCode": "ADDI",
        "~TARGET": "_top",
        "~CALLER": "CTLG",
        "OCI_VERSION": "4.0",
        "oci_usermail": journey.email,
        "oci_userfullname": f"Soak Employee {journey.number}",
        "KOSTENPLAATS": "4100",
        "INKOOPNUMMER": f"PO-{journey.number}",
    }
    if journey.kind == "wrong password":
        params["PASSWORD"] = crowd.password + "-wrong"
    elif journey.kind == "HOOK_URL not allowed":
        params["HOOK_URL"] = FOREIGN_HOOK_URL
    return params


def _booking(crowd: Crowd, journey: Journey, token: str) -> dict[str, str]:
    """The booking form as the employee sends it, spoiled as the journey's kind says."""
    start = today() + timedelta(days=crowd.rng.randint(7, 60))
    end = start + timedelta(days=crowd.rng.randint(0, 4))
    form = {
        "punchout": token,
        "vehicle": crowd.rng.choice(VEHICLES),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "location": crowd.rng.choice(LOCATIONS),
        "cost_centre": "4100",
        "remarks": f"soak {crowd.run_tag} journey {journey.number}",
    }
    if journey.kind == "end before start":
        form["end"] = (start - timedelta(days=1)).isoformat()
    elif journey.kind == "unknown vehicle":
        form["vehicle"] = "SPACESHIP"
    elif journey.kind == "too-long field":
        form["remarks"] = "x" * (REMARKS_MAX_LENGTH + 1)
    elif journey.kind == "tampered token":
        form["punchout"] = _tampered(token)
    return form


def _tampered(token: str) -> str:
    """``token`` with one character in the middle of its signed data changed (not the last
    one of the signature, whose spare bits could leave the decoded signature intact)."""
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]


async def _journey(crowd: Crowd, journey: Journey) -> None:
    kind = KINDS[journey.kind]
    who = f"journey {journey.number} ({journey.email})"
    callup = await exchange(
        crowd.http,
        crowd.tally,
        "call-up",
        "POST",
        f"{crowd.base_url}/oci/{CUSTOMER}",
        data=_callup(crowd, journey),
        who=who,
    )
    if kind.callup_status != 200 or callup.status != 200:
        _settle(journey, "call-up", kind.callup_status, callup)
        return
    form = next((f for f in forms_in(callup.text).values() if "punchout" in f.values()), None)
    if form is None:
        journey.outcome, journey.detail = "unexpected", "call-up: no booking form on the page"
        return
    await asyncio.sleep(crowd.rng.uniform(*FILLING_IN))
    booking = _booking(crowd, journey, form.values()["punchout"])

    def send() -> Coroutine[Any, Any, Answer]:
        url = f"{crowd.base_url}/oci/{CUSTOMER}/book"
        return exchange(crowd.http, crowd.tally, "booking", "POST", url, data=booking, who=who)

    if journey.kind != "double submit":
        answers = [await send()]
    elif crowd.rng.random() < 0.5:
        # A double click: both sends are on their way before the first answer.
        journey.detail = "double click"
        answers = list(await asyncio.gather(send(), send()))
    else:
        # Back and send again after the basket page (or a retry after a slow answer).
        journey.detail = "sent again"
        first = await send()
        await asyncio.sleep(crowd.rng.uniform(*RESUBMIT_AFTER))
        answers = [first, await send()]
    for answer in answers:
        _settle(journey, "booking", kind.booking_status, answer)
        if journey.outcome == "unexpected":
            return


def _settle(journey: Journey, step: str, expected: int, answer: Answer) -> None:
    """Record what the employee saw: the basket for its own HOOK_URL (its reference), or a
    refusal."""
    if answer.status != expected:
        journey.outcome = "unexpected"
        journey.detail = f"{step}: {answer.status} where {expected} was expected"
        return
    if expected != 200:
        journey.outcome = "rejected"
        return
    basket = forms_in(answer.text).get("oci-basket")
    reference = basket.values().get("NEW_ITEM-EXT_QUOTE_ID[1]") if basket else None
    if basket is None or not reference:
        journey.outcome, journey.detail = "unexpected", f"{step}: 200 without a basket"
        return
    if basket.attrs.get("action") != journey.hook_url:
        journey.outcome = "unexpected"
        journey.detail = f"{step}: basket for {basket.attrs.get('action')}, not {journey.hook_url}"
        return
    journey.references.append(reference)
    journey.outcome = "accepted"
