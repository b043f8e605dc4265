"""Loading customer files: the shipped demo, the defaults, and one test per kind of mistake.

Each mistake test checks what a developer editing the file sees: the line, the key path and
a message that says what to do.
"""

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from werkzeug.security import generate_password_hash

from ociflex.customers import (
    Problem,
    load_customer,
    load_customers,
    yaml_nodes,
)
from ociflex.cxml.config import cxml_settings
from ociflex.oci.config import oci_settings
from ociflex.protocols import CUSTOMER_SECTIONS
from ociflex.units import UNIT_CODES
from tests.support.customers import (
    ACME_ENVIRON,
    line_of,
    load,
    only_problem,
    problems_of,
    write,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "config" / "customers" / "demo.yaml"
CONFIG_DOC = ROOT / "docs" / "customer-config.md"
ENVIRON = ACME_ENVIRON

MINIMAL = """\
name: Acme B.V.
login:
  username: acme-erp
  password_env: ACME_PASSWORD
hook_urls:
  - https://erp.acme.example/sap/oci/
fields:
  cost_centre: {param: KOSTENPLAATS, pattern: '^[0-9]{4}$'}
vehicles:
  - code: COMPACT
    name: Compact car
    day_rate: 39.50
"""


def with_basket(*lines: str) -> str:
    return MINIMAL + "basket:\n" + "".join(f"  {line}\n" for line in lines)


# --- files that load ----------------------------------------------------------------------------


def test_the_demo_file_loads() -> None:
    customer = load_customer(DEMO, CUSTOMER_SECTIONS, {"OCIFLEX_DEMO_PASSWORD": "demo-secret"})

    assert customer.id == "demo"
    assert customer.source == DEMO
    assert oci_settings(customer).login.accepts("demo-erp", "demo-secret")
    assert not oci_settings(customer).login.accepts("demo-erp", "wrong")
    assert list(customer.fields) == ["email", "full_name", "cost_centre", "po_number"]
    assert customer.fields["cost_centre"].pattern.search("4711")
    assert customer.fields["cost_centre"].label_in("en") == "Cost centre"
    assert oci_settings(customer).basket == {
        "UNIT": "DAY",
        "CURRENCY": "EUR",
        "VENDOR": "4711",
        "MATGROUP": "78111800",
        "CUST_FIELD1": "{cost_centre}",
        "CUST_FIELD2": "{po_number}",
    }
    assert [v.day_rate for v in customer.vehicles] == [Decimal("39.50"), Decimal("79.00")]
    assert customer.vehicle("VAN").name.get("en") == "Bestelbus (VW Transporter)"
    assert customer.frame_ancestors == ("http://127.0.0.1:5000", "http://localhost:5000")
    assert customer.locations == ("Amsterdam Sloterdijk", "Utrecht Papendorp")


def test_the_documented_examples_together_make_a_valid_file(tmp_path: Path) -> None:
    # docs/customer-config.md has one example per top-level key: all of them must hold.
    blocks = re.findall(r"^```yaml\n(.*?)^```", CONFIG_DOC.read_text(), re.DOTALL | re.MULTILINE)

    environ = {"OCIFLEX_ACME_PASSWORD": "acme-secret", "ACME_CXML_SECRET": "acme-cxml-secret"}
    customer = load(tmp_path, "".join(blocks), environ)

    assert oci_settings(customer).basket["CUST_FIELD5"] == "PO {po_number} / {reference}"
    assert oci_settings(customer).max_lengths == {"CUST_FIELD1": 40}
    assert cxml_settings(customer).extrinsics["full_name"] == ("FirstName", "LastName")


def test_every_known_unit_code_is_documented() -> None:
    text = CONFIG_DOC.read_text()
    table = text[text.index("The ISO unit codes ociflex knows") : text.index("### `vehicles`")]
    documented = set(re.findall(r"`([A-Z0-9]{2,3})` [a-z]", table))

    assert set(UNIT_CODES) <= documented


def test_a_minimal_file_gets_the_defaults(tmp_path: Path) -> None:
    customer = load(tmp_path, MINIMAL)

    oci = oci_settings(customer)
    assert customer.language == "nl"
    assert (oci.login.username_param, oci.login.password_param) == ("USERNAME", "PASSWORD")
    email, full_name = customer.fields["email"], customer.fields["full_name"]
    assert (oci.params["email"], email.required, email.editable, email.max_length) == (
        "oci_usermail",
        True,
        False,
        254,
    )
    assert (oci.params["full_name"], full_name.required, full_name.max_length) == (
        "oci_userfullname",
        True,
        255,
    )
    assert oci.basket == {"UNIT": "DAY", "CURRENCY": "EUR"}
    assert customer.frame_ancestors == ("https://erp.acme.example",)
    assert customer.vehicles[0].description == "COMPACT"
    assert (customer.max_days, oci.default_charset) == (365, "utf-8")


def test_a_password_hash_needs_no_environment_variable(tmp_path: Path) -> None:
    password_hash = generate_password_hash("acme-secret")
    text = MINIMAL.replace("password_env: ACME_PASSWORD", f"password_hash: '{password_hash}'")

    customer = load(tmp_path, text, environ={})

    assert oci_settings(customer).login.accepts("acme-erp", "acme-secret")


def test_unquoted_numbers_are_kept_as_written(tmp_path: Path) -> None:
    # YAML 1.1 reads 0004711 as the octal number 2505: a vendor number must not change so.
    customer = load(tmp_path, with_basket("vendor: 0004711", "matgroup: 78111800"))

    assert oci_settings(customer).basket["VENDOR"] == "0004711"
    assert oci_settings(customer).basket["MATGROUP"] == "78111800"


@pytest.mark.parametrize(
    ("basket", "max_lengths", "expected"),
    [
        ('cust_field1: "{cost_centre}"', "", 10),
        ('cust_field1: "{cost_centre}"', "max_lengths: {cust_field1: 40}\n", 40),
        ('cust_field5: "{cost_centre}"', "", 50),
        ('cust_field1: "KP{cost_centre}"', "max_lengths: {cust_field1: 257}\n", 255),
    ],
)
def test_a_field_sent_whole_is_limited_to_its_new_item_field(
    tmp_path: Path, basket: str, max_lengths: str, expected: int
) -> None:
    customer = load(tmp_path, with_basket(basket) + max_lengths)

    assert customer.fields["cost_centre"].max_length == expected


def test_a_directory_loads_sorted_and_a_bad_file_leaves_the_good_ones(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "zeta.yml")
    write(tmp_path, MINIMAL.replace("day_rate: 39.50", "day_rate: free"), "broken.yaml")
    write(tmp_path, MINIMAL, "acme.yaml")
    write(tmp_path, "not a customer", "notes.txt")

    result = load_customers(tmp_path, CUSTOMER_SECTIONS, ENVIRON)

    assert list(result.customers) == ["acme", "zeta"]
    assert list(result.problems) == ["broken"]
    assert "vehicles[0].day_rate" in str(result.problems["broken"][0])


def test_a_missing_directory_is_reported(tmp_path: Path) -> None:
    result = load_customers(tmp_path / "nowhere", CUSTOMER_SECTIONS, ENVIRON)

    assert result.customers == {}
    assert "cannot read the customer directory" in result.problems[""][0].message


def test_a_problem_reads_like_a_compiler_message() -> None:
    assert str(Problem(Path("c/acme.yaml"), 3, "login.username", "it is wrong; fix it")) == (
        "c/acme.yaml:3: login.username: it is wrong; fix it"
    )
    assert (
        str(Problem(Path("c/acme.yaml"), None, "name", "missing")) == "c/acme.yaml: name: missing"
    )


# --- one test per kind of mistake ----------------------------------------------------------------


def test_an_unknown_key_suggests_the_nearest_valid_one(tmp_path: Path) -> None:
    text = MINIMAL.replace("pattern:", "patern:")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "patern"), "fields.cost_centre.patern")
    assert "did you mean 'pattern'?" in problem.message


