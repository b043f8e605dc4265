"""``flask --app app ociflex customers check|show``: the onboarding commands.

``check`` runs on tests/customers_broken/, a folder with one file per kind of mistake, each
asserting the exact ``file:line: key.path:`` a developer (or a customer repository's CI log)
sees, and on the shipped files. ``show`` prints what the ERP developer gets, never a password.
"""

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from ociflex import create_app
from ociflex.customers.loader import load_customer
from ociflex.customers.model import BUILTIN_PLACEHOLDERS
from ociflex.developer_sheet import PLACEHOLDER_SOURCES, next_monday
from ociflex.oci.basket import check_basket
from ociflex.oci.developer_sheet import example_basket
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.conftest import ACME_PASSWORD, DEMO_PASSWORD
from tests.support.cli import customer_problems, flask_command, without

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path("tests") / "customers_broken"


@pytest.fixture
def cli_environ(tmp_path: Path, customers_dir: Path) -> dict[str, str]:
    """The app's environment; the commands touch no database, so SQLite only."""
    return {
        "OCIFLEX_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ociflex.sqlite3'}",
        "OCIFLEX_CUSTOMERS_DIR": str(customers_dir),
        "OCIFLEX_INSTANCE_PATH": str(tmp_path / "instance"),
        "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD,
        "OCIFLEX_ACME_PASSWORD": ACME_PASSWORD,
        "OCIFLEX_BROKEN_PASSWORD": "broken-secret",
    }


@pytest.fixture
def cli_app(cli_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    # Problems name their file relative to the current directory, as in a CI log.
    monkeypatch.chdir(ROOT)
    app = create_app(cli_environ)
    yield app
    app.extensions["ociflex.engine"].dispose()


def customers(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["ociflex", "customers", *args])


def line_of(file: Path, fragment: str) -> int:
    """The 1-based line of the first line (not a comment) containing ``fragment``."""
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if fragment in line and line[:1] != "#")


# --- check ---------------------------------------------------------------------------------------


def test_the_commands_are_listed(cli_app: Flask) -> None:
    result = customers(cli_app, "--help")

    assert result.exit_code == 0
    assert "check" in result.output
    assert "show" in result.output


def test_the_shipped_customer_files_check_clean(cli_app: Flask) -> None:
    result = customers(cli_app, "check")

    assert result.exit_code == 0, result.output
    assert result.output == "2 customer files checked: 2 valid\n"


@pytest.mark.parametrize("customer_id", ["demo", "acme"])
def test_a_named_shipped_file_checks_clean(cli_app: Flask, customer_id: str) -> None:
    result = customers(cli_app, "check", customer_id)

    assert result.exit_code == 0, result.output
    assert result.output == "1 customer file checked: 1 valid\n"


def test_the_config_folder_checks_clean(cli_app: Flask) -> None:
    result = customers(cli_app, "check", "--dir", "config/customers")

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("customer_id", "fragment", "path", "message"),
    [
        (
            "unknown-key",
            "patern:",
            "fields.cost_centre.patern",
            "unknown key 'patern'; did you mean 'pattern'?",
        ),
        (
            "wrong-type",
            "max_days: a year",
            "max_days",
            "expected a whole number, got text ('a year')",
        ),
        (
            "bad-regex",
            "pattern:",
            "fields.cost_centre.pattern",
            "not a valid regular expression: unterminated character set at position 1; fix it",
        ),
        (
            "unknown-placeholder",
            "cust_field1:",
            "basket.cust_field1",
            "unknown placeholder {cost_center}; did you mean {cost_centre}?",
        ),
        (
            "composite-too-long",
            "cust_field5:",
            "basket.cust_field5",
            "the filled-in value can be too long: fixed text 6 + {po_number} 255 (its max_length)"
            " + {reference} 9 (FF- and 6 digits) = 270 characters, but NEW_ITEM-CUST_FIELD5 takes"
            " at most 50; lower fields.po_number.max_length, take text or a placeholder out of"
            " the template, or raise max_lengths.cust_field5 if this buyer accepts more",
        ),
        (
            "unknown-unit",
            "unit:",
            "basket.unit",
            "'DYA' is not an ISO unit code (UN/ECE Recommendation 20) that ociflex knows; "
            "did you mean DAY (day)?",
        ),
        (
            "unknown-currency",
            "currency:",
            "basket.currency",
            "'EUX' is not an ISO 4217 currency code; did you mean EUR?",
        ),
        (
            "hook-url-not-a-url",
            "erp.broken.example",
            "hook_urls[0]",
            "not a usable HOOK_URL prefix: HOOK_URL is not an absolute http(s) URL; write it like "
            "https://erp.example.com/sap/oci/",
        ),
        (
            "password-env-not-set",
            "password_env:",
            "login.password_env",
            "environment variable OCIFLEX_UNSET_PASSWORD is not set; set it or use password_hash",
        ),
        (
            "duplicate-vehicle-code",
            "code: compact",
            "vehicles[1].code",
            "duplicate vehicle code 'compact' (also at vehicles[0].code); remove one",
        ),
    ],
)
def test_each_kind_of_mistake_is_reported_with_its_line(
    cli_app: Flask, customer_id: str, fragment: str, path: str, message: str
) -> None:
    file = BROKEN / f"{customer_id}.yaml"

    result = customers(cli_app, "check", "--dir", str(BROKEN), customer_id)

    assert result.exit_code == 1, result.output
    problem, summary = result.output.splitlines()
    assert problem.startswith(f"{file}:{line_of(file, fragment)}: {path}: ")
    assert message in problem
    assert summary == "1 customer file checked: 0 valid, 1 with 1 problem"


