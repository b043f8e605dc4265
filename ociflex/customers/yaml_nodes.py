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
        return None, [_syntax_problem(file, error)]
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


def _syntax_problem(file: Path, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    what = " ".join(part for part in (error.context, error.problem) if part)
    return Problem(
        file,
        None if mark is None else mark.line + 1,
        "",
        f"invalid YAML ({what}); check the indentation here and on the line before, and put "
        "text that contains ': ' or ' #' or starts with a special character in quotes",
    )


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

    def _enter(self, start: Node, path: str, value: Node) -> None:
        self.lines[path] = start.start_mark.line + 1
        self.walk(value, path)