def test_a_wrong_type_names_the_expected_one(tmp_path: Path) -> None:
    text = MINIMAL + "max_days: a year\n"

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "max_days"), "max_days")
    assert "expected a whole number, got text ('a year')" in problem.message


def test_a_bad_regular_expression(tmp_path: Path) -> None:
    text = MINIMAL.replace("'^[0-9]{4}$'", "'^[0-9{4}$'")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "pattern"), "fields.cost_centre.pattern")
    assert "not a valid regular expression" in problem.message


def test_an_unknown_placeholder(tmp_path: Path) -> None:
    text = with_basket('cust_field1: "{cost_center}"')

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "cust_field1"), "basket.cust_field1")
    assert "unknown placeholder {cost_center}; did you mean {cost_centre}?" in problem.message


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        ('vendor: "12345678901"', "the value is 11 characters"),
        ('cust_field1: "KP-{cost_centre}-1234567"', "the fixed text (without placeholders) is 11"),
    ],
)
def test_fixed_text_longer_than_the_new_item_field(tmp_path: Path, entry: str, what: str) -> None:
    text = with_basket(entry)

    problem = only_problem(tmp_path, text)

    key = entry.split(":")[0]
    assert (problem.line, problem.path) == (line_of(text, key), f"basket.{key}")
    assert what in problem.message
    assert "takes at most 10" in problem.message