def test_every_kind_of_mistake_has_a_broken_file(cli_app: Flask) -> None:
    result = customers(cli_app, "check", "--dir", str(BROKEN))

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "10 customer files checked: 0 valid, 10 with 10 problems"
    )


def test_the_broken_files_differ_from_a_valid_file_in_their_mistake_only(
    cli_app: Flask, tmp_path: Path
) -> None:
    # Undo the mistake of one broken file: what remains is a valid customer file.
    text = (ROOT / BROKEN / "unknown-unit.yaml").read_text(encoding="utf-8")
    (tmp_path / "fixed").mkdir()
    (tmp_path / "fixed" / "fixed.yaml").write_text(text.replace("DYA", "DAY"), encoding="utf-8")

    result = customers(cli_app, "check", "--dir", str(tmp_path / "fixed"))

    assert result.exit_code == 0, result.output


def test_a_mix_of_valid_and_broken_files(cli_app: Flask, customers_dir: Path) -> None:
    broken = (ROOT / BROKEN / "wrong-type.yaml").read_text(encoding="utf-8")
    (customers_dir / "wrong.yaml").write_text(broken.replace("max_days:", "max_dayz:"))

    result = customers(cli_app, "check")

    assert result.exit_code == 1
    problem, summary = result.output.splitlines()
    # Outside the current directory, the path is printed as it is.
    line = line_of(BROKEN / "wrong-type.yaml", "max_days: a year")
    assert problem == (
        f"{customers_dir / 'wrong.yaml'}:{line}: max_dayz: unknown key 'max_dayz'; "
        "did you mean 'max_days'?"
    )
    assert summary == "3 customer files checked: 2 valid, 1 with 1 problem"


def test_quiet_prints_the_problems_only(cli_app: Flask) -> None:
    clean = customers(cli_app, "check", "--quiet")
    broken = customers(cli_app, "check", "-q", "--dir", str(BROKEN), "unknown-unit")

    assert (clean.exit_code, clean.output) == (0, "")
    assert broken.exit_code == 1
    assert len(broken.output.splitlines()) == 1
    assert broken.output.startswith(f"{BROKEN / 'unknown-unit.yaml'}:")


def test_skip_env_does_not_require_the_secrets(cli_app: Flask) -> None:
    result = customers(cli_app, "check", "--skip-env", "--dir", str(BROKEN), "password-env-not-set")

    assert result.exit_code == 0, result.output


def test_an_unknown_id_exits_2_with_the_known_ones(cli_app: Flask) -> None:
    result = customers(cli_app, "check", "demo", "dmeo")

    assert result.exit_code == 2
    assert "no customer file for 'dmeo'" in result.output
    assert "did you mean 'demo'?" in result.output
    assert "the customers there are: acme, demo" in result.output


def test_a_missing_folder_is_a_problem(cli_app: Flask, tmp_path: Path) -> None:
    result = customers(cli_app, "check", "--dir", str(tmp_path / "nowhere"))

    assert result.exit_code == 1
    assert "cannot read the customer directory" in result.output


