"""OCI call-ups for the property tests: a correct one per customer, and hypothesis strategies
that change it the way a careless or hostile ERP would."""

from hypothesis import strategies as st

from tests.conftest import ACME_PASSWORD, DEMO_PASSWORD


def recased(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(text, upper, strict=True))
    )


#: Pieces that break a value in a way a reader may miss.
_TRICKY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\r\n",
        "\n",
        "\t",
        "\x1b",
        "\x7f",
        "\x85",
        "\u2028",
        "\u202e",
        "\ufeff",
        "\ufffd",
        "é",
        "€",
        "Ł",
        "ﷺ",
        "😀",
        '"><script>',
        "%00",
        "_top",
        "_parent",
        "javascript:alert(1)",
    ]
)
_VALUES = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(_TRICKY, st.text(max_size=4)), max_size=5).map("".join),
    st.builds(lambda char, size: char * size, st.sampled_from("xé€\x00 "), st.integers(0, 5000)),
)


@st.composite
def mutated_value(draw: st.DrawFn, value: str) -> str:
    """``value`` replaced, or with something inserted, its last character repeated, or cut."""
    action = draw(st.sampled_from(["replace", "insert", "insert", "lengthen", "cut"]))
    if action == "replace":
        return draw(_VALUES)
    if action == "insert":
        position = draw(st.integers(0, len(value)))
        return value[:position] + draw(_TRICKY | st.text(max_size=3)) + value[position:]
    if action == "lengthen":
        return value + value[-1:] * draw(st.integers(1, 300))
    if action == "cut":
        return value[: draw(st.integers(0, len(value)))]


#: Names that steer a call-up besides the customer's own, to be added now and then.
EXTRA_NAMES = (
    "HOOK_URL",
    "~TARGET",
    "returntarget",
    "HTTP_CONTENT_CHARSET",
    "~OkCode",
    "~CALLER",
    "OCI_VERSION",
    "PASSWORD",
    "USERNAME",
    "something_else",
)
_EXTRA_VALUES = st.one_of(
    _VALUES,
    st.sampled_from(
        [
            "_top",
            "_self",
            "_BLANK",
            "SRM_Frame",
            "x" * 65,
            "utf-8",
            "ISO-8859-1",
            "windows-1252",
            "latin1",
            "ascii",
            "klingon",
            "utf_7",
            "rot13",
            "base64",
            "SAPEVENT:POST",
        ]
    ),
)


@st.composite
def callup_pairs(draw: st.DrawFn, valid: dict[str, str]) -> list[tuple[str, str]]:
    """A correct call-up with up to four changes: a key dropped, recased or sent twice, a value
    mutated, an extra parameter added; now and then in another order."""
    pairs = list(valid.items())
    for _ in range(draw(st.integers(0, 4))):
        change = draw(st.sampled_from(["drop", "recase", "mutate", "mutate", "twice", "extra"]))
        if change == "extra" or not pairs:
            name = draw(st.one_of(st.sampled_from(EXTRA_NAMES), st.text(max_size=8)))
            pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(_EXTRA_VALUES)))
            continue
        index = draw(st.integers(0, len(pairs) - 1))
        name, value = pairs[index]
        if change == "drop":
            del pairs[index]
        elif change == "recase":
            pairs[index] = (draw(recased(name)), value)
        elif change == "mutate":
            pairs[index] = (name, draw(mutated_value(value)))
        else:
            again = draw(st.one_of(st.just(value), mutated_value(value)))
            pairs.insert(draw(st.integers(0, len(pairs))), (draw(recased(name)), again))
    return draw(st.one_of(st.just(pairs), st.permutations(pairs)))


ACME_CALLUP = {
    "loginname": "acme-sap",
    "pwd": ACME_PASSWORD,
    "HOOK_URL": "https://erp.acme.example/sap/bc/srm/hook?sap-client=100",
    "~OkCode": "ADDI",
    "~CALLER": "CTLG",
    "~TARGET": "_top",
    "user_email": "jane.smith@acme.example",
    "user_name": "Jane Smith",
    "PROJECT": "P-123",
}
DEMO_CALLUP = {
    "USERNAME": "demo-erp",
    "PASSWORD": DEMO_PASSWORD,
    "HOOK_URL": "http://127.0.0.1:5000/dev/erp/hook?session=42",
    "~OkCode": "ADDI",
    "~TARGET": "_parent",
    "oci_usermail": "jan.jansen@demo.example",
    "oci_userfullname": "Jan Jansen",
    "KOSTENPLAATS": "4100",
    "INKOOPNUMMER": "PO-2026-01",
}
