"""Dutch first, English second: every text in the code is translated in both catalogues, the
shipped .mo files are compiled from the current .po files, and each page speaks its customer's
language. When a test here fails: scripts/i18n update, translate, scripts/i18n compile (see
docs/translations.md)."""

import re
from collections import Counter
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from tests.conftest import ACME_PASSWORD, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "ociflex" / "translations"
LANGUAGES = ("nl", "en")

#: A conversion of Python's ``%`` operator: ``%(name)s``, ``%d``, ``%%``.
CONVERSION = re.compile(
    r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]"
)

#: Key of a catalogue entry: (msgid, msgctxt); for a plural text its singular msgid.
Key = tuple[str, str | None]


def _po(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def _catalog(language: str) -> Catalog:
    with _po(language).open("rb") as po:
        # As `pybabel compile --locale=...` reads it, so that the .mo bytes compare equal.
        return read_po(po, locale=language)


def _strings(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.fixture(scope="module")
def extracted() -> dict[Key, list[str]]:
    """Every text in the code, found the way `scripts/i18n update` finds it (same babel.cfg,
    Babel's default keywords), with where it was found."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        msgid = _strings(message)[0]
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def test_extraction_finds_texts_of_every_kind(extracted: dict[Key, list[str]]) -> None:
    """Guards the test below against an extraction that silently finds nothing."""
    msgids = {msgid for msgid, _context in extracted}
    assert "The company login in the call-up is not correct." in msgids  # N_() in ociflex/oci
    assert "Requester" in msgids  # gettext passed in as a parameter (the basket's long text)
    assert "%(amount)s per day" in msgids  # flask_babel.gettext in the booking form
    assert "Request a vehicle" in msgids  # _() in a Jinja template


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_in_the_code_is_translated(
    language: str, extracted: dict[Key, list[str]]
) -> None:
    catalog = _catalog(language)
    problems = []
    for (msgid, context), where in sorted(extracted.items(), key=lambda item: item[0][0]):
        message = catalog.get(msgid, context)
        if message is None:
            problem = "missing from the catalogue"
        elif message.fuzzy:
            problem = "marked fuzzy"
        elif not all(_strings(message.string)):
            problem = "not translated"
        else:
            continue
        problems.append(f"{msgid!r} ({', '.join(where)}): {problem}")
    assert not problems, (
        f"{_po(language).relative_to(ROOT)} is incomplete; run scripts/i18n update, translate, "
        "then scripts/i18n compile:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_shipped_mo_file_is_compiled_from_the_po_file(language: str) -> None:
    compiled = BytesIO()
    write_mo(compiled, _catalog(language))
    mo = _po(language).with_suffix(".mo")
    assert mo.is_file(), f"{mo.relative_to(ROOT)} is missing; run scripts/i18n compile"
    up_to_date = mo.read_bytes() == compiled.getvalue()
    assert up_to_date, f"{mo.relative_to(ROOT)} is out of date; run scripts/i18n compile"


def _conversions(text: str) -> tuple[Counter[str], int]:
    """The ``%`` conversions of ``text``, and how many ``%`` signs are not part of one."""
    return Counter(CONVERSION.findall(text)), CONVERSION.sub("", text).count("%")


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_msgid(language: str) -> None:
    """gettext(text, **params) and Jinja's _() fill in a translation with ``%``: a placeholder
    renamed, lost or added in a translation is a KeyError or a missing value on the page."""
    problems = []
    for message in _catalog(language):
        if not message.id:
            continue
        msgids = _strings(message.id)
        for index, msgstr in enumerate(_strings(message.string)):
            # Plural forms after the first follow the msgid_plural.
            msgid = msgids[min(index, len(msgids) - 1)]
            if msgstr and _conversions(msgstr) != _conversions(msgid):
                problems.append(f"{msgid!r} -> {msgstr!r}")
    assert not problems, f"placeholders differ in {_po(language).relative_to(ROOT)}:\n" + "\n".join(
        problems
    )


# --- Pages in the customer's language -----------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_id", "language", "expected", "other_language"),
    [
        (
            "demo",
            "nl",
            [
                "Aanvraag niet mogelijk",
                "De aanroep bevat geen inloggegevens van het bedrijf (USERNAME / PASSWORD).",
                "Vraag uw ERP-beheerder de inlogparameters van deze catalogus mee te sturen.",
                "Er is geen aanvraag geregistreerd.",
            ],
            "The call-up carries no company login",
        ),
        (
            "acme",
            "en",
            [
                "Request not possible",
                "The call-up carries no company login (loginname / pwd).",
                "Ask your ERP administrator to send the login parameters of this catalogue.",
                "No request was registered.",
            ],
            "De aanroep bevat geen inloggegevens",
        ),
    ],
)
def test_callup_error_page_is_in_the_customers_language(
    client: FlaskClient,
    customer_id: str,
    language: str,
    expected: list[str],
    other_language: str,
) -> None:
    response = client.post(f"/oci/{customer_id}")  # no parameters at all: no company login

    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    for text in expected:
        assert text in html
    assert other_language not in html


DEMO_CALLUP = {
    "USERNAME": "demo-erp",
    "PASSWORD": DEMO_PASSWORD,
    "HOOK_URL": "http://127.0.0.1:5000/dev/erp/hook",
    "oci_usermail": "jan.jansen@demo.example",
    "oci_userfullname": "Jan Jansen",
    "KOSTENPLAATS": "4100",
}
ACME_CALLUP = {
    "loginname": "acme-sap",
    "pwd": ACME_PASSWORD,
    "HOOK_URL": "https://erp.acme.example/sap/bc/srm/hook",
    "user_email": "jane.smith@acme.example",
    "user_name": "Jane Smith",
}


def test_booking_form_writes_day_rates_as_the_customers_language_does(
    client: FlaskClient,
) -> None:
    dutch = client.post("/oci/demo", data=DEMO_CALLUP)
    english = client.post("/oci/acme", data=ACME_CALLUP)

    assert dutch.status_code == english.status_code == 200
    html = dutch.get_data(as_text=True)
    assert '<html lang="nl">' in html
    # Babel writes a no-break space between the euro sign and the amount in Dutch.
    assert "Compacte auto (VW Polo of gelijkwaardig) — €\N{NO-BREAK SPACE}39,50 per dag" in html
    for label in ("Voertuig", "Eerste dag", "Laatste dag", "Ophaallocatie", "Kostenplaats"):
        assert f">{label}</label>" in html
    html = english.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Estate car (Škoda Octavia Combi) — £55.00 per day" in html
    for label in ("Vehicle", "First day", "Last day", "Project code"):
        assert f">{label}</label>" in html
