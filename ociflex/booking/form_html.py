"""The booking form's fields as HTML, written in Python: every call-up shows the form, and the
``field_row`` macro of ``templates/punchout/_field.html`` cost a Jinja macro call, a context
lookup per name and an escape per attribute, for each of its six or seven fields.

:func:`field_row` writes the same bytes as that macro (the operators' login form still uses it;
``tests/test_booking_form_html.py`` holds the two equal). A select's options never change for a
customer and language, so its form class writes them once (:func:`options_html`) and a page only
marks the chosen one.
"""

from collections.abc import Iterable

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.fields.choices import SelectChoice


def options_html(choices: Iterable[SelectChoice]) -> Markup:
    """The ``<option>`` elements of ``choices``, none of them selected."""
    # Every value and label goes through escape(); f-strings are a third of the cost of
    # Markup's own % and join, which escape each argument through a helper object.
    return Markup(  # noqa: S704
        "".join(
            f'<option value="{escape(choice.value)}">{escape(choice.label)}</option>'
            for choice in choices
        )
    )


def _selected(options: str, value: object) -> str:
    """``options`` with the option of ``value`` selected. The option's opening tag is found
    whole: values are escaped in it and labels cannot hold a ``<``, so it matches nothing else."""
    if not isinstance(value, str):
        return options
    tag = f'<option value="{escape(value)}"'
    return options.replace(f"{tag}>", f"{tag} selected>")


def _attributes(field: Field, required: bool, error_id: str, attributes: dict[str, object]) -> str:
    """`` id=".." name=".."``, then ``attributes`` (true: the name alone; false or None: left
    out), ``required``, and the ARIA attributes of a field with errors."""
    written = f' id="{escape(field.id)}" name="{escape(field.name)}"'
    for name, value in attributes.items():
        if value is True:
            written += f" {escape(name)}"
        elif value is not False and value is not None:
            written += f' {escape(name)}="{escape(value)}"'
    if required:
        written += " required"
    if field.errors:
        written += f' aria-invalid="true" aria-describedby="{escape(error_id)}"'
    return written


def field_row(
    field: Field,
    type: str = "text",
    required: bool | None = None,
    options: Markup | None = None,
    **attributes: object,
) -> Markup:
    """One labelled field with its error message, as the ``field_row`` macro writes it.

    ``type`` is an input's type; ``required`` defaults to the field's validators; ``options``
    are a select's options as :func:`options_html` wrote them (written from the field's
    choices when not given); the other keyword arguments become attributes."""
    error_id = f"{field.id}-error"
    required = bool(field.flags.required) if required is None else required
    attrs = _attributes(field, required, error_id, attributes)
    if field.type == "SelectField":
        written = options_html(field.choices) if options is None else options
        control = f"<select{attrs}>{_selected(str(written), field.data)}</select>"
    elif field.type == "TextAreaField":
        control = f"<textarea{attrs}>\n{escape(field._value())}</textarea>"
    elif field.type == "PasswordField":
        control = f'<input{attrs} type="password">'
    else:
        control = f'<input{attrs} type="{escape(type)}" value="{escape(field._value())}">'
    error = ""
    if field.errors:
        messages = " ".join(escape(message) for message in field.errors)
        error = f'\n  <p class="error" id="{escape(error_id)}">{messages}</p>'
    label = f'<label for="{escape(field.id)}">{escape(field.label.text)}</label>'
    # Each value above went through escape() (see options_html).
    return Markup(f'\n<div class="field">\n  {label}\n  {control}{error}\n</div>\n')  # noqa: S704
