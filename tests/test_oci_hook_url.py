import pytest

from ociflex.oci.hook_url import check_hook_url
from ociflex.return_urls import ReturnUrlError, origin_of

ALLOWED = (
    "https://erp.example.com/sap/bc",
    "https://erp.example.com:8443/dev/erp/",
    "http://127.0.0.1:5000/",
    "https://whole.example.net",
)


@pytest.mark.parametrize(
    "hook_url",
    [
        "https://erp.example.com/sap/bc",
        "https://erp.example.com/sap/bc/",
        "https://erp.example.com/sap/bc/bsp/sap/hook",
        "https://erp.example.com:443/sap/bc/x",
        "HTTPS://ERP.Example.COM/sap/bc/x",
        "https://erp.example.com/sap/bc/x?sap-client=100&session=a%2Fb",
        "https://erp.example.com/sap/bc/x?",
        "https://erp.example.com:8443/dev/erp/",
        "https://erp.example.com:8443/dev/erp/hook",
        "http://127.0.0.1:5000/oci/hook?x=1",
        "http://127.0.0.1:5000",
        "https://whole.example.net",
        "https://whole.example.net/any/path",
    ],
)
def test_accepts_hook_urls_under_an_allowed_entry(hook_url):
    check_hook_url(hook_url, ALLOWED)


@pytest.mark.parametrize(
    "hook_url",
    [
        "https://erp.example.com/sap/bcx",
        "https://erp.example.com/sap/b",
        "https://erp.example.com/SAP/BC",
        "https://erp.example.com:8443/dev/erp",
        "https://erp.example.com:8443/dev/erpx/hook",
        "http://erp.example.com/sap/bc",
        "https://erp.example.com:444/sap/bc",
        "https://erp.example.com:80/sap/bc",
        "https://erp.example.com.evil.example/sap/bc",
        "https://evil.example/sap/bc",
        "https://sub.erp.example.com/sap/bc",
        "http://127.0.0.1/",
        "http://127.0.0.1:5001/",
        "http://localhost:5000/",
    ],
)
def test_refuses_hook_urls_outside_the_allowed_entries(hook_url):
    with pytest.raises(ReturnUrlError, match="not in the list allowed for this customer"):
        check_hook_url(hook_url, ALLOWED)


@pytest.mark.parametrize(
    ("hook_url", "reason"),
    [
        ("", "missing"),
        (" https://erp.example.com/sap/bc", "whitespace"),
        ("https://erp.example.com/sap/bc\n", "whitespace"),
        ("https://erp.example.com/sap/bc/a b", "space"),
        ("https://erp.example.com/sap/bc/\tx", "control character"),
        ("https://erp.example.com/sap/bc/\x00", "control character"),
        ("https://erp.example.com/sap/bc/\u202ex", "control character"),
        ("https://erp.example.com/sap/bc\\x", "backslash"),
        ("https:\\\\erp.example.com/sap/bc", "backslash"),
        ("https://erp.example.com/sap/bc#x", "fragment"),
        ("https://erp.example.com/sap/bc/#", "fragment"),
        ("javascript:alert(1)//https://erp.example.com/sap/bc", "absolute http"),
        ("data:text/html,https://erp.example.com/sap/bc", "absolute http"),
        ("file:///etc/passwd", "absolute http"),
        ("ftp://erp.example.com/sap/bc", "absolute http"),
        ("//erp.example.com/sap/bc", "absolute http"),
        ("/sap/bc", "absolute http"),
        ("https:/sap/bc", "no host"),
        ("https:///sap/bc", "no host"),
        ("https://:443/sap/bc", "no host"),
        ("https://erp.example.com@evil.example/sap/bc", "user information"),
        ("https://user:pw@erp.example.com/sap/bc", "user information"),
        ("https://erp.example.com./sap/bc", "not a valid host name"),
        ("https://erp..example.com/sap/bc", "not a valid host name"),
        ("https://erp.example.com%2e/sap/bc", "not a valid host name"),
        ("https://еrp.example.com/sap/bc", "not plain ASCII"),  # Cyrillic "е"
        ("https://ｅrp.example.com/sap/bc", "not plain ASCII"),  # fullwidth "ｅ"
        ("http://127.0.0.1:5000.evil.example/", "invalid port"),
        ("http://127.0.0.1:/", "invalid port"),
        ("http://127.0.0.1:0/", "invalid port"),
        ("http://127.0.0.1:65536/", "invalid port"),
        ("http://127.0.0.1:+5000/", "invalid port"),
        ("https://erp.example.com/sap/bc/../admin", "dot-segment"),
        ("https://erp.example.com/sap/bc/./x", "dot-segment"),
        ("https://erp.example.com/sap/bc/..", "dot-segment"),
        ("https://erp.example.com/sap/bc/%2e%2e/admin", "dot-segment"),
        ("https://erp.example.com/sap/bc/%2E./admin", "dot-segment"),
        ("https://erp.example.com/sap/bc/%252e%252e/admin", "dot-segment"),
        ("https://erp.example.com/sap/bc%2f..%2fadmin", "dot-segment"),
        ("https://erp.example.com/sap/bc/..;/admin", "dot-segment"),
        ("https://erp.example.com/sap/bc/" + "x" * 5000, "longer than"),
        ("SAPEVENT:POST", "SAPEVENT:POST"),
    ],
)
def test_refuses_unsafe_hook_urls_with_a_reason(hook_url, reason):
    with pytest.raises(ReturnUrlError, match=reason) as caught:
        check_hook_url(hook_url, ALLOWED)
    assert caught.value.reason.startswith("HOOK_URL")


