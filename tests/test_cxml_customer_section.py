"""cXML's part of a customer file (ociflex/cxml/customer_section.py), loaded as ociflex loads it:
the documented example, customers on OCI, cXML or both, and each mistake reported with the line,
the key path and what to write instead, as whoever edits the file needs it."""

from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from ociflex.cxml import customer_section
from ociflex.cxml.config import CXML, Credential, cxml_settings
from ociflex.oci.config import OCI
from tests.support.customers import line_of, load, only_problem, problems_of

BASE = """\
name: Acme B.V.
vehicles:
  - {code: COMPACT, name: Compact car, day_rate: '39.50'}
"""
CXML_SECTION = """\
cxml:
  credentials:
    - {domain: NetworkID, identity: AN01000012345}
  shared_secret_env: ACME_CXML_SECRET
  browser_form_posts:
    - https://s1.ariba.example/Buyer/punchout
"""
OCI_SECTION = """\
login:
  username: acme-erp
  password_env: ACME_PASSWORD
hook_urls:
  - https://erp.acme.example/sap/oci/
"""
CXML_ONLY = BASE + CXML_SECTION


def changed(old: str, new: str, text: str = CXML_ONLY) -> str:
    assert old in text
    return text.replace(old, new, 1)


# --- files that load ----------------------------------------------------------------------------


def test_the_example_in_the_module_documentation_loads(tmp_path: Path) -> None:
    assert customer_section.__doc__ is not None
    example = customer_section.__doc__.split("```yaml\n")[1].split("```")[0]

    customer = load(tmp_path, BASE + example)

    settings = cxml_settings(customer)
    assert settings.credentials == (Credential("NetworkID", "AN01000012345"),)
    assert settings.shared_secret.matches("acme-cxml-secret")
    assert not settings.shared_secret.matches("acme-cxml-secreT")
    assert settings.browser_form_posts == ("https://s1.ariba.example/Buyer/punchout",)
    assert settings.item_extrinsics == {"CostCenter": "{cost_centre}"}
    assert settings.extrinsics == {"cost_centre": ("CostCenter",)}
    assert settings.cart_field == "cxml-base64"
    assert customer.frame_ancestors == ("https://s1.ariba.example",)


def test_a_customer_with_cxml_only_needs_no_login_and_no_hook_urls(tmp_path: Path) -> None:
    customer = load(tmp_path, CXML_ONLY)

    assert customer.speaks(CXML)
    assert not customer.speaks(OCI)
    assert list(customer.fields) == ["email", "full_name"]


def test_a_customer_may_punch_out_with_both_protocols(tmp_path: Path) -> None:
    customer = load(tmp_path, BASE + OCI_SECTION + CXML_SECTION)

    assert customer.speaks(OCI)
    assert customer.speaks(CXML)


def test_a_customer_with_neither_protocol_is_told_how_to_add_one(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, BASE)

    assert (problem.line, problem.path) == (None, "")
    assert problem.message == (
        "the customer punches out with no protocol: add login and hook_urls (SAP OCI) "
        "or cxml with browser_form_posts (cXML)"
    )


def test_frame_ancestors_default_to_the_origins_of_hook_urls_and_browser_form_posts(
    tmp_path: Path,
) -> None:
    text = (
        BASE
        + OCI_SECTION
        + CXML_SECTION.replace(
            "    - https://s1.ariba.example/Buyer/punchout\n",
            "    - https://s1.ariba.example/Buyer/punchout\n"
            "    - https://s1.ariba.example:8443/other/\n"
            "    - https://erp.acme.example/cxml/\n",
        )
    )

    customer = load(tmp_path, text)

    assert customer.frame_ancestors == (
        "https://erp.acme.example",
        "https://s1.ariba.example",
        "https://s1.ariba.example:8443",
    )


def test_explicit_frame_ancestors_replace_the_default(tmp_path: Path) -> None:
    customer = load(tmp_path, CXML_ONLY + "frame_ancestors: [https://portal.acme.example]\n")

    assert customer.frame_ancestors == ("https://portal.acme.example",)


def test_a_secret_kept_as_a_hash_is_checked_against_the_hash(tmp_path: Path) -> None:
    secret_hash = generate_password_hash("acme-cxml-secret", "pbkdf2:sha256:1000")
    text = changed("shared_secret_env: ACME_CXML_SECRET", f"shared_secret_hash: '{secret_hash}'")

    settings = cxml_settings(load(tmp_path, text, environ={}))

    assert settings.shared_secret.matches("acme-cxml-secret")
    assert not settings.shared_secret.matches("ACME-CXML-SECRET")