def test_an_empty_folder_is_a_failure(cli_app: Flask, tmp_path: Path) -> None:
    result = customers(cli_app, "check", "--dir", str(tmp_path))

    assert result.exit_code == 1
    assert "no customer files (*.yaml, *.yml) in" in result.output


def test_check_reads_the_files_now_not_at_start_up(cli_app: Flask, customers_dir: Path) -> None:
    demo = customers_dir / "demo.yaml"
    demo.write_text(demo.read_text().replace("unit: DAY", "unit: dag"))

    result = customers(cli_app, "check", "demo")

    assert result.exit_code == 1
    assert "basket.unit: 'dag' is not an ISO unit code" in result.output
    assert "did you mean DAY (day)?" in result.output


def test_check_with_a_secret_unset_reports_each_problem_once_as_its_output(
    cli_environ: dict[str, str],
) -> None:
    """The check's problems are its output (stdout, for a CI log); nothing is logged besides."""
    environ = {**without(cli_environ, "OCIFLEX_DEMO_PASSWORD"), "OCIFLEX_ENV": "development"}
    problems = customer_problems(environ, "demo")

    result = flask_command("ociflex", "customers", "check", environ=environ)

    assert result.returncode == 1, result.stderr
    summary = f"2 customer files checked: 1 valid, 1 with {len(problems)} problems"
    assert result.stdout.splitlines() == [*map(str, problems), summary]
    assert result.stderr == ""


# --- show ----------------------------------------------------------------------------------------


def test_show_gives_the_erp_developer_what_to_send(cli_app: Flask) -> None:
    result = customers(cli_app, "show", "demo")

    assert result.exit_code == 0, result.output
    output = result.output
    assert "Demo Inkoop B.V. (customer demo)" in output
    assert "\n  /oci/demo\n" in output
    assert "POST (recommended)" in output
    for param in ("USERNAME", "PASSWORD", "HOOK_URL", "oci_usermail", "oci_userfullname"):
        assert re.search(rf"^  {re.escape(param)} +yes ", output, re.MULTILINE), param
    assert re.search(r"^  KOSTENPLAATS +yes +Cost centre \(cost_centre\)", output, re.MULTILINE)
    assert re.search(r"^  INKOOPNUMMER +no ", output, re.MULTILINE)
    assert "matching ^[0-9]{4,10}$; e.g. 4100" in " ".join(output.split())
    assert "demo-erp" in output
    assert "the password agreed with Euromobil" in output
    assert "- http://127.0.0.1:5000/dev/erp/" in output
    assert "default utf-8" in output


def test_show_never_prints_the_password(cli_app: Flask) -> None:
    for customer_id, password in (("demo", DEMO_PASSWORD), ("acme", ACME_PASSWORD)):
        result = customers(cli_app, "show", customer_id)

        assert result.exit_code == 0, result.output
        assert password not in result.output


def test_show_lists_the_basket_fields_with_example_values(cli_app: Flask) -> None:
    output = customers(cli_app, "show", "demo").output

    rows = {
        "NEW_ITEM-CUST_FIELD1[1]": r"10 +call-up parameter KOSTENPLAATS +4100",
        "NEW_ITEM-CUST_FIELD2[1]": r"10 +call-up parameter INKOOPNUMMER +4500012345",
        "NEW_ITEM-UNIT[1]": r"3 +fixed +DAY",
        "NEW_ITEM-CURRENCY[1]": r"5 +fixed +EUR",
        "NEW_ITEM-VENDOR[1]": r"10 +fixed +4711",
        "NEW_ITEM-QUANTITY[1]": r"15 +the number of rental days +3",
        "NEW_ITEM-PRICE[1]": r"15 +the vehicle's day rate.* +39\.50",
        "NEW_ITEM-EXT_PRODUCT_ID[1]": r"40 +the vehicle's code \(stable\) +COMPACT",
        "NEW_ITEM-EXT_QUOTE_ID[1]": r"35 +Euromobil's request reference +FF-000123",
        "~OkCode": r"the call-up's own value +ADDI",
    }
    for name, rest in rows.items():
        assert re.search(rf"^  {re.escape(name)} +{rest}$", output, re.MULTILINE), name
    assert "Kostenplaats: 4100" in output  # the example LONGTEXT, in the customer's language


