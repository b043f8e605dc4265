"""Every parameter of every operations list page answers junk with the page and a message,
never a server error: a property test over the inbox's, the transfer log's and the orders'
parameters, with any text in any of them (digits of other scripts, superscripts, control
characters, very long values)."""

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Each list page and the parameters it reads.
PAGES = {
    "/ops/": ("status", "customer", "vehicle", "from", "to", "q", "po", "before", "after"),
    "/ops/transfers": ("customer", "kind", "outcome", "q", "before", "after"),
    "/ops/orders": ("show", "before"),
}
#: What the pages met in the wild: digits that isdigit() accepts and int() does not, digits of
#: other scripts, references made of them.
KNOWN = ["²", "³", "¹", "①", "⑴", "٣", "FF-²", "FF-٣", "1²", "١٢٣"]
junk = st.one_of(st.sampled_from(KNOWN), st.text(max_size=300))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.sampled_from(sorted(PAGES)), data=st.data())
def test_any_value_of_any_list_parameter_gets_the_page_never_a_server_error(
    ops_client: FlaskClient, page: str, data: st.DataObject
) -> None:
    names = data.draw(st.lists(st.sampled_from(PAGES[page]), min_size=1, max_size=3, unique=True))
    query = {name: data.draw(junk) for name in names}

    response = ops_client.get(page, query_string=query)

    assert response.status_code == 200, (page, query)


def test_a_search_for_a_superscript_digit_is_answered_with_the_inbox(
    ops_client: FlaskClient,
) -> None:
    for q in KNOWN:
        assert ops_client.get("/ops/", query_string={"q": q}).status_code == 200, q
