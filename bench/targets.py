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
    #: Where its figures are in the run's figures ("round_trip", "sqlite").
    section: tuple[str, ...]
    #: The figure, as printed, from the section's figures (None: too little was measured).
    measured: Callable[[dict[str, Any]], str | None]
    met: Callable[[dict[str, Any]], bool]


def _get(figures: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def _smallest_and_largest(inbox: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    sizes = sorted(inbox, key=int)
    return inbox[sizes[0]], inbox[sizes[-1]]


INBOX_PAGES = ("list", "filter", "search")


def _inbox_met(inbox: dict[str, Any], pages: tuple[str, ...] = INBOX_PAGES) -> bool:
    small, large = _smallest_and_largest(inbox)
    return all(
        large[page]["p99_ms"] < 50 and large[page]["p99_ms"] <= 1.5 * small[page]["p99_ms"]
        for page in pages
    )


def _inbox_measured(inbox: dict[str, Any], pages: tuple[str, ...] = INBOX_PAGES) -> str | None:
    if len(inbox) < 2:
        return None
    small, large = _smallest_and_largest(inbox)
    return ", ".join(
        f"{page} {large[page]['p99_ms']:.1f} ms "
        f"({large[page]['p99_ms'] / small[page]['p99_ms']:.2f}x)"
        for page in pages
    )


def _word_search(engine: str, name: str) -> Target:
    return Target(
        f"word search at the largest size ({name})",
        "p99 < 50 ms, <= 1.5x the 10,000 figure",
        ("inbox", engine),
        lambda inbox: _inbox_measured(inbox, ("search_word",)),
        lambda inbox: _inbox_met(inbox, ("search_word",)),
    )


def _round_trip(engine: str, name: str, wanted: int) -> Target:
    return Target(
        f"round trip on {name}",
        f">= {wanted} completed bookings/s, 0 errors",
        ("round_trip", engine),
        lambda f: f"{f['completed_per_second']:.0f}/s, {f['errors']} errors",
        lambda f: f["completed_per_second"] >= wanted and f["errors"] == 0,
    )


def _planning_met(planning: dict[str, Any]) -> bool:
    small, large = _smallest_and_largest(planning)
    return large["week"]["p99_ms"] < 50 and large["week"]["p99_ms"] <= 1.5 * small["week"]["p99_ms"]


def _planning_measured(planning: dict[str, Any]) -> str | None:
    if len(planning) < 2:
        return None
    small, large = _smallest_and_largest(planning)
    ratio = large["week"]["p99_ms"] / small["week"]["p99_ms"]
    return f"week {large['week']['p99_ms']:.1f} ms ({ratio:.2f}x)"


def _planning(engine: str, name: str) -> Target:
    return Target(
        f"planning view at the largest size ({name})",
        "p99 < 50 ms, <= 1.5x the 10,000 figure",
        ("planning", engine),
        _planning_measured,
        _planning_met,
    )


def _form(page: str) -> Target:
    return Target(
        f"booking form ({page.removeprefix('form_').upper()})",
        ">= 50% of hello world, p99 < 25 ms at 32 connections",
        ("form_page", page),
        lambda f: f"{f['ratio_to_hello']:.0%}, p99 {f['p99_ms']:.1f} ms",
        lambda f: f["ratio_to_hello"] >= 0.5 and f["p99_ms"] < 25,
    )


TARGETS = (
    _form("form_get"),
    _form("form_post"),
    Target(
        "cXML setup request",
        ">= 50% of hello world",
        ("form_page", "cxml_setup"),
        lambda f: f"{f['ratio_to_hello']:.0%}, p99 {f['p99_ms']:.1f} ms",
        lambda f: f["ratio_to_hello"] >= 0.5,
    ),
    _round_trip("sqlite", "SQLite", 300),
    _round_trip("postgresql", "PostgreSQL", 400),
    Target(
        "inbox at the largest size (SQLite)",
        "p99 < 50 ms, <= 1.5x the 10,000 figure",
        ("inbox", "sqlite"),
        _inbox_measured,
        _inbox_met,
    ),
    _word_search("sqlite", "SQLite"),
    _word_search("postgresql", "PostgreSQL"),
    _planning("sqlite", "SQLite"),
    _planning("postgresql", "PostgreSQL"),
    Target(
        "start-up with 1,000 customer files",
        "< 2 s; no YAML read while answering",
        ("startup", "1000"),
        lambda f: (
            f"gunicorn {f['gunicorn_ready_seconds']:.2f} s, "
            f"create_app {f['create_app_seconds']:.2f} s"
        ),
        lambda f: f["gunicorn_ready_seconds"] < 2 and f["no_yaml_read_while_answering"],
    ),
    Target(
        "outbox to a local SMTP server",
        ">= 200 e-mails/s",
        ("outbox",),
        lambda f: f"{f['per_second']:.0f}/s",
        lambda f: f["per_second"] >= 200,
    ),
)


def check(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the figure measured and whether it is met (None: not measured)."""
    results = []
    for target in TARGETS:
        section = _get(figures, target.section)
        measured = None if not section else target.measured(section)
        results.append(
            {
                "target": target.name,
                "wanted": target.wanted,
                "measured": measured,
                "met": None if measured is None else target.met(section),
            }
        )
    return results
