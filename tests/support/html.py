"""HTML pages as a test reads them, parsed by lxml: the elements by id with their text, the
links, the body rows of the tables, the forms with the fields a browser submits, the alerts."""

import re
from dataclasses import dataclass, field

import lxml.html
from lxml.etree import Element
from lxml.html import HtmlElement
from werkzeug.test import TestResponse

#: Elements that start a line of their own, as a browser shows them.
_LINE_STARTS = {"br", "li"}


def text_of(element: HtmlElement) -> str:
    """The text of an element as the markup holds it (comments left out), with a line break
    where a ``<br>`` or ``<li>`` starts."""
    parts = [element.text or ""] if isinstance(element.tag, str) else []
    for child in element:
        if isinstance(child.tag, str):
            if child.tag in _LINE_STARTS:
                parts.append("\n")
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def input_value(page: str, name: str) -> str | None:
    """The value of the first input named ``name`` on the page (None when there is none)."""
    fields = Html(page).root.iter("input")
    return next((field.get("value") for field in fields if field.get("name") == name), None)


def single_spaced(text: str) -> str:
    return " ".join(text.split())


def has_class(element: HtmlElement, name: str) -> bool:
    return name in element.get("class", "").split()


@dataclass
class Form:
    """A form and the fields a browser submits from it, in page order: a ticked box or radio
    button, a select's selected options, a text area's text."""

    attrs: dict[str, str]
    #: (name, value) of every field the form submits.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: (name, value) of the ``<input>`` fields alone (no text areas or selects).
    inputs: list[tuple[str, str]] = field(default_factory=list)
    #: (name, value) of the hidden inputs.
    hidden: list[tuple[str, str]] = field(default_factory=list)
    #: name -> value of the other fields (the last one of a name).
    values: dict[str, str] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    @property
    def method(self) -> str:
        return self.attrs.get("method", "get").lower()

    @classmethod
    def read(cls, element: HtmlElement) -> "Form":
        form = cls(dict(element.attrib))
        for control in element.iter("input", "select", "textarea"):
            name = control.get("name")
            kind, values = _submitted(control)
            for value in values if name else []:
                form.pairs.append((name, value))
                if control.tag == "input":
                    form.inputs.append((name, value))
                if kind == "hidden":
                    form.hidden.append((name, value))
                else:
                    form.values[name] = value
        return form


def _submitted(control: HtmlElement) -> tuple[str, list[str]]:
    """The kind of a form control (its type, or its tag) and the values a browser submits."""
    if control.tag == "select":
        options = control.iter("option")
        return "select", [
            option.get("value", "") for option in options if "selected" in option.attrib
        ]
    if control.tag == "textarea":
        # As browsers do: CR LF is LF, and a first line break is not part of the value.
        return "textarea", [text_of(control).replace("\r\n", "\n").removeprefix("\n")]
    kind = control.get("type", "text")
    # Unticked boxes and radio buttons send nothing.
    if kind in ("checkbox", "radio") and "checked" not in control.attrib:
        return kind, []
    return kind, [control.get("value", "")]


class Html:
    """A page as a test reads it."""

    def __init__(self, page: TestResponse | str) -> None:
        self.source = page if isinstance(page, str) else page.get_data(as_text=True)
        # Carriage returns as the markup holds them (a browser reads a literal CR LF as LF):
        # the tests check what ociflex writes.
        markup = self.source.replace("\r", "&#13;") or "<html></html>"
        self.root: HtmlElement = lxml.html.document_fromstring(markup)
        elements = list(self.root.iter(Element))
        identified = [e for e in elements if "id" in e.attrib]
        #: id -> the attributes of the element.
        self.elements: dict[str, dict[str, str]] = {e.get("id"): dict(e.attrib) for e in identified}
        #: id -> the text of the element, as the markup holds it.
        self.texts: dict[str, str] = {e.get("id"): text_of(e) for e in identified}
        #: (attributes, single-spaced text) of every link.
        self.links = [(dict(a.attrib), single_spaced(text_of(a))) for a in self.root.iter("a")]
        #: table id -> the cell texts of each row of its body.
        self.tables: dict[str, list[list[str]]] = {}
        for row in self.root.xpath("//tbody//tr"):
            table = next(row.iterancestors("table"), None)
            key = "" if table is None else table.get("id", "")
            cells = [text_of(cell) for cell in row if cell.tag in ("td", "th")]
            self.tables.setdefault(key, []).append(cells)
        #: form id (or ``form-<n>`` for one without) -> the form.
        self.forms: dict[str, Form] = {}
        for form in self.root.iter("form"):
            self.forms[form.get("id", f"form-{len(self.forms)}")] = Form.read(form)
        #: The single-spaced texts of the alerts (``role="alert"``).
        self.alerts = [single_spaced(text_of(e)) for e in elements if e.get("role") == "alert"]
        #: id of a form field -> the error shown next to it (``<p class="error" id="...-error">``).
        self.errors = {
            e.get("id", "").removesuffix("-error"): single_spaced(text_of(e))
            for e in self.root.iter("p")
            if has_class(e, "error")
        }
        #: ids of the fields marked invalid.
        self.invalid = {e.get("id", "") for e in elements if e.get("aria-invalid") == "true"}
        #: (nonce, text) of every script.
        self.scripts = [(s.get("nonce"), text_of(s)) for s in self.root.iter("script")]

    def text(self, element_id: str) -> str:
        """The text of an element, single-spaced."""
        return single_spaced(self.texts[element_id])

    def href(self, element_id: str) -> str:
        return self.elements[element_id]["href"]

    @property
    def row_ids(self) -> list[int]:
        """The requests the inbox lists, in order."""
        return [int(n) for n in re.findall(r'<tr data-id="(\d+)"', self.source)]

    @property
    def tab_counts(self) -> dict[str, int]:
        """Status tab (``""`` for all) -> its count."""
        counts = {}
        for attrs, label in self.links:
            if "data-status" in attrs:
                counts[attrs["data-status"]] = int(label.split()[-1].replace(".", ""))
        return counts

    def tab_href(self, status: str) -> str:
        return next(a["href"] for a, _ in self.links if a.get("data-status") == status)
