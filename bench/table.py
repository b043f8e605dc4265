"""The run's figures as one plain-text table."""

from __future__ import annotations

from typing import Any

#: The form_page section's measures of ociflex, each shown as a share of the hello world.
NEXT_TO_HELLO = {
    "form_get": "booking form, call-up GET",
    "form_post": "booking form, call-up POST",
    "cxml_setup": "cXML setup request (POST /cxml/demo)",
}


def _load_row(label: str, load: dict[str, Any], extra: str = "") -> list[str]:
    return [
        label,
        f"{load['rps']:.0f}",
        f"{load['p50_ms']:.1f}",
        f"{load['p99_ms']:.1f}",
        str(load["errors"]),
        extra,
    ]


def _rows(figures: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    if form := figures.get("form_page"):
        rows.append(_load_row("hello world (bare Flask)", form["hello"]))
        for page, label in NEXT_TO_HELLO.items():
            ratio = f"{form[page]['ratio_to_hello']:.0%} of hello world"
            rows.append(_load_row(label, form[page], ratio))
    for engine, load in (figures.get("round_trip") or {}).items():
        if engine == "connections" or not isinstance(load, dict):
            continue
        done = f"{load['completed_per_second']:.0f} bookings/s"
        rows.append(_load_row(f"round trip, {engine}", load, done))
    for engine, by_size in (figures.get("inbox") or {}).items():
        if not isinstance(by_size, dict):
            continue
        for size, entry in by_size.items():
            for page in ("list", "filter", "search", "search_name", "search_word"):
                label = f"inbox {page}, {engine}, {int(size):,} requests"
                seeded = f"seeded in {entry['seed_seconds']:.0f} s" if page == "list" else ""
                rows.append(_load_row(label, entry[page], seeded))
    for engine, by_size in (figures.get("planning") or {}).items():
        if not isinstance(by_size, dict):
            continue
        for size, entry in by_size.items():
            week = entry["week"]
            label = f"planning week, {engine}, {int(size):,} requests"
            notes = (
                f"{week['week']}: {week['movements']} pickups and returns, "
                f"{week['to_plan']} to plan; seeded in {entry['seed_seconds']:.0f} s"
            )
            rows.append(_load_row(label, week, notes))
    for count, entry in (figures.get("startup") or {}).items():
        if not isinstance(entry, dict):
            continue
        rss = max(entry["worker_rss_mib"] or [0])
        rows.append(
            [
                f"start-up, {int(count):,} customer files",
                "",
                "",
                "",
                "",
                f"gunicorn ready {entry['gunicorn_ready_seconds']:.2f} s, create_app "
                f"{entry['create_app_seconds']:.2f} s, {rss:.0f} MiB/worker",
            ]
        )
    if mail := figures.get("outbox"):
        rows.append(
            [
                f"outbox, {mail['messages']:,} e-mails",
                "",
                "",
                "",
                str(mail["messages"] - mail["received_by_smtp"]),
                f"{mail['per_second']:.0f} e-mails/s ({mail['seconds']:.1f} s)",
            ]
        )
    if cpu := figures.get("cpu"):
        costs = [
            f"{name} {cpu[name]:.2f}"
            for name in ("hello", "form_get", "form_post", "cxml_setup", "round_trip")
        ]
        for name, value in cpu.items():
            if name.startswith("inbox_"):
                size = int(name.removeprefix("inbox_"))
                costs += [f"inbox {page} ({size:,}) {ms:.1f}" for page, ms in value.items()]
        rows.append(["CPU ms per request (in-process)", "", "", "", "", ", ".join(costs)])
    return rows


def _format(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(figures: dict[str, Any]) -> str:
    head = (
        f"ociflex benchmark {figures['date']} rev {figures['revision']}, "
        f"{figures['cpu_count']} cores, gunicorn {figures['gunicorn_workers']} workers "
        f"({figures.get('gunicorn_worker_class', 'sync')}), "
        f"{figures['seconds_per_run']:.0f} s per run"
    )
    header = ["measure", "req/s", "p50 ms", "p99 ms", "errors", "notes"]
    table = _format([header, *_rows(figures)])
    targets = [["target", "wanted", "measured", "met"]]
    for result in figures.get("targets", []):
        met = {True: "yes", False: "NO", None: "not run"}[result["met"]]
        targets.append([result["target"], result["wanted"], result["measured"] or "-", met])
    loads = ", ".join(
        f"{name} {section['load_average'][0]:.1f}->{section['load_average'][1]:.1f}"
        for name, section in figures.items()
        if isinstance(section, dict) and "load_average" in section
    )
    machine = f"1-minute load average before->after each section: {loads}"
    return f"{head}\n\n{table}\n\n{machine}\n\n{_format_plain(targets)}"


def _format_plain(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
