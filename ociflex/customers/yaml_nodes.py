"""Reading a customer file as ``yaml.safe_load`` does, but keeping the line of every key.

The file is first composed into PyYAML's node tree, which still knows where each key and list
item starts and how each scalar was written, and only then constructed into plain Python values.
The node tree is also where duplicate keys show: ``safe_load`` silently keeps the last one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ociflex.customers.problems import Problem

_MERGE_TAG = "tag:yaml.org,2002:merge"


def key_path(parent: str, key: object) -> str:
    """``fields`` + ``cost_centre`` -> ``fields.cost_centre``."""
    return f"{parent}.{key}" if parent else str(key)


def item_path(parent: str, index: int) -> str:
    """``vehicles`` + 1 -> ``vehicles[1]``."""
    return f"{parent}[{index}]"


def parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


@dataclass(frozen=True)
class Document:
    """A file's content as ``yaml.safe_load`` returns it, with lines and texts by key path."""

    data: object
    #: Key path -> 1-based line where that key (or list item) starts.
    lines: Mapping[str, int]
    #: Key path -> a scalar exactly as written: ``vendor: 0004711`` is ``"0004711"`` here, while
    #: YAML 1.1 reads it as the octal number 2505.
    texts: Mapping[str, str]

    def line(self, path: str) -> int | None:
        """The line of ``path``, else of its nearest ancestor (for keys that are missing)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = parent_path(path)
        return None

    def text(self, path: str) -> str | None:
        return self.texts.get(path)


def read_document(file: Path) -> tuple[Document | None, list[Problem]]:
    """The document in ``file`` and its duplicate keys; ``None`` when it cannot be read at all."""
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as error:
        return None, [Problem(file, None, "", f"cannot read the file: {error.strerror}")]
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        byte = error.object[error.start]
        message = f"not UTF-8 text (byte {byte:#04x}); save the file as UTF-8"
        return None, [Problem(file, line, "", message)]
    walker = _Walker(file)
    try:
        data = _load(text, walker)
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_problem(file, text, error)]
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        message = f"character U+{error.character:04X} is not allowed in YAML; remove it"
        return None, [Problem(file, line, "", message)]
    return Document(data, walker.lines, walker.texts), walker.problems


#: libyaml's loader where PyYAML was built with it: parsing is most of the start-up time with
#: many customer files, and libyaml parses far faster. Both give the same nodes, marks and
#: errors.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text: str, walker: "_Walker") -> object:
    """``yaml.safe_load(text)``, with the node tree shown to ``walker`` before construction."""
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        walker.walk(root, "")
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _syntax_problem(file: Path, text: str, error: yaml.MarkedYAMLError) -> Problem:
    if escape_problem := _unknown_escape_problem(file, text, error):
        return escape_problem
    mark = error.problem_mark or error.context_mark
    what = " ".join(part for part in (error.context, error.problem) if part)
    return Problem(
        file,
        None if mark is None else mark.line + 1,
        "",
        f"invalid YAML ({what}); check the indentation here and on the line before, and put "
        "text that contains ': ' or ' #' or starts with a special character in quotes",
    )


#: How PyYAML and libyaml begin the error for a backslash that is no escape in double quotes.
UNKNOWN_ESCAPE = "found unknown escape character"
#: What may follow a backslash in a double-quoted scalar (as PyYAML and libyaml read it).
ESCAPES = frozenset('0abt\tnvfre "/\\N_LPxuU\r\n')
#: The example given when the text in double quotes cannot simply go between single quotes.
SINGLE_QUOTED_EXAMPLE = "pattern: '^\\d{10}$'"


def _unknown_escape_problem(file: Path, text: str, error: yaml.MarkedYAMLError) -> Problem | None:
    """A backslash that is no YAML escape inside double quotes, where a regular expression's
    ``\\d`` or ``\\w`` most likely stands: in single quotes a backslash is just a backslash.
    None for any other error."""
    opening = error.context_mark  # the opening quote
    if not (error.problem or "").startswith(UNKNOWN_ESCAPE) or opening is None:
        return None
    start = sum(map(len, text.splitlines(keepends=True)[: opening.line])) + opening.column
    escape, end = _first_unknown_escape(text, start)
    if escape < 0:
        return None
    raw = text[start + 1 : end]
    if "\n" in raw or "'" in raw or "\\\\" in raw or '\\"' in raw:
        instead = f", e.g. {SINGLE_QUOTED_EXAMPLE}"
    else:  # the same characters in single quotes mean what the author meant
        instead = f": '{raw}'"
    message = (
        f"invalid YAML: \\{text[escape + 1]} is no escape YAML knows inside double quotes; write "
        f"a regular expression in single quotes, where a backslash stays a backslash{instead}"
    )
    return Problem(file, text.count("\n", 0, escape) + 1, "", message)


def _first_unknown_escape(text: str, opening: int) -> tuple[int, int]:
    """Where the first unknown escape of the double-quoted scalar opened at ``opening`` is, and
    where the scalar ends (its closing quote, or the end of the text)."""
    found, index = -1, opening + 1
    while index < len(text) and text[index] != '"':
        if text[index] == "\\":
            if found < 0 and text[index + 1 : index + 2] not in ESCAPES:
                found = index
            index += 1
        index += 1
    return found, index


def _is_control(char: str) -> bool:
    """A C0 control character other than tab and line breaks, or DEL."""
    return (ord(char) < 32 and char not in "\t\n\r") or char == "\x7f"


class _Walker:
    """Collects lines, scalar texts and duplicate keys from a composed node tree."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.problems: list[Problem] = []
        # Anchored nodes are walked once, under the path where they are first seen.
        self._seen: set[int] = set()

    def walk(self, node: Node, path: str) -> None:
        if isinstance(node, ScalarNode):
            self.texts[path] = node.value
            if node.style == '"':
                self._check_escaped_controls(node, path)
            return
        if id(node) in self._seen:
            return
        self._seen.add(id(node))
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._enter(item, item_path(path, index), item)
        elif isinstance(node, MappingNode):
            self._walk_mapping(node, path)

    def _walk_mapping(self, node: MappingNode, path: str) -> None:
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            # A complex key (a list or mapping) cannot be constructed: PyYAML reports it later.
            key = key_node.value if isinstance(key_node, ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in first_lines and key_node.tag != _MERGE_TAG:
                self.problems.append(
                    Problem(
                        self.file,
                        line,
                        key_path(path, key),
                        f"duplicate key (first given on line {first_lines[key]}); YAML would "
                        "silently use only this last one: remove one of them",
                    )
                )
            first_lines.setdefault(key, line)
            self._enter(key_node, key_path(path, key), value_node)

    def _check_escaped_controls(self, node: ScalarNode, path: str) -> None:
        """A control character that an escape put into a double-quoted scalar: no customer value
        needs one, and ``"\\b"``, meant as a regular expression's word boundary, is a backspace
        that no value ever matches."""
        control = next((char for char in node.value if _is_control(char)), None)
        if control is None:
            return
        if control == "\b":
            what = "in double quotes \\b is a backspace, not a regular expression's word boundary"
        else:
            what = f"an escape in these double quotes is the control character U+{ord(control):04X}"
        self.problems.append(
            Problem(
                self.file,
                node.start_mark.line + 1,
                path,
                f"{what}; write it in single quotes, where a backslash stays a backslash",
            )
        )

    def _enter(self, start: Node, path: str, value: Node) -> None:
        self.lines[path] = start.start_mark.line + 1
        self.walk(value, path)
