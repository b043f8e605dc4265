"""The workflow's steps as the tests walk them."""

from ociflex.ops.workflow import OPEN_STATUSES

LEGAL = [
    ("start", "new", "in_progress"),
    ("schedule", "in_progress", "scheduled"),
    ("schedule", "scheduled", "scheduled"),
    ("confirm", "scheduled", "confirmed"),
    *[("reject", status, "rejected") for status in OPEN_STATUSES],
    *[("cancel", status, "cancelled") for status in OPEN_STATUSES],
]
