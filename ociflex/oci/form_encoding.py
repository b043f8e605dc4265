"""Decoding url-encoded form data in whatever charset an ERP page used.

Browsers encode a form in the charset of the page that holds it, and many ERP pages are still
ISO-8859-1: "Zoë" then arrives as ``Zo%EB``, which is not UTF-8. Werkzeug would decode it as
UTF-8 and keep the escape, so ociflex reads such data itself: UTF-8 when the bytes are valid
UTF-8 (Latin-1 text hardly ever is), else the legacy charset given.
"""

from urllib.parse import parse_qsl, unquote_to_bytes

#: The superset of ISO-8859-1 that browsers actually use when a page says ISO-8859-1.
LEGACY_CHARSET = "windows-1252"
#: More fields than any call-up or basket has; bounds the work an attacker can cause.
MAX_FIELDS = 500


#: The charset :func:`decode_form` reports when the bytes are neither UTF-8 nor the legacy one.
UNKNOWN_CHARSET = "unknown"


class FormEncodingError(ValueError):
    """The data has more fields than :data:`MAX_FIELDS`."""


class UnreadableForm(FormEncodingError):
    """The data is neither UTF-8 nor in the legacy charset it may be in."""


def decode_form(
    data: bytes, legacy_charset: str = LEGACY_CHARSET
) -> tuple[list[tuple[str, str]], str]:
    """The (name, value) pairs in ``data`` and the charset they were decoded with."""
    text = data.decode("ascii", errors="replace")
    for charset in ("utf-8", legacy_charset):
        try:
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                encoding=charset,
                errors="strict",
                max_num_fields=MAX_FIELDS,
            )
        except UnicodeDecodeError:
            continue
        except ValueError as error:
            raise FormEncodingError(str(error)) from None
        return pairs, charset
    return parse_qsl(text, keep_blank_values=True, errors="replace"), UNKNOWN_CHARSET


def check_utf8_form(data: bytes) -> None:
    """Refuse form data of more than :data:`MAX_FIELDS` fields (FormEncodingError) or that is
    not UTF-8 (UnreadableForm), without splitting it into fields: for a form whose fields
    the web framework reads anyway."""
    if data.count(b"&") >= MAX_FIELDS:
        raise FormEncodingError(f"more than {MAX_FIELDS} fields")
    try:
        unquote_to_bytes(data.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableForm("not UTF-8") from None
