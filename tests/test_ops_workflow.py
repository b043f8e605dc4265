"""The workflow's transitions: each legal step, and every illegal one refused."""

import pytest

from ociflex.models import STATUSES
from ociflex.ops.workflow import (
    FINAL_STATUSES,
    TRANSITIONS,
    TransitionError,
    available_actions,
    next_status,
)
from tests.support.workflow import LEGAL


@pytest.mark.parametrize(("action", "status", "target"), LEGAL)
def test_legal_steps(action: str, status: str, target: str) -> None:
    assert next_status(action, status) == target


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (action, status)
        for action in TRANSITIONS
        for status in STATUSES
        if (action, status) not in {(a, s) for a, s, _ in LEGAL}
    ],
)
def test_every_other_step_is_refused(action: str, status: str) -> None:
    with pytest.raises(TransitionError) as refused:
        next_status(action, status)
    assert "cannot be" in str(refused.value)


def test_confirming_twice_is_refused_in_words_an_operator_understands() -> None:
    with pytest.raises(TransitionError) as refused:
        next_status("confirm", "confirmed")
    assert str(refused.value) == "A request that is Confirmed cannot be Confirmed."


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(TransitionError, match="Unknown action"):
        next_status("approve", "new")


def test_final_requests_offer_no_actions() -> None:
    assert all(available_actions(status) == [] for status in FINAL_STATUSES)
    assert [t.action for t in available_actions("new")] == ["start", "reject", "cancel"]


def test_rejecting_and_cancelling_need_a_reason() -> None:
    assert {a for a, t in TRANSITIONS.items() if t.needs_reason} == {"reject", "cancel"}
