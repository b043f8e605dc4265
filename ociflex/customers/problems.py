"""What is wrong with a customer file, located precisely enough to fix it."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One mistake in a customer file: where it is, and what to do about it.

    ``path`` is the key path inside the file (``fields.cost_centre.pattern``, ``vehicles[1].code``,
    list items counted from 0), or ``""`` for the file as a whole (its name, its YAML syntax).
    """

    file: Path
    #: 1-based line in the file; ``None`` when no line applies (say, a missing top-level key).
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class CustomerConfigError(Exception):
    """A customer file that cannot be used; ``problems`` lists every mistake found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems
