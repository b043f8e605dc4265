"""Reading a call-up, without a web server: parameters in, a punch-out session or a CallupError
out."""

import pytest

from ociflex.booking.session import Operation, PunchoutSession
from ociflex.customers.loader import load_customer
from ociflex.customers.model import Customer
from ociflex.oci.callup import CallupError, Params, frame_target, read_callup
from ociflex.protocols import CUSTOMER_SECTIONS
from tests.conftest import ACME_HOOK_URL, ACME_PASSWORD, DEMO_PASSWORD, ROOT, TEST_CUSTOMERS

ENVIRON = {"OCIFLEX_ACME_PASSWORD": ACME_PASSWORD, "OCIFLEX_DEMO_PASSWORD": DEMO_PASSWORD}


@pytest.fixture(scope="module")
def acme() -> Customer:
    return load_customer(TEST_CUSTOMERS / "acme.yaml", CUSTOMER_SECTIONS, ENVIRON)


@pytest.fixture(scope="module")
def demo() -> Customer:
    return load_customer(ROOT / "config" / "customers" / "demo.yaml", CUSTOMER_SECTIONS, ENVIRON)


def params(*pairs: tuple[str, str], **named: str) -> Params:
    return Params.merge(pairs, named.items())


# --- Params -------------------------------------------------------------------------------------


def test_merge_keeps_the_query_string_before_the_body() -> None:
    merged = Params.merge([("HOOK_URL", "h"), ("a", "1")], [("b", "2")])
    assert merged.pairs == (("HOOK_URL", "h"), ("a", "1"), ("b", "2"))


@pytest.mark.parametrize("asked", ["HOOK_URL", "hook_url", "Hook_Url", "HOOK_url"])
def test_get_ignores_the_case_of_the_name(asked: str) -> None:
    assert params(("hook_URL", "https://erp.example/")).get(asked) == "https://erp.example/"


def test_get_ignores_case_for_tilde_names() -> None:
    assert params(("~target", "_parent")).get("~TARGET") == "_parent"


def test_get_of_a_name_not_sent_is_none() -> None:
    assert params(("a", "1")).get("b") is None


def test_get_of_a_name_sent_empty_is_empty() -> None:
    assert params(("a", "")).get("a") == ""


def test_get_of_a_name_sent_twice_is_the_first_non_empty_value() -> None:
    merged = Params.merge([("user", "")], [("USER", "jan"), ("User", "piet")])
    assert merged.get("user") == "jan"


def test_values_are_all_values_of_a_name_in_order_whatever_their_case() -> None:
    merged = Params.merge([("x", "1"), ("y", "2")], [("X", "3")])
    assert merged.values("x") == ["1", "3"]


def test_without_drops_names_whatever_their_case() -> None:
    merged = params(("USERNAME", "u"), ("Password", "p"), ("pwd", "q"), ("HOOK_URL", "h"))
    assert merged.without("PASSWORD", "PWD") == (("USERNAME", "u"), ("HOOK_URL", "h"))


# --- frame_target -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "target"),
    [
        pytest.param({}, "_top", id="absent"),
        pytest.param({"~TARGET": ""}, "_top", id="empty"),
        pytest.param({"~TARGET": "_top"}, "_top", id="top"),
        pytest.param({"~TARGET": "_PARENT"}, "_parent", id="keyword-upper-case"),
        pytest.param({"~TARGET": "_self"}, "_self", id="self"),
        pytest.param({"~TARGET": "_blank"}, "_blank", id="blank"),
        pytest.param({"~target": "SRM_Frame"}, "SRM_Frame", id="named-frame-lower-case-param"),
        pytest.param({"~TARGET": "_new"}, "_top", id="unknown-keyword"),
        pytest.param({"~TARGET": '"><script>'}, "_top", id="markup"),
        pytest.param({"~TARGET": "javascript:alert(1)"}, "_top", id="javascript"),
        pytest.param({"~TARGET": "frame name"}, "_top", id="space"),
        pytest.param({"~TARGET": "x" * 65}, "_top", id="too-long"),
    ],
)
def test_frame_target(sent: dict[str, str], target: str) -> None:
    assert frame_target(params(**sent)) == target


@pytest.mark.parametrize("name", ["returntarget", "RETURNTARGET", "ReturnTarget"])
def test_returntarget_takes_precedence_over_tilde_target(name: str) -> None:
    sent = params(("~TARGET", "_self"), (name, "_parent"))
    assert frame_target(sent) == "_parent"


def test_an_empty_returntarget_leaves_tilde_target_in_charge() -> None:
    assert frame_target(params(("returntarget", ""), ("~TARGET", "_parent"))) == "_parent"


def test_a_junk_returntarget_falls_back_to_top_not_to_tilde_target() -> None:
    assert frame_target(params(("returntarget", "<junk>"), ("~TARGET", "_parent"))) == "_top"


# --- read_callup: accepted ----------------------------------------------------------------------


def test_a_complete_call_up_becomes_a_punchout(acme: Customer, acme_callup: dict) -> None:
    acme_callup["OCI_VERSION"] = "5.0"
    punchout = read_callup(acme, params(**acme_callup))
    assert (punchout.customer_id, punchout.protocol, punchout.operation) == (
        "acme",
        "oci",
        Operation.CREATE,
    )
    assert punchout.cart_return.url == ACME_HOOK_URL
    assert punchout.cart_return.target == "_top"
    assert punchout.cart_return.charset == "iso-8859-1"  # acme's default
    assert punchout.cart_return.echo == {"~OkCode": "ADDI", "~CALLER": "CTLG"}
    assert ["OCI_VERSION", "5.0"] in punchout.inbound["parameters"]
    assert punchout.fields == {
        "email": "jane.smith@acme.example",
        "full_name": "Jane Smith",
        "project": "P-123",
    }


def test_the_demo_call_up_maps_its_own_field_names(demo: Customer, demo_callup: dict) -> None:
    punchout = read_callup(demo, params(**demo_callup))
    assert punchout.cart_return.charset == "utf-8"
    assert punchout.fields == {
        "email": "jan.jansen@demo.example",
        "full_name": "Jan Jansen",
        "cost_centre": "4100",
        "po_number": "PO-2026-01",
    }


def test_names_are_matched_ignoring_case(acme: Customer, acme_callup: dict) -> None:
    shouted = {name.upper(): value for name, value in acme_callup.items()}
    punchout = read_callup(acme, params(**shouted, returntarget="_parent"))
    assert punchout.cart_return.url == ACME_HOOK_URL
    assert punchout.fields["email"] == "jane.smith@acme.example"
    assert punchout.cart_return.echo == {"~OkCode": "ADDI", "~CALLER": "CTLG"}
    assert punchout.cart_return.target == "_parent"


def test_an_optional_field_not_sent_is_empty(acme: Customer, acme_callup: dict) -> None:
    del acme_callup["PROJECT"]
    assert read_callup(acme, params(**acme_callup)).fields["project"] == ""


def test_field_values_are_stripped(acme: Customer, acme_callup: dict) -> None:
    acme_callup["user_name"] = "  Jane Smith "
    assert read_callup(acme, params(**acme_callup)).fields["full_name"] == "Jane Smith"


def test_okcode_and_caller_not_sent_are_not_echoed(acme: Customer, acme_callup: dict) -> None:
    del acme_callup["~OkCode"], acme_callup["~CALLER"]
    punchout = read_callup(acme, params(**acme_callup))
    assert punchout.cart_return.echo == {}


@pytest.mark.parametrize("name", ["HTTP_CONTENT_CHARSET", "http_content_charset"])
def test_the_erp_chooses_the_charset_of_the_basket(
    acme: Customer, acme_callup: dict, name: str
) -> None:
    acme_callup[name] = "UTF-8"
    assert read_callup(acme, params(**acme_callup)).cart_return.charset == "UTF-8"


def test_the_sap_gui_pseudo_url_is_a_hook_url_when_allowed(
    acme: Customer, acme_callup: dict
) -> None:
    acme_callup["HOOK_URL"] = "SAPEVENT:POST"
    assert read_callup(acme, params(**acme_callup)).cart_return.url == "SAPEVENT:POST"


def test_the_same_hook_url_sent_twice_is_accepted(acme: Customer, acme_callup: dict) -> None:
    sent = Params.merge([("HOOK_URL", ACME_HOOK_URL)], acme_callup.items())
    assert read_callup(acme, sent).cart_return.url == ACME_HOOK_URL


def test_the_call_up_is_kept_in_order_without_the_password(
    acme: Customer, acme_callup: dict
) -> None:
    sent = Params.merge(acme_callup.items(), [("PASSWORD", ACME_PASSWORD)])
    punchout = read_callup(acme, sent)
    assert punchout.inbound["parameters"] == [
        [name, value] for name, value in acme_callup.items() if name != "pwd"
    ]
    assert ACME_PASSWORD not in repr(punchout.to_json())


def test_every_call_up_is_a_new_punchout(acme: Customer, acme_callup: dict) -> None:
    first = read_callup(acme, params(**acme_callup))
    second = read_callup(acme, params(**acme_callup))
    assert first.id != second.id


def test_a_punchout_survives_its_json_form(acme: Customer, acme_callup: dict) -> None:
    punchout = read_callup(acme, params(**acme_callup))
    assert PunchoutSession.from_json(punchout.to_json()) == punchout


# --- read_callup: refused -----------------------------------------------------------------------

REFUSALS = [
    # (change to the call-up: None deletes, expected status, expected English message)
    pytest.param(
        {"pwd": None},
        401,
        "The call-up carries no company login (loginname / pwd).",
        id="password-missing",
    ),
    pytest.param(
        {"loginname": None},
        401,
        "The call-up carries no company login (loginname / pwd).",
        id="username-missing",
    ),
    pytest.param(
        {"pwd": ""},
        401,
        "The call-up carries no company login (loginname / pwd).",
        id="password-empty",
    ),
    pytest.param(
        {"pwd": "Wrong-Password-42"},
        403,
        "The company login in the call-up is not correct.",
        id="password-wrong",
    ),
    pytest.param(
        {"pwd": ACME_PASSWORD.upper()},
        403,
        "The company login in the call-up is not correct.",
        id="password-wrong-case",
    ),
    pytest.param(
        {"loginname": "someone-else"},
        403,
        "The company login in the call-up is not correct.",
        id="username-wrong",
    ),
    pytest.param(
        {"PWD": "Wrong-Password-42"},
        400,
        "The parameter pwd was sent more than once with different values.",
        id="password-twice",
    ),
    pytest.param(
        {"HOOK_URL": None},
        400,
        "The call-up has no HOOK_URL, so the basket could not be returned to your ERP.",
        id="hook-url-missing",
    ),
    pytest.param(
        {"HOOK_URL": ""},
        400,
        "The call-up has no HOOK_URL, so the basket could not be returned to your ERP.",
        id="hook-url-empty",
    ),
    pytest.param(
        {"hook_url": "https://erp.acme.example/sap/bc/srm/other"},
        400,
        "The parameter HOOK_URL was sent more than once with different values.",
        id="hook-url-twice",
    ),
    pytest.param(
        {"HOOK_URL": "https://erp.acme.example.evil.example/sap/bc/srm/hook"},
        400,
        "HOOK_URL "
        "https://erp.acme.example.evil.example/sap/bc/srm/hook "
        "is not in the list allowed for this customer",
        id="hook-url-other-host",
    ),
    pytest.param(
        {"HOOK_URL": "javascript:alert(document.cookie)"},
        400,
        "HOOK_URL is not an absolute http(s) URL",
        id="hook-url-javascript",
    ),
    pytest.param(
        {"user_email": None},
        400,
        "The required field user_email is missing from the call-up.",
        id="email-missing",
    ),
    pytest.param(
        {"user_email": "   "},
        400,
        "The required field user_email is missing from the call-up.",
        id="email-blank",
    ),
    pytest.param(
        {"user_email": "jane.smith"},
        400,
        "The e-mail address in user_email is not valid.",
        id="email-invalid",
    ),
    pytest.param(
        {"user_name": None},
        400,
        "The required field user_name is missing from the call-up.",
        id="name-missing",
    ),
    pytest.param(
        {"user_name": "Jane\nSmith"},
        400,
        "The field user_name contains control characters or line breaks.",
        id="name-line-break",
    ),
    pytest.param(
        {"user_name": "J" * 256},
        400,
        "The field user_name is longer than 255 characters.",
        id="name-too-long",
    ),
    pytest.param(
        {"HTTP_CONTENT_CHARSET": "klingon"},
        400,
        "The character set klingon in HTTP_CONTENT_CHARSET is unknown.",
        id="charset-unknown",
    ),
]


def _changed(callup: dict[str, str], change: dict[str, str | None]) -> Params:
    """The call-up with ``change`` applied; a name that differs only in case is sent as well."""
    pairs = [(name, value) for name, value in callup.items() if change.get(name, "") is not None]
    pairs = [(name, change.get(name, value)) for name, value in pairs]
    pairs += [(name, value) for name, value in change.items() if name not in callup and value]
    return Params(tuple(pairs))