def test_reason_names_the_refused_url_without_its_query_string():
    with pytest.raises(ReturnUrlError) as caught:
        check_hook_url("https://evil.example/hook?sap-password=secret", ALLOWED)
    assert "https://evil.example/hook" in caught.value.reason
    assert "secret" not in caught.value.reason


@pytest.mark.parametrize("hook_url", ["SAPEVENT:POST", "sapevent:post", "SapEvent:Post"])
def test_accepts_sapevent_only_when_allowed(hook_url):
    check_hook_url(hook_url, ("https://erp.example.com/sap/bc", "sapevent:POST"))


def test_sapevent_entry_does_not_allow_anything_else():
    with pytest.raises(ReturnUrlError):
        check_hook_url("SAPEVENT:POST?x", ("SAPEVENT:POST",))
    with pytest.raises(ReturnUrlError):
        check_hook_url("https://erp.example.com/", ("SAPEVENT:POST",))


def test_unicode_look_alike_is_not_sapevent():
    with pytest.raises(ReturnUrlError):
        check_hook_url("ſAPEVENT:POST", ("SAPEVENT:POST",))


def test_punycode_host_matches_only_the_same_punycode_entry():
    check_hook_url("https://xn--mnchen-3ya.example/hook", ("https://xn--mnchen-3ya.example/",))
    with pytest.raises(ReturnUrlError):
        check_hook_url("https://münchen.example/hook", ("https://xn--mnchen-3ya.example/",))


def test_ipv6_hosts_compare_by_address():
    check_hook_url("http://[0:0::1]:5000/hook", ("http://[::1]:5000/",))
    with pytest.raises(ReturnUrlError):
        check_hook_url("http://[::2]:5000/hook", ("http://[::1]:5000/",))


def test_invalid_allowed_entries_match_nothing():
    with pytest.raises(ReturnUrlError, match="not in the list allowed"):
        check_hook_url(
            "https://erp.example.com/x", ("erp.example.com", "https://a@erp.example.com/")
        )


def test_no_allowed_entries_refuses_everything():
    with pytest.raises(ReturnUrlError):
        check_hook_url("https://erp.example.com/", ())


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://erp.example.com/sap/bc?x=1", "https://erp.example.com"),
        ("https://ERP.example.com:443/", "https://erp.example.com"),
        ("https://erp.example.com:8443/dev/", "https://erp.example.com:8443"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "url", ["SAPEVENT:POST", "javascript:alert(1)", "https://a@b.example/", "", "not a url"]
)
def test_origin_of_invalid_url_is_none(url):
    assert origin_of(url) is None