def test_show_builds_its_example_with_the_real_basket_code(cli_app: Flask) -> None:
    customer = load_customer(
        ROOT / "tests" / "customers" / "acme.yaml",
        CUSTOMER_SECTIONS,
        {"X": "x"} | {"OCIFLEX_ACME_PASSWORD": ACME_PASSWORD},
    )
    with cli_app.app_context():
        basket, booking = example_basket(customer, date(2026, 3, 4), lambda text: text)

    assert (booking.start, booking.end) == (date(2026, 3, 9), date(2026, 3, 11))
    assert check_basket(basket, customer) == []
    assert basket.charset == "iso-8859-1"
    assert ("NEW_ITEM-VENDORMAT[1]", "ESTATE") in basket.fields


def test_show_lists_a_basket_field_without_example_too(cli_app: Flask) -> None:
    output = customers(cli_app, "show", "acme").output

    assert re.search(
        r"^  NEW_ITEM-CUST_FIELD5\[1\] +50 +call-up parameter PROJECT +\(no example in the file\)$",
        output,
        re.MULTILINE,
    )
    assert "HOOK_URL SAPEVENT:POST works too" in output
    assert "default iso-8859-1" in output


def test_show_gives_the_absolute_url_when_the_public_url_is_set(
    cli_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    app = create_app({**cli_environ, "OCIFLEX_PUBLIC_URL": "https://flexfleet.euromobil.example/"})
    try:
        result = customers(app, "show", "demo")
    finally:
        app.extensions["ociflex.engine"].dispose()

    assert "\n  https://flexfleet.euromobil.example/oci/demo\n" in result.output


def test_show_stays_within_100_columns(cli_app: Flask) -> None:
    for customer_id in ("demo", "acme"):
        output = customers(cli_app, "show", customer_id).output

        assert max(map(len, output.splitlines())) <= 100


def test_show_needs_no_secret(cli_app: Flask, customers_dir: Path) -> None:
    # The ERP developer's text does not depend on the password being set where it is printed.
    result = customers(cli_app, "show", "--dir", str(BROKEN), "password-env-not-set")

    assert result.exit_code == 0, result.output


def test_show_of_a_broken_file_prints_its_problems(cli_app: Flask) -> None:
    result = customers(cli_app, "show", "--dir", str(BROKEN), "unknown-unit")

    assert result.exit_code == 1
    assert f"{BROKEN / 'unknown-unit.yaml'}:" in result.output
    assert "fix the file first" in result.output


def test_show_of_an_unknown_id_exits_2(cli_app: Flask) -> None:
    result = customers(cli_app, "show", "nobody")

    assert result.exit_code == 2
    assert "the customers there are: acme, demo" in result.output


def test_every_builtin_placeholder_is_explained() -> None:
    assert set(PLACEHOLDER_SOURCES) == set(BUILTIN_PLACEHOLDERS)


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (date(2026, 3, 2), date(2026, 3, 9)),  # a Monday: the next one
        (date(2026, 3, 7), date(2026, 3, 9)),
        (date(2026, 3, 8), date(2026, 3, 9)),
    ],
)
def test_the_example_starts_next_monday(today: date, monday: date) -> None:
    assert next_monday(today) == monday


def test_show_makes_up_an_email_example_in_the_customers_domain(cli_app: Flask) -> None:
    result = customers(cli_app, "show", "acme")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "in acme.example, *.acme.example; e.g. jan.jansen@acme.example" in text


CXML_CUSTOMERS = Path("tests") / "customers_cxml"


def test_show_gives_the_buyer_s_administrator_what_cxml_needs(cli_app: Flask) -> None:
    result = customers(cli_app, "show", "--dir", str(CXML_CUSTOMERS), "globex")

    assert result.exit_code == 0, result.output
    output = result.output
    text = " ".join(output.split())
    assert "punch-out to Euromobil FlexFleet with cXML" in output
    assert "SAP OCI" not in output
    assert "\n  /cxml/globex\n" in output
    assert "domain NetworkID, identity AN01000099999" in output
    assert "domain DUNS, identity 123456789" in output
    assert "kept as a hash at Euromobil" in text
    assert "- https://buyer.globex.example/punchout/return" in output
    for extrinsic in ("UserEmail", "FirstName", "LastName", "CostCenter", "Project"):
        assert f'Extrinsic name="{extrinsic}"' in output, extrinsic
    assert "within 10 minutes" in text
    assert re.search(r"^  @quantity +the rental days +3$", output, re.MULTILINE)
    assert re.search(r"^  ItemDetail/UnitPrice/Money +the day rate +64\.00 USD$", output, re.M)
    assert re.search(r"^  ItemDetail/Classification +the UNSPSC commodity +78111808$", output, re.M)
    assert "globex-secret" not in output


