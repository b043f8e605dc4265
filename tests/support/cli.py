"""``flask --app app ...`` as a shell runs it: a process of its own, in the project's folder,
with the environment a test gives and nothing of the test run's own ociflex settings.

For what only a real process shows: whether a command reads the customer files at all (the app
is created by the ``flask`` command, not by the test), and what it writes to stderr.
"""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ociflex.customers.loader import load_customers
from ociflex.customers.problems import Problem
from ociflex.protocols import CUSTOMER_SECTIONS

ROOT = Path(__file__).resolve().parent.parent.parent
FLASK = (sys.executable, "-m", "flask", "--app", "app")
#: What the registry logs for each problem of a file it cannot serve.
NOT_SERVED = "ociflex.customers.registry: customer {id} is not served: {problem}"


def process_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment without its ``OCIFLEX_`` and ``FLASK_`` variables, then
    ``environ``: a variable the test leaves out is unset."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OCIFLEX_", "FLASK_", "WERKZEUG_"))
    }
    return {**inherited, **environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def flask_command(
    *args: str, environ: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``flask --app app ARGS``, run to its end; stdout and stderr kept apart."""
    return subprocess.run(
        [*FLASK, *args],
        cwd=ROOT,
        env=process_environ(environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def without(environ: Mapping[str, str], name: str) -> dict[str, str]:
    """``environ`` with the variable ``name`` unset."""
    return {key: value for key, value in environ.items() if key != name}


def customer_problems(environ: Mapping[str, str], customer_id: str) -> list[Problem]:
    """The problems of ``customer_id``'s file in ``OCIFLEX_CUSTOMERS_DIR`` with ``environ``'s
    secrets, as the loader finds them (at least one, or the test proves nothing)."""
    directory = Path(environ["OCIFLEX_CUSTOMERS_DIR"])
    problems = load_customers(directory, CUSTOMER_SECTIONS, environ).problems.get(customer_id)
    assert problems, f"{customer_id}'s file has no problem with this environment"
    return problems


def not_served_lines(customer_id: str, problems: list[Problem]) -> list[str]:
    """The log text of each problem, as the registry writes it (after level and time)."""
    return [NOT_SERVED.format(id=customer_id, problem=problem) for problem in problems]