def test_a_computed_field_cannot_be_mapped(tmp_path: Path) -> None:
    text = with_basket("description: Huurauto")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "description"), "basket.description")
    assert "ociflex fills NEW_ITEM-DESCRIPTION itself" in problem.message


@pytest.mark.parametrize("environ", [{}, {"ACME_PASSWORD": ""}])
def test_the_password_environment_variable_must_be_set(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    problem = only_problem(tmp_path, MINIMAL, environ)

    assert (problem.line, problem.path) == (line_of(MINIMAL, "password_env"), "login.password_env")
    assert problem.message == (
        "environment variable ACME_PASSWORD is not set; set it or use password_hash"
    )


def test_a_literal_password_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("  username: acme-erp\n", "  username: acme-erp\n  password: hunter2\n")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "hunter2"), "login.password")
    assert "secrets never sit in a customer file" in problem.message
    assert "generate_password_hash" in problem.message
    assert "hunter2" not in problem.message


def test_vehicle_codes_are_unique(tmp_path: Path) -> None:
    text = MINIMAL + "  - {code: compact, name: Another compact car, day_rate: 41}\n"

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "Another"), "vehicles[1].code")
    assert "duplicate vehicle code 'compact' (also at vehicles[0].code)" in problem.message


def test_a_duplicate_yaml_key_is_not_silently_dropped(tmp_path: Path) -> None:
    text = MINIMAL + "name: Acme Nederland B.V.\n"

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "Nederland"), "name")
    assert "duplicate key (first given on line 1)" in problem.message


def test_a_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("name: Compact car", "name: Compact: car")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "Compact: car"), "")
    assert str(problem).startswith(f"{tmp_path / 'acme.yaml'}:{problem.line}: invalid YAML")


