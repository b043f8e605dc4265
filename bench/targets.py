"""The issue's targets on a 2-core machine, checked against one run's figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    #: What the target says, as the report prints it.
    wanted: str
    #: The figure, as printed, from the run's figures (None: the section did not run).
    measured: Callable[[dict[str, Any]], str | None]
    met: Callable[[dict[str, Any]], bool]


def _get(figures: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def _inbox(figures: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The SQLite inbox at its smallest and largest size measured."""
    inbox = _get(figures, "inbox", "sqlite")
    if not inbox or len(inbox) < 2:
        return None
    sizes = sorted(inbox, key=int)
    return inbox[sizes[0]], inbox[sizes[-1]]


INBOX_PAGES = ("list", "filter", "search")


def _inbox_met(figures: dict[str, Any]) -> bool:
    pair = _inbox(figures)
    if pair is None:
        return False
    small, large = pair
    return all(
        large[page]["p99_ms"] < 50 and large[page]["p99_ms"] <= 1.5 * small[page]["p99_ms"]
        for page in INBOX_PAGES
    )


def _inbox_measured(figures: dict[str, Any]) -> str | None:
    pair = _inbox(figures)
    if pair is None:
        return None
    small, large = pair
    return ", ".join(
        f"{page} {large[page]['p99_ms']:.1f} ms "
        f"({large[page]['p99_ms'] / small[page]['p99_ms']:.2f}x)"
        for page in INBOX_PAGES
    )


def _form(page: str) -> Target:
    return Target(
        f"booking form ({page.removeprefix('form_').upper()})",
        ">= 50% of hello world, p99 < 25 ms at 32 connections",
        lambda f: (
            None
            if _get(f, "form_page", page) is None
            else f"{f['form_page'][page]['ratio_to_hello']:.0%}, "
            f"p99 {f['form_page'][page]['p99_ms']:.1f} ms"
        ),
        lambda f: (
            _get(f, "form_page", page) is not None
            and f["form_page"][page]["ratio_to_hello"] >= 0.5
            and f["form_page"][page]["p99_ms"] < 25
        ),
    )


TARGETS = (
    _form("form_get"),
    _form("form_post"),
    Target(
        "round trip on SQLite",
        ">= 300 completed bookings/s, 0 errors",
        lambda f: (
            None
            if _get(f, "round_trip", "sqlite") is None
            else f"{f['round_trip']['sqlite']['completed_per_second']:.0f}/s, "
            f"{f['round_trip']['sqlite']['errors']} errors"
        ),
        lambda f: (
            _get(f, "round_trip", "sqlite") is not None
            and f["round_trip"]["sqlite"]["completed_per_second"] >= 300
            and f["round_trip"]["sqlite"]["errors"] == 0
        ),
    ),
    Target(
        "inbox at the largest size (SQLite)",
        "p99 < 50 ms, <= 1.5x the 10,000 figure",
        _inbox_measured,
        _inbox_met,
    ),
    Target(
        "start-up with 1,000 customer files",
        "< 2 s; no YAML read while answering",
        lambda f: (
            None
            if _get(f, "startup", "1000") is None
            else f"gunicorn {f['startup']['1000']['gunicorn_ready_seconds']:.2f} s, create_app "
            f"{f['startup']['1000']['create_app_seconds']:.2f} s"
        ),
        lambda f: (
            _get(f, "startup", "1000") is not None
            and f["startup"]["1000"]["gunicorn_ready_seconds"] < 2
            and f["startup"]["1000"]["no_yaml_read_while_answering"]
        ),
    ),
    Target(
        "outbox to a local SMTP server",
        ">= 200 e-mails/s",
        lambda f: None if _get(f, "outbox") is None else f"{f['outbox']['per_second']:.0f}/s",
        lambda f: _get(f, "outbox") is not None and f["outbox"]["per_second"] >= 200,
    ),
)


def check(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the figure measured and whether it is met (None: not measured)."""
    results = []
    for target in TARGETS:
        measured = target.measured(figures)
        results.append(
            {
                "target": target.name,
                "wanted": target.wanted,
                "measured": measured,
                "met": None if measured is None else target.met(figures),
            }
        )
    return results