def test_credentials_are_kept_without_blanks_and_a_number_as_written(tmp_path: Path) -> None:
    text = changed(
        "    - {domain: NetworkID, identity: AN01000012345}\n",
        "    - {domain: ' NetworkID ', identity: ' AN01000012345 '}\n"
        "    - {domain: DUNS, identity: 0123456789}\n",
    )

    settings = cxml_settings(load(tmp_path, text))

    assert settings.credentials == (
        Credential("NetworkID", "AN01000012345"),
        Credential("DUNS", "0123456789"),
    )
    assert settings.identifies("networkid", "an01000012345")
    assert settings.identifies("duns", " 0123456789")
    assert not settings.identifies("DUNS", "123456789")


def test_a_field_names_one_extrinsic_or_a_list_of_them(tmp_path: Path) -> None:
    text = CXML_ONLY + (
        "fields:\n"
        "  email: {extrinsic: UserEmail}\n"
        "  full_name: {extrinsic: [FirstName, ' LastName ']}\n"
        "  cost_centre: {extrinsic: CostCenter, required: true}\n"
    )

    settings = cxml_settings(load(tmp_path, text))

    assert settings.extrinsics == {
        "email": ("UserEmail",),
        "full_name": ("FirstName", "LastName"),
        "cost_centre": ("CostCenter",),
    }


def test_a_required_field_the_employee_fills_in_needs_no_extrinsic(tmp_path: Path) -> None:
    customer = load(tmp_path, CXML_ONLY + "fields:\n  project: {required: true, editable: true}\n")

    assert cxml_settings(customer).extrinsics == {}


def test_item_extrinsics_may_be_fixed_or_use_fields_and_built_in_placeholders(
    tmp_path: Path,
) -> None:
    text = CXML_ONLY + (
        "  item_extrinsics:\n"
        "    Supplier: Euromobil\n"
        '    Period: "{start}/{end} ({days}) {reference} {vehicle_code}"\n'
        '    Requester: "{full_name} <{email}>"\n'
    )

    settings = cxml_settings(load(tmp_path, text))

    assert settings.item_extrinsics == {
        "Supplier": "Euromobil",
        "Period": "{start}/{end} ({days}) {reference} {vehicle_code}",
        "Requester": "{full_name} <{email}>",
    }


def test_an_oci_customer_may_send_its_orders_by_cxml_without_browser_form_posts(
    tmp_path: Path,
) -> None:
    without = CXML_SECTION.replace(
        "  browser_form_posts:\n    - https://s1.ariba.example/Buyer/punchout\n", ""
    )
    customer = load(tmp_path, BASE + OCI_SECTION + without)

    assert customer.speaks(OCI)
    settings = cxml_settings(customer)
    assert settings.browser_form_posts == ()
    assert not settings.orders_without_shared_secret


def test_an_oci_customer_s_required_fields_need_no_extrinsic_to_send_orders(
    tmp_path: Path,
) -> None:
    without = CXML_SECTION.replace(
        "  browser_form_posts:\n    - https://s1.ariba.example/Buyer/punchout\n", ""
    )
    fields = "fields:\n  cost_centre: {param: KOSTENPLAATS, required: true}\n"

    customer = load(tmp_path, BASE + OCI_SECTION + without + fields)

    assert customer.fields["cost_centre"].required


def test_a_customer_that_only_sends_orders_cannot_punch_out_and_is_told_so(
    tmp_path: Path,
) -> None:
    without = CXML_SECTION.replace(
        "  browser_form_posts:\n    - https://s1.ariba.example/Buyer/punchout\n", ""
    )

    problem = only_problem(tmp_path, BASE + without)

    assert problem.message.startswith("no protocol of the customer takes a cart back: add ")
    assert "cxml with browser_form_posts" in problem.message


def test_orders_may_be_let_in_without_a_shared_secret(tmp_path: Path) -> None:
    customer = load(tmp_path, CXML_ONLY + "  orders_without_shared_secret: true\n")

    assert cxml_settings(customer).orders_without_shared_secret


def test_the_cart_may_travel_in_cxml_urlencoded(tmp_path: Path) -> None:
    customer = load(tmp_path, CXML_ONLY + "  cart_field: cxml-urlencoded\n")

    assert cxml_settings(customer).cart_field == "cxml-urlencoded"


# --- mistakes -----------------------------------------------------------------------------------

HASH_HOWTO = "make one with: python -c"