@pytest.fixture(params=["libyaml", "python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both of PyYAML's parsers: libyaml's where it is built, and PyYAML's own."""
    if request.param == "python":
        monkeypatch.setattr(yaml_nodes, "_SafeLoader", yaml.SafeLoader)


@pytest.mark.usefixtures("yaml_parser")
def test_a_pattern_in_double_quotes_is_told_to_go_in_single_quotes(tmp_path: Path) -> None:
    written = MINIMAL.replace("pattern: '^[0-9]{4}$'", r'pattern: "^\d{4}$"')

    problem = only_problem(tmp_path, written)

    assert (problem.line, problem.path) == (line_of(written, "pattern"), "")
    assert problem.message == (
        r"invalid YAML: \d is no escape YAML knows inside double quotes; write a regular "
        r"expression in single quotes, where a backslash stays a backslash: '^\d{4}$'"
    )
    # What the message says to write loads, and means what was meant.
    fixed = written.replace(r'"^\d{4}$"', r"'^\d{4}$'")
    assert load(tmp_path, fixed).fields["cost_centre"].pattern.search("4100")


@pytest.mark.usefixtures("yaml_parser")
def test_an_unknown_escape_in_a_text_that_single_quotes_would_change_gets_an_example(
    tmp_path: Path,
) -> None:
    written = MINIMAL.replace("pattern: '^[0-9]{4}$'", r'pattern: "^\w+\\$"')

    problem = only_problem(tmp_path, written)

    assert problem.line == line_of(written, "pattern")
    assert problem.message.startswith(r"invalid YAML: \w is no escape YAML knows")
    assert problem.message.endswith(
        r"where a backslash stays a backslash, e.g. pattern: '^\d{10}$'"
    )


def test_a_word_boundary_in_double_quotes_is_no_silent_backspace(tmp_path: Path) -> None:
    written = MINIMAL.replace("pattern: '^[0-9]{4}$'", r'pattern: "\b[0-9]{4}\b"')

    problem = only_problem(tmp_path, written)

    assert (problem.line, problem.path) == (
        line_of(written, "pattern"),
        "fields.cost_centre.pattern",
    )
    assert problem.message == (
        r"in double quotes \b is a backspace, not a regular expression's word boundary; write "
        "it in single quotes, where a backslash stays a backslash"
    )


def test_escapes_that_make_ordinary_characters_still_load(tmp_path: Path) -> None:
    written = MINIMAL.replace("name: Acme B.V.", r'name: "Acme \u00c9\x41 B.V.\/NL"')

    assert load(tmp_path, written).name == "Acme ÉA B.V./NL"


def test_a_bad_file_name_is_reported_with_a_better_one(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "Acme Corp.yaml")

    result = load_customers(tmp_path, CUSTOMER_SECTIONS, ENVIRON)

    assert result.customers == {}
    [problem] = result.problems["Acme Corp"]
    assert "not a valid file name" in problem.message
    assert "rename it, e.g. to acme-corp.yaml" in problem.message


def test_an_invalid_currency(tmp_path: Path) -> None:
    text = with_basket("currency: EUX")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "EUX"), "basket.currency")
    assert problem.message == "'EUX' is not an ISO 4217 currency code; did you mean EUR?"


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        (
            "DYA",
            "'DYA' is not an ISO unit code (UN/ECE Recommendation 20) that ociflex knows; "
            "did you mean DAY (day)?",
        ),
        (
            "TAG",
            "'TAG' is not an ISO unit code (UN/ECE Recommendation 20) that ociflex knows; "
            "did you mean DAY (day)?",
        ),
        (
            "hour",
            "'hour' is not an ISO unit code (UN/ECE Recommendation 20) that ociflex "
            "knows; did you mean HUR (hour)?",
        ),
        ("wee", "'wee' is not an ISO unit code; write it in capitals: WEE"),
        (
            "QQQ",
            "'QQQ' is not an ISO unit code (UN/ECE Recommendation 20) that ociflex knows; "
            "use one that the buyer's SAP has mapped, such as DAY, HUR, WEE, MON or C62 "
            "(all known codes are listed in docs/customer-config.md)",
        ),
    ],
)
def test_an_unknown_unit_suggests_the_nearest_iso_code(
    tmp_path: Path, unit: str, message: str
) -> None:
    text = with_basket(f"unit: {unit}")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "unit:"), "basket.unit")
    assert problem.message == message


