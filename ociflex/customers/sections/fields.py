"""``fields``: the values the buyer's system sends about the requester, under ociflex's own
names. Where each protocol finds a value (``param``, ``extrinsic``) is read by that protocol's
section (:mod:`ociflex.customers.sections.protocol`); the rest is read here."""

import re
from collections.abc import Collection, Mapping

from ociflex.customers.checks import Checker
from ociflex.customers.model import BUILTIN_PLACEHOLDERS, FORM_INPUTS, Field
from ociflex.customers.yaml_nodes import key_path

FIELD_KEYS = ("required", "editable", "pattern", "label", "max_length", "example")
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")

#: The fields every customer has, with what a file that leaves them (or their keys) out gets.
BUILTIN_FIELDS: Mapping[str, Mapping[str, object]] = {
    "email": {"required": True, "max_length": 254},
    "full_name": {"required": True},
}


def field_names(value: object) -> list[str]:
    """The names a cart template may use: those of the file, valid or not, and the built-ins.

    Taken from the file rather than from :func:`read_fields`, so that a field with a mistake
    does not also make every template that names it "unknown"."""
    names = list(value) if isinstance(value, dict) else []
    return [*BUILTIN_FIELDS, *(name for name in names if isinstance(name, str))]


def read_fields(
    check: Checker, value: object, protocol_keys: Collection[str]
) -> tuple[dict[str, Field], dict[str, dict[str, object]]]:
    """The file's fields, after ``email`` and ``full_name`` when the file leaves those out; and
    each field's entries as written, for the protocols' own keys (``protocol_keys``)."""
    entries = check.entries(value, "fields") or {}
    specs = {name: {} for name in BUILTIN_FIELDS if name not in entries} | entries
    fields, written = {}, {}
    keys = (*FIELD_KEYS, *protocol_keys)
    for name, spec in specs.items():
        path = key_path("fields", name)
        _check_name(check, name, path)
        known = check.mapping(spec, path, keys)
        if known is None:
            continue
        written[name] = known
        field = _field(check, name, known, path)
        if field is not None:
            fields[name] = field
    return fields, written


def _field(check: Checker, name: str, entries: Mapping[str, object], path: str) -> Field | None:
    builtin = BUILTIN_FIELDS.get(name, {})
    spec = {**builtin, **entries}
    if builtin:
        _check_builtin(check, name, spec, path)
    is_required = check.boolean(spec.get("required", False), key_path(path, "required"))
    editable = check.boolean(spec.get("editable", False), key_path(path, "editable"))
    pattern = (
        _pattern(check, spec["pattern"], key_path(path, "pattern")) if "pattern" in spec else None
    )
    label = check.localized(spec["label"], key_path(path, "label")) if "label" in spec else None
    max_length = check.integer(spec.get("max_length", 255), key_path(path, "max_length"), 1, 255)
    example = _example(check, spec.get("example", ""), key_path(path, "example"), pattern)
    if is_required is None or editable is None or max_length is None:
        return None
    return Field(
        name=name,
        required=is_required,
        editable=editable,
        pattern=pattern,
        label=label,
        max_length=max_length,
        example=example or "",
    )


def _check_name(check: Checker, name: str, path: str) -> None:
    if not FIELD_NAME.fullmatch(name):
        check.report(
            path,
            f"{name!r} is not a valid field name: lower-case letters, digits and '_', starting "
            "with a letter (basket templates use it as {name}); rename it",
        )
    elif name in BUILTIN_PLACEHOLDERS:
        check.report(
            path,
            f"{name!r} is the name of a built-in basket placeholder "
            f"({', '.join(BUILTIN_PLACEHOLDERS)}); choose another name",
        )
    elif name in FORM_INPUTS:
        check.report(
            path,
            f"{name!r} is the name of one of the booking form's own inputs "
            f"({', '.join(FORM_INPUTS)}); choose another name",
        )


def _check_builtin(check: Checker, name: str, spec: Mapping[str, object], path: str) -> None:
    """``email`` and ``full_name`` tie each request to its requester: the ERP must send them."""
    if spec["required"] is False:
        check.report(
            key_path(path, "required"),
            f"{name} is always required: every request is tied to its requester; "
            "remove required: false",
        )
    if spec.get("editable") is True:
        check.report(
            key_path(path, "editable"),
            f"{name} comes from the ERP and cannot be changed in the form; remove editable: true",
        )


def _pattern(check: Checker, value: object, path: str) -> re.Pattern[str] | None:
    text = check.string(value, path)
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as error:
        where = "" if error.pos is None else f" at position {error.pos}"
        check.report(
            path,
            f"not a valid regular expression: {error.msg}{where}; fix it (in single quotes, "
            "YAML keeps backslashes as written)",
        )
        return None


def _example(
    check: Checker, value: object, path: str, pattern: re.Pattern[str] | None
) -> str | None:
    """A typical value, which the ERP simulator sends: it has to pass the field's own pattern."""
    example = check.text(value, path)
    if example and pattern is not None and not pattern.search(example):
        check.report(path, f"{example!r} does not match the pattern; give one that does")
        return None
    return example