MISTAKES = {
    "credentials missing": (
        changed("  credentials:\n    - {domain: NetworkID, identity: AN01000012345}\n", ""),
        "cxml:",
        "cxml.credentials",
        "required key is missing: the From credentials of this buyer, e.g. credentials: "
        "[{domain: NetworkID, identity: AN01000012345}]",
    ),
    "credentials empty": (
        changed(
            "  credentials:\n    - {domain: NetworkID, identity: AN01000012345}\n",
            "  credentials: []\n",
        ),
        "credentials: []",
        "cxml.credentials",
        "the list is empty; give at least one entry",
    ),
    "credential without domain": (
        changed("{domain: NetworkID, identity: AN01000012345}", "{identity: AN01000012345}"),
        "identity: AN01000012345",
        "cxml.credentials[0].domain",
        "required key is missing: the credential's domain as the buyer sends it, e.g. "
        "NetworkID, DUNS",
    ),
    "credential without identity": (
        changed("{domain: NetworkID, identity: AN01000012345}", "{domain: NetworkID}"),
        "{domain: NetworkID}",
        "cxml.credentials[0].identity",
        "required key is missing: the identity in that domain, e.g. AN01000012345",
    ),
    "credential with an empty identity": (
        changed("identity: AN01000012345", "identity: '  '"),
        "identity: '  '",
        "cxml.credentials[0].identity",
        "must not be empty; fill it in",
    ),
    "credential with an unknown key": (
        changed("identity: AN01000012345}", "identity: AN01000012345, secret: x}"),
        "secret: x",
        "cxml.credentials[0].secret",
        "unknown key 'secret'; valid keys here: domain, identity",
    ),
    "both secrets": (
        changed(
            "  shared_secret_env: ACME_CXML_SECRET\n",
            "  shared_secret_env: ACME_CXML_SECRET\n  shared_secret_hash: 'pbkdf2:sha256:1$x$y'\n",
        ),
        "cxml:",
        "cxml",
        "give shared_secret_env or shared_secret_hash, not both; remove one",
    ),
    "no secret": (
        changed("  shared_secret_env: ACME_CXML_SECRET\n", ""),
        "cxml:",
        "cxml.shared_secret_env",
        "required key is missing: name the environment variable that holds the SharedSecret "
        "agreed with this buyer (shared_secret_env: ACME_CXML_SECRET), or give "
        "shared_secret_hash; " + HASH_HOWTO,
    ),
    "environment variable not set": (
        changed("ACME_CXML_SECRET", "GLOBEX_CXML_SECRET"),
        "shared_secret_env",
        "cxml.shared_secret_env",
        "environment variable GLOBEX_CXML_SECRET is not set; set it or use shared_secret_hash",
    ),
    "not an environment variable name": (
        changed("ACME_CXML_SECRET", "'acme secret'"),
        "shared_secret_env",
        "cxml.shared_secret_env",
        "'acme secret' is not an environment variable name; use letters, digits and '_', e.g. "
        "ACME_OCI_PASSWORD",
    ),
    "not a hash": (
        changed("shared_secret_env: ACME_CXML_SECRET", "shared_secret_hash: acme-cxml-secret"),
        "shared_secret_hash",
        "cxml.shared_secret_hash",
        "not a werkzeug password hash (those start with scrypt: or pbkdf2:); " + HASH_HOWTO,
    ),
    "orders_without_shared_secret not a yes or no": (
        CXML_ONLY + "  orders_without_shared_secret: sometimes\n",
        "orders_without_shared_secret",
        "cxml.orders_without_shared_secret",
        "expected true or false",
    ),
    "browser_form_posts empty": (
        changed(
            "  browser_form_posts:\n    - https://s1.ariba.example/Buyer/punchout\n",
            "  browser_form_posts: []\n",
        ),
        "browser_form_posts: []",
        "cxml.browser_form_posts",
        "the list is empty; give at least one entry",
    ),
    "browser_form_post not a URL": (
        changed("https://s1.ariba.example/Buyer/punchout", "s1.ariba.example/Buyer/punchout"),
        "s1.ariba.example",
        "cxml.browser_form_posts[0]",
        "not a usable BrowserFormPost URL prefix: BrowserFormPost URL is not an absolute "
        "http(s) URL; write it like https://erp.example.com/sap/oci/ (no user@, no #, no ?)",
    ),
    "browser_form_post with a query string": (
        changed("/Buyer/punchout", "/Buyer/punchout?realm=acme"),
        "realm=acme",
        "cxml.browser_form_posts[0]",
        "not a usable BrowserFormPost URL prefix: a query string (?...) plays no part in the "
        "comparison; write it like https://erp.example.com/sap/oci/ (no user@, no #, no ?)",
    ),
    "browser_form_post with user info": (
        changed("https://s1.ariba", "https://admin@s1.ariba"),
        "admin@",
        "cxml.browser_form_posts[0]",
        "not a usable BrowserFormPost URL prefix: BrowserFormPost URL contains user information "
        "(user@host); write it like https://erp.example.com/sap/oci/ (no user@, no #, no ?)",
    ),
    "unknown key in the section": (
        CXML_ONLY + "  cart_fields: cxml-base64\n",
        "cart_fields",
        "cxml.cart_fields",
        "unknown key 'cart_fields'; did you mean 'cart_field'?",
    ),
    "key in capitals": (
        CXML_ONLY + "  Cart_Field: cxml-base64\n",
        "Cart_Field",
        "cxml.Cart_Field",
        "unknown key 'Cart_Field'; write it in lower case: 'cart_field'",
    ),
    "invalid cart_field": (
        CXML_ONLY + "  cart_field: cxml-xml\n",
        "cart_field",
        "cxml.cart_field",
        "'cxml-xml' is not possible here; use one of: cxml-base64, cxml-urlencoded",
    ),
    "item_extrinsics with an unknown placeholder": (
        CXML_ONLY
        + '  item_extrinsics:\n    CostCenter: "{cost_center}"\n'
        + "fields:\n  cost_centre: {extrinsic: CostCenter}\n",
        "{cost_center}",
        "cxml.item_extrinsics.CostCenter",
        "unknown placeholder {cost_center}; did you mean {cost_centre}?",
    ),
    "item_extrinsics with a stray brace": (
        CXML_ONLY + '  item_extrinsics:\n    Period: "{start} to {end"\n',
        "Period",
        "cxml.item_extrinsics.Period",
        "a '{' or '}' that is not part of a {name} placeholder (letters, digits and '_' only); "
        "fix the placeholder or remove the brace",
    ),
    "item_extrinsics not a mapping": (
        CXML_ONLY + "  item_extrinsics: [CostCenter]\n",
        "item_extrinsics",
        "cxml.item_extrinsics",
        "expected a mapping (indented 'key: value' lines), got a list",
    ),
    "extrinsic an empty list": (
        CXML_ONLY + "fields:\n  cost_centre: {extrinsic: []}\n",
        "cost_centre",
        "fields.cost_centre.extrinsic",
        "the list is empty; name at least one Extrinsic",
    ),
    "extrinsic empty": (
        CXML_ONLY + "fields:\n  cost_centre: {extrinsic: ''}\n",
        "cost_centre",
        "fields.cost_centre.extrinsic",
        "must not be empty; fill it in or remove the key",
    ),
    "extrinsic a number in a list": (
        CXML_ONLY + "fields:\n  cost_centre: {extrinsic: [CostCenter, 4711]}\n",
        "cost_centre",
        "fields.cost_centre.extrinsic[1]",
        "expected text, got an integer (4711); put the value in quotes",
    ),
    "required field nothing fills": (
        CXML_ONLY + "fields:\n  cost_centre: {required: true}\n",
        "cost_centre",
        "fields.cost_centre.extrinsic",
        "cost_centre is required, but nothing in a cXML setup request fills it: name the "
        "Extrinsic that carries it (extrinsic: CostCenter), or make it editable so that the "
        "employee fills it in",
    ),
    "section not a mapping": (
        BASE + "cxml: [NetworkID]\n",
        "cxml:",
        "cxml",
        "expected a mapping (indented 'key: value' lines), got a list",
    ),
}


