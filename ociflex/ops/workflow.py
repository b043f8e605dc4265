"""The life of a request, as explicit transitions: ``new -> in_progress -> scheduled ->
confirmed``, plus ``rejected`` and ``cancelled`` (each with a reason) from any open state.

Plain data and functions: the inbox's actions ask :func:`next_status` before they change
anything, so an illegal step (confirming a rejected request, confirming twice) changes nothing.
"""

from dataclasses import dataclass

from ociflex.text import N_

#: States in which operations still work on a request.
OPEN_STATUSES = ("new", "in_progress", "scheduled")
FINAL_STATUSES = ("confirmed", "rejected", "cancelled")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    #: The requester is told why (rejection, cancellation).
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("start", ("new",), "in_progress"),
        Transition("schedule", ("in_progress", "scheduled"), "scheduled"),
        Transition("confirm", ("scheduled",), "confirmed"),
        Transition("reject", OPEN_STATUSES, "rejected", needs_reason=True),
        Transition("cancel", OPEN_STATUSES, "cancelled", needs_reason=True),
    )
}

#: How each status is called on screen (translated where shown).
STATUS_LABELS = {
    "new": N_("New"),
    "in_progress": N_("In progress"),
    "scheduled": N_("Scheduled"),
    "confirmed": N_("Confirmed"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
}


class TransitionError(Exception):
    """An action that the request's status does not allow; ``message`` is a catalogue text."""

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params)


def next_status(action: str, status: str) -> str:
    """The status after ``action`` on a request in ``status``, or :class:`TransitionError`."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionError(N_("Unknown action %(action)s."), action=action)
    if status not in transition.sources:
        raise TransitionError(
            N_("A request that is %(status)s cannot be %(target)s."),
            status=STATUS_LABELS[status],
            target=STATUS_LABELS[transition.target],
        )
    return transition.target


def available_actions(status: str) -> list[Transition]:
    """The transitions an operator may choose for a request in ``status``, in workflow order."""
    return [t for t in TRANSITIONS.values() if status in t.sources]