@pytest.mark.parametrize("unit", ["DAY", "HUR", "WEE", "MON", "C62", "PCE", "E48", "LS"])
def test_common_iso_units_load(tmp_path: Path, unit: str) -> None:
    assert load(tmp_path, with_basket(f"unit: {unit}")).cart.unit == unit


def test_a_composite_value_that_can_exceed_its_new_item_field(tmp_path: Path) -> None:
    # A pattern without an upper bound leaves max_length (255) as the longest value.
    text = with_basket('cust_field5: "PO {cost_centre} / {reference}"').replace(
        "'^[0-9]{4}$'", "'^[0-9]{4,}$'"
    )

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "cust_field5"), "basket.cust_field5")
    assert problem.message == (
        "the filled-in value can be too long: fixed text 6 + {cost_centre} 255 (its max_length) "
        "+ {reference} 9 (FF- and 6 digits) = 270 characters, but NEW_ITEM-CUST_FIELD5 takes at "
        "most 50; lower fields.cost_centre.max_length, take text or a placeholder out of the "
        "template, or raise max_lengths.cust_field5 if this buyer accepts more"
    )


@pytest.mark.parametrize(
    ("entry", "extra", "parts"),
    [
        # A built-in placeholder alone is not lowered like a field: the longest code counts.
        (
            'cust_field1: "{vehicle_code}"',
            "  - {code: MINIBUS-9-SEATS, name: Minibus, day_rate: 99}\n",
            "{vehicle_code} 15 (the longest vehicle code) = 15 characters",
        ),
        (
            'cust_field4: "{start}/{end}"',
            "",
            "fixed text 1 + {start} 10 (YYYY-MM-DD) + {end} 10 (YYYY-MM-DD) = 21 characters",
        ),
        (
            'cust_field3: "{days} d. {location}"',
            "locations: [Amsterdam Sloterdijk]\nmax_days: 90\n",
            "fixed text 4 + {days} 2 (max_days 90) + {location} 20 (the longest location)",
        ),
    ],
)
def test_built_in_placeholders_count_with_their_longest_value(
    tmp_path: Path, entry: str, extra: str, parts: str
) -> None:
    # MINIMAL ends with the vehicles: another vehicle goes right after it.
    text = MINIMAL + extra + f"basket:\n  {entry}\n"

    problem = only_problem(tmp_path, text)

    key = entry.split(":")[0]
    assert problem.path == f"basket.{key}"
    assert parts in problem.message


def test_a_composite_value_that_always_fits_loads(tmp_path: Path) -> None:
    text = with_basket('cust_field5: "PO {po_number} / {reference}"').replace(
        "fields:\n", "fields:\n  po_number: {param: PO, max_length: 35}\n"
    )

    customer = load(tmp_path, text)

    # 3 + 35 + 3 + 9 = 50: it always fits.
    assert customer.fields["po_number"].max_length == 35
    assert oci_settings(customer).basket["CUST_FIELD5"] == "PO {po_number} / {reference}"


def test_a_hook_url_with_user_info(tmp_path: Path) -> None:
    text = MINIMAL.replace("https://erp.acme.example", "https://sap:secret@erp.acme.example")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "@erp"), "hook_urls[0]")
    assert "user information" in problem.message


def test_a_field_may_not_take_a_standard_oci_parameter(tmp_path: Path) -> None:
    text = MINIMAL.replace("param: KOSTENPLAATS", "param: hook_url")

    problem = only_problem(tmp_path, text)

    assert problem.path == "fields.cost_centre.param"
    assert "'hook_url' is already a standard OCI parameter" in problem.message


def test_email_cannot_be_made_optional(tmp_path: Path) -> None:
    text = MINIMAL.replace("fields:\n", "fields:\n  email: {param: MAIL, required: false}\n")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "MAIL"), "fields.email.required")
    assert "email is always required" in problem.message