@pytest.mark.parametrize(
    ("text", "on_line", "path", "message"), MISTAKES.values(), ids=MISTAKES.keys()
)
def test_each_mistake_is_reported_with_its_line_key_path_and_fix(
    tmp_path: Path, text: str, on_line: str, path: str, message: str
) -> None:
    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, on_line), path)
    assert problem.message.startswith(message), problem.message


def test_a_shared_secret_in_the_file_is_refused_without_repeating_it(tmp_path: Path) -> None:
    text = CXML_ONLY + "  shared_secret: hunter2-acme\n"

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "hunter2"), "cxml.shared_secret")
    assert problem.message.startswith(
        "secrets never sit in a customer file: remove shared_secret and put the shared secret "
        "in an environment variable named by shared_secret_env, or its hash in "
        "shared_secret_hash; " + HASH_HOWTO
    )
    assert "hunter2" not in problem.message


def test_all_mistakes_of_a_file_are_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = changed("identity: AN01000012345", "identity: ''") + (
        "  cart_field: cxml-xml\n  browser_form_post: https://x.example/\n"
    )

    problems = problems_of(tmp_path, text)

    assert [problem.path for problem in problems] == [
        "cxml.credentials[0].identity",
        "cxml.cart_field",
        "cxml.browser_form_post",
    ]
    assert [problem.line for problem in problems] == sorted(p.line for p in problems)
    assert problems[-1].message == (
        "unknown key 'browser_form_post'; did you mean 'browser_form_posts'?"
    )


def test_a_mistake_in_the_cxml_section_keeps_the_whole_customer_from_being_served(
    tmp_path: Path,
) -> None:
    text = BASE + OCI_SECTION + changed("ACME_CXML_SECRET", "UNSET_SECRET", CXML_SECTION)

    problem = only_problem(tmp_path, text)

    assert problem.path == "cxml.shared_secret_env"