@pytest.mark.parametrize(("change", "status", "message"), REFUSALS)
def test_a_refused_call_up_says_why(
    acme: Customer, acme_callup: dict, change: dict, status: int, message: str
) -> None:
    with pytest.raises(CallupError) as refused:
        read_callup(acme, _changed(acme_callup, change))
    assert (refused.value.status, str(refused.value)) == (status, message)


@pytest.mark.parametrize(("change", "status", "message"), REFUSALS)
def test_a_refusal_never_shows_a_password(
    acme: Customer, acme_callup: dict, change: dict, status: int, message: str
) -> None:
    with pytest.raises(CallupError) as refused:
        read_callup(acme, _changed(acme_callup, change))
    error = refused.value
    shown = [str(error), error.fix % error.params, repr(error.params)]
    for password in (ACME_PASSWORD, ACME_PASSWORD.upper(), "Wrong-Password-42"):
        assert all(password not in text for text in shown)


@pytest.mark.parametrize(("change", "status", "message"), REFUSALS)
def test_a_refusal_tells_the_erp_administrator_what_to_do(
    acme: Customer, acme_callup: dict, change: dict, status: int, message: str
) -> None:
    with pytest.raises(CallupError) as refused:
        read_callup(acme, _changed(acme_callup, change))
    assert (refused.value.fix % refused.value.params).startswith("Ask your ERP administrator")


@pytest.mark.parametrize("sent", ["X-123", "P-1\n23", "P-" + "1" * 60])
def test_a_wrong_value_of_an_editable_field_is_kept_for_the_booking_form_to_correct(
    acme: Customer, acme_callup: dict, sent: str
) -> None:
    """The employee corrects it in the booking form (issue 18, item 6)."""
    assert read_callup(acme, _changed(acme_callup, {"PROJECT": sent})).fields["project"] == sent


def test_the_login_is_checked_before_anything_else(acme: Customer) -> None:
    """Without the login nobody learns which fields or HOOK_URLs the customer expects."""
    with pytest.raises(CallupError) as refused:
        read_callup(acme, params(loginname="acme-sap", pwd="wrong", FUNCTION="VALIDATE"))
    assert refused.value.status == 403


def test_a_function_call_is_left_to_read_function_call(acme: Customer, acme_callup: dict) -> None:
    """FUNCTION calls are answered by ociflex.oci.functions (see tests/test_oci_functions.py)."""
    with pytest.raises(ValueError, match="read_function_call"):
        read_callup(acme, params(**acme_callup, FUNCTION="VALIDATE"))


def test_the_hook_url_is_checked_before_the_fields(acme: Customer, acme_callup: dict) -> None:
    acme_callup.pop("HOOK_URL")
    acme_callup.pop("user_email")
    with pytest.raises(CallupError, match="HOOK_URL"):
        read_callup(acme, params(**acme_callup))


@pytest.mark.parametrize(
    "hook_url",
    [
        "http://127.0.0.1:5000.evil.example/",
        "http://127.0.0.1:5000.evil.example/dev/erp/",
        "http://127.0.0.1:5001/dev/erp/hook",
        "https://127.0.0.1:5000/dev/erp/hook",
        "http://127.0.0.1:5000/dev/erpx",
        "http://127.0.0.1:5000/dev/erp/../../admin",
        "http://user@127.0.0.1:5000/dev/erp/hook",
        "SAPEVENT:POST",
    ],
)
def test_hook_urls_outside_the_customers_list_are_refused(
    demo: Customer, demo_callup: dict, hook_url: str
) -> None:
    demo_callup["HOOK_URL"] = hook_url
    with pytest.raises(CallupError) as refused:
        read_callup(demo, params(**demo_callup))
    assert refused.value.status == 400
    assert str(refused.value).startswith("HOOK_URL ")


def test_a_value_longer_than_its_basket_field_is_refused(demo: Customer, demo_callup: dict) -> None:
    """INKOOPNUMMER goes whole into CUST_FIELD2, which holds 10 characters."""
    demo_callup["INKOOPNUMMER"] = "PO-2026-001"
    with pytest.raises(CallupError) as refused:
        read_callup(demo, params(**demo_callup))
    assert str(refused.value) == "The field INKOOPNUMMER is longer than 10 characters."
