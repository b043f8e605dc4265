"""Keeping basket values within the charset the ERP asked for (OCI's historic ISO-8859-1).

A browser that posts a form in a legacy charset turns what it cannot encode into ``&#321;``
character references, which end up verbatim in the buyer's purchase order. So values are
transliterated to the nearest encodable text before they are sent.
"""

import codecs
import unicodedata

from ociflex.oci.encodings import form_codec

#: ASCII stand-ins for characters that NFKD does not reduce to something a legacy charset has.
_FALLBACKS = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "‐": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "€": "EUR",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Œ": "OE",
    "œ": "oe",
    "ı": "i",
}


def in_charset(value: str, charset: str, max_length: int | None = None) -> str:
    """``value`` with every character that ``charset`` cannot encode transliterated.

    A stand-in can be longer than its character (``€`` -> ``EUR``, ``각`` -> two jamo). When
    that would make a value of at most ``max_length`` characters longer than ``max_length``,
    each character gets a stand-in of one character instead (``?`` where there is none), so a
    value that the call-up accepted for a field of the basket always fits that field.
    """
    codec = codec_for(charset)
    if codec is None:
        return value  # check_basket reports the unknown charset
    normalized = unicodedata.normalize("NFC", value)
    if _encodable(normalized, codec) and (max_length is None or len(normalized) <= max_length):
        return normalized  # the common case, in one call instead of one per character
    text = "".join(
        char if _encodable(char, codec) else _transliterated(char, codec) for char in normalized
    )
    if max_length is None or len(text) <= max_length or len(value) > max_length:
        return text
    return "".join(_one_for_one(char, codec) for char in value)


def _one_for_one(char: str, codec: codecs.CodecInfo) -> str:
    """``char`` if encodable, else a stand-in of at most one character."""
    if _encodable(char, codec):
        return char
    if unicodedata.combining(char):
        return ""
    stand_in = _transliterated(char, codec)
    return stand_in if len(stand_in) == 1 else "?"


def _transliterated(char: str, codec: codecs.CodecInfo) -> str:
    """An encodable stand-in for ``char``: ASCII look-alike, base letter, else ``?``."""
    decomposed = _FALLBACKS.get(char) or unicodedata.normalize("NFKD", char)
    return "".join(
        part if _encodable(part, codec) else "?"
        for part in decomposed
        if not unicodedata.combining(part)
    )


def codec_for(charset: str) -> codecs.CodecInfo | None:
    """The codec of ``charset``, or None when it is no charset a browser form can be posted in
    (see :mod:`ociflex.oci.encodings`: ``idna`` and the like are never looked up)."""
    codec = form_codec(charset)
    return None if codec is None else codecs.lookup(codec)


def _encodable(text: str, codec: codecs.CodecInfo) -> bool:
    return first_unencodable(text, codec) is None


def first_unencodable(text: str, codec: codecs.CodecInfo) -> str | None:
    try:
        codec.encode(text)
    except UnicodeEncodeError as error:
        return text[error.start]
    return None