def test_max_lengths_cannot_lower_the_sap_limit(tmp_path: Path) -> None:
    text = MINIMAL + "max_lengths:\n  cust_field4: 12\n"

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "cust_field4"), "max_lengths.cust_field4")
    assert "below SAP's 20" in problem.message


def test_an_example_too_long_for_its_basket_field(tmp_path: Path) -> None:
    text = with_basket('cust_field2: "{po_number}"').replace(
        "fields:\n", "fields:\n  po_number: {param: PO, example: PO-2026-0042}\n"
    )

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "PO-2026"), "fields.po_number.example")
    assert "longer than the 10 characters" in problem.message


def test_a_field_may_not_take_the_name_of_a_form_input(tmp_path: Path) -> None:
    text = MINIMAL.replace("cost_centre:", "remarks:")

    problem = only_problem(tmp_path, text)

    assert problem.path == "fields.remarks"
    assert "one of the booking form's own inputs" in problem.message


def test_a_long_vehicle_code_needs_a_description(tmp_path: Path) -> None:
    text = MINIMAL.replace("code: COMPACT", "code: COMPACT-ELECTRIC-AUTOMATIC")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "code:"), "vehicles[0].description")
    assert "add a description of at most 18" in problem.message


def test_every_problem_of_a_file_is_reported_in_line_order(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("Acme B.V.", "[Acme]")
        .replace("day_rate: 39.50", "day_rate: 39.505")
        .replace("password_env", "pasword_env")
    )

    problems = problems_of(tmp_path, text)

    assert [(p.line, p.path) for p in problems] == [
        (1, "name"),
        (2, "login.password_env"),
        (4, "login.pasword_env"),
        (line_of(text, "day_rate"), "vehicles[0].day_rate"),
    ]


def test_two_files_for_one_customer_are_both_refused(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "acme.yaml")
    write(tmp_path, MINIMAL, "acme.yml")

    result = load_customers(tmp_path, CUSTOMER_SECTIONS, ENVIRON)

    assert result.customers == {}
    [problem] = result.problems["acme"]
    assert "acme.yaml, acme.yml all define customer 'acme'" in problem.message


def test_email_domains_are_domain_names(tmp_path: Path) -> None:
    text = MINIMAL + "email_domains: [acme.example, '*.Acme-Group.example', 'acme.example/x']\n"
    problem = only_problem(tmp_path, text)
    assert problem.path == "email_domains[2]"
    assert "'acme.example/x' is not a domain name" in problem.message


def test_email_domains_allow_exactly_their_domains_and_starred_subdomains(tmp_path: Path) -> None:
    customer = load(tmp_path, MINIMAL + "email_domains: [acme.example, '*.Acme-Group.example']\n")
    assert customer.email_domains == ("acme.example", "*.acme-group.example")
    accepted = ["a@acme.example", "A@ACME.EXAMPLE", "b@nl.acme-group.example"]
    refused = ["a@sub.acme.example", "a@acme-group.example", "a@evilacme.example", "a@"]
    assert [customer.accepts_email(address) for address in accepted] == [True] * 3
    assert [customer.accepts_email(address) for address in refused] == [False] * 4
    assert load(tmp_path, MINIMAL).accepts_email("anyone@anywhere.example")


def test_an_email_example_must_be_in_the_email_domains(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "fields:", "email_domains: [acme.example]\nfields:\n  email: {example: jan@gmail.example}"
    )
    problem = only_problem(tmp_path, text)
    assert problem.path == "fields.email.example"
    assert "'jan@gmail.example' is not in email_domains (acme.example)" in problem.message


def test_a_control_character_is_reported_on_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("vehicles:", "# Zoë's cars\nvehicles:\x07", 1)
    problem = only_problem(tmp_path, text)
    assert problem.line == MINIMAL.split("vehicles:")[0].count("\n") + 2
    assert problem.message == "character U+0007 is not allowed in YAML; remove it"
