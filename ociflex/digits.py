"""Numbers written in text from outside (a search, a reference, a line number), read safely.

``str.isdigit`` says yes to superscripts and circled numbers (``²``, ``①``), which ``int``
refuses with a ValueError, and ``int`` reads the digits of other scripts (``٣`` is 3): a check
with ``isdigit`` before ``int`` is a 500 waiting for its input, or a number nobody typed. Text
is a number here only when it is made of the digits 0 to 9.
"""


def plain_digits(text: str) -> bool:
    """Whether ``text`` is one or more of the digits 0 to 9, and nothing else."""
    return text.isascii() and text.isdigit()