def test_show_of_a_customer_with_both_protocols_has_both_parts(cli_app: Flask) -> None:
    output = customers(cli_app, "show", "demo").output

    assert "with SAP OCI and cXML" in output
    assert output.index("\nSAP OCI\n") < output.index("\ncXML\n")
    assert 'Contact role="endUser"' in output  # the demo's e-mail and name come from there
    assert "kept in OCIFLEX_DEMO_PASSWORD" in " ".join(output.split())
    assert DEMO_PASSWORD not in output


# --- show: purchase orders -----------------------------------------------------------------------

#: An OCI customer whose ERP sends its purchase orders by cXML: a cxml section without
#: browser_form_posts, and orders that may come without the SharedSecret.
ORDERS_ONLY = """
cxml:
  credentials:
    - {domain: NetworkID, identity: AN01000054321}
  shared_secret_env: OCIFLEX_ACME_CXML_SECRET
  orders_without_shared_secret: true
"""


def orders_part(output: str) -> str:
    """The OrderRequest part of ``show``, on one line."""
    return " ".join(output[output.index("\nOrderRequest (") :].split())


def test_show_names_the_absolute_address_that_takes_purchase_orders(
    cli_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    app = create_app({**cli_environ, "OCIFLEX_PUBLIC_URL": "https://flexfleet.euromobil.example/"})
    try:
        output = customers(app, "show", "demo").output
    finally:
        app.extensions["ociflex.engine"].dispose()

    assert "Purchase orders: by cXML (OrderRequest)" in output
    assert "(PunchOutSetupRequest, OrderRequest, ProfileRequest)" in output
    assert "\nOrderRequest (the purchase order, server to server)\n" in output
    orders = orders_part(output)
    assert orders.startswith(
        "OrderRequest (the purchase order, server to server) "
        "https://flexfleet.euromobil.example/cxml/demo "
    )
    assert "SharedSecret: required in every OrderRequest" in orders
    assert "the same payloadID is answered 200 again and changes nothing" in orders
    # The demo punches out with both: the reference comes from either cart.
    assert "the cart line's SupplierPartAuxiliaryID" in orders
    assert "map the basket line's NEW_ITEM-EXT_QUOTE_ID here" in orders


def test_show_of_a_cxml_only_customer_does_not_speak_of_oci_baskets(cli_app: Flask) -> None:
    output = customers(cli_app, "show", "--dir", str(CXML_CUSTOMERS), "globex").output

    orders = orders_part(output)
    assert orders.startswith("OrderRequest (the purchase order, server to server) /cxml/globex ")
    assert "EXT_QUOTE_ID" not in output


def test_show_of_an_oci_customer_that_sends_orders_by_cxml(cli_app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "orders-only"
    folder.mkdir()
    acme = (ROOT / "tests" / "customers" / "acme.yaml").read_text(encoding="utf-8")
    (folder / "acme.yaml").write_text(acme + ORDERS_ONLY, encoding="utf-8")

    result = customers(cli_app, "show", "--dir", str(folder), "acme")

    assert result.exit_code == 0, result.output
    output = result.output
    text = " ".join(output.split())
    assert output.splitlines()[:2] == [
        "ACME Procurement Ltd (customer acme): punch-out to Euromobil FlexFleet with SAP OCI",
        "Purchase orders: by cXML (OrderRequest), see the cXML part.",
    ]
    assert "This customer sends only its purchase orders by cXML" in text
    assert "(OrderRequest, ProfileRequest)" in output
    assert "\nPunchOutSetupRequest\n" not in output
    assert "What comes back" not in output.split("\ncXML\n")[1]
    assert "domain NetworkID, identity AN01000054321" in output
    orders = orders_part(output)
    assert "SharedSecret: may be left out of an OrderRequest" in orders
    assert "map the basket line's NEW_ITEM-EXT_QUOTE_ID here" in orders
    assert "the cart line's SupplierPartAuxiliaryID" not in orders
    assert max(map(len, output.splitlines())) <= 100
