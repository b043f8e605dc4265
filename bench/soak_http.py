"""What the soak's simulated clients share: one HTTP exchange, timed and tallied, and the forms
of a page read as a browser would send them.

Pages are read with regular expressions instead of an HTML parser: a few hundred clients share
two cores with the server they measure, so the client must stay light. ociflex's templates
write every attribute in double quotes, which is all these expressions rely on.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
_INPUT = re.compile(r"<input\b([^>]*)>")
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.DOTALL)
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
#: How many responses with a 5xx status are kept with their details as evidence.
EVIDENCE_KEPT = 50


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    headers: Mapping[str, str]
    cookies: Mapping[str, str]


class NoAnswer(Exception):
    """The exchange ended without an HTTP response (refused, reset, timed out)."""


@dataclass
class Tally:
    """Every response of the run by status, the time each step took, and the 5xx answers."""

    statuses: Counter[int] = field(default_factory=Counter)
    no_answer: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[dict[str, object]] = field(default_factory=list)

    @property
    def responses(self) -> int:
        return sum(self.statuses.values())

    @property
    def count_5xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def percentiles(self) -> dict[str, dict[str, float]]:
        """Per step: how many, and the 50th, 95th and 99th percentile and the maximum (s)."""
        figures = {}
        for step, values in sorted(self.seconds.items()):
            ordered = sorted(values)

            def at(share: float, ordered: list[float] = ordered) -> float:
                return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)

            figures[step] = {
                "count": len(ordered),
                "p50": at(0.50),
                "p95": at(0.95),
                "p99": at(0.99),
                "max": round(ordered[-1], 3),
            }
        return figures


async def exchange(
    session: aiohttp.ClientSession,
    tally: Tally,
    step: str,
    method: str,
    url: str,
    *,
    data: Mapping[str, str] | list[tuple[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    who: str = "",
) -> Answer:
    """One request, redirects not followed; its status and time go to ``tally``. A 5xx is
    kept as evidence with ``who`` (the journey or operator) and the start time; no response
    at all raises :class:`NoAnswer`."""
    started = time.monotonic()
    wall = time.time()
    try:
        async with session.request(
            method, url, data=data, headers=headers, allow_redirects=False
        ) as response:
            text = await response.text()
            cookies = {name: morsel.value for name, morsel in response.cookies.items()}
            answer = Answer(response.status, text, dict(response.headers), cookies)
    except (TimeoutError, aiohttp.ClientError) as error:
        tally.no_answer[step] += 1
        raise NoAnswer(f"{step}: {type(error).__name__}: {error}") from error
    tally.seconds[step].append(time.monotonic() - started)
    tally.statuses[answer.status] += 1
    if answer.status >= 500 and len(tally.server_errors) < EVIDENCE_KEPT:
        tally.server_errors.append(
            {
                "step": step,
                "who": who,
                "status": answer.status,
                "path": url.split("//", 1)[-1].partition("/")[2],
                "at": time.strftime("%H:%M:%S", time.localtime(wall)),
                "body": " ".join(answer.text.split())[:300],
            }
        )
    return answer


# --- Forms --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    attrs: dict[str, str]
    #: (name, value) of every input and text area, in page order: what a browser would post
    #: when nobody changes anything.
    fields: list[tuple[str, str]]

    def values(self) -> dict[str, str]:
        return dict(self.fields)


def _attributes(text: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(text)}


def forms_in(page: str) -> dict[str, Form]:
    """The forms of ``page`` by id (``form-<n>`` for one without an id)."""
    forms = {}
    for index, (attr_text, body) in enumerate(_FORM.findall(page)):
        attrs = _attributes(attr_text)
        fields = []
        for input_attrs in map(_attributes, _INPUT.findall(body)):
            if "name" in input_attrs and input_attrs.get("type") not in ("submit", "button"):
                fields.append((input_attrs["name"], input_attrs.get("value", "")))
        for textarea_attrs, content in _TEXTAREA.findall(body):
            name = _attributes(textarea_attrs).get("name")
            if name:
                fields.append((name, html.unescape(content).removeprefix("\n")))
        forms[attrs.get("id", f"form-{index}")] = Form(attrs, fields)
    return forms
