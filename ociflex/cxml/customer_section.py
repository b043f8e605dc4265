"""cXML's part of a customer file: the ``cxml`` section, and each field's ``extrinsic``.

```yaml
cxml:
  credentials:                        # the From credentials that identify this buyer (any one)
    - {domain: NetworkID, identity: AN01000012345}
  shared_secret_env: ACME_CXML_SECRET # or shared_secret_hash
  browser_form_posts:                 # allowed BrowserFormPost URLs: the rules of hook_urls
    - https://s1.ariba.example/Buyer/punchout
  item_extrinsics:                    # Extrinsic elements on each cart line: fixed or "{field}"
    CostCenter: "{cost_centre}"
  orders_without_shared_secret: false # true: OrderRequests may come without a SharedSecret
fields:
  cost_centre: {param: KOSTENPLAATS, extrinsic: CostCenter, required: true, editable: true}
```

A customer punches out with cXML, and sends purchase orders (OrderRequest), when its file has
the ``cxml`` section. Without ``browser_form_posts`` it sends orders only: an OCI customer whose
ERP sends its purchase orders by cXML.
"""

from collections.abc import Mapping

from ociflex.customers.checks import Checker
from ociflex.customers.model import Field
from ociflex.customers.sections.access import read_return_urls
from ociflex.customers.sections.cart import check_placeholders
from ociflex.customers.sections.fields import field_names
from ociflex.customers.sections.protocol import FileParts, ProtocolSection, SectionReading
from ociflex.customers.sections.secrets import no_secrets_here, read_secret
from ociflex.customers.yaml_nodes import item_path, key_path
from ociflex.cxml.config import CART_FIELDS, CXML, Credential, CxmlSettings

SECTION_KEYS = (
    "credentials",
    "shared_secret_env",
    "shared_secret_hash",
    "browser_form_posts",
    "item_extrinsics",
    "cart_field",
    "orders_without_shared_secret",
)
REQUIRED = {
    "credentials": "the From credentials of this buyer, e.g. "
    "credentials: [{domain: NetworkID, identity: AN01000012345}]",
}
CREDENTIAL_KEYS = ("domain", "identity")
#: The fields a setup request fills without an ``extrinsic``: from ``Contact role="endUser"``,
#: field name -> the Contact's child element that carries it.
FROM_CONTACT = {"email": "Email", "full_name": "Name"}
#: How the customer file calls the SharedSecret, for messages.
SECRET = ("shared_secret_env", "shared_secret_hash")


def read(parts: FileParts) -> SectionReading:
    check = parts.check
    extrinsics = _read_extrinsics(check, parts.field_specs)
    if "cxml" not in parts.top:
        return SectionReading(None)
    forbidden = {"shared_secret": no_secrets_here("shared_secret", *SECRET, "shared secret")}
    entries = check.mapping(
        parts.top["cxml"], "cxml", SECTION_KEYS, required=REQUIRED, forbidden=forbidden
    )
    if entries is None:
        return SectionReading(None)
    credentials = _read_credentials(check, entries["credentials"])
    secret = read_secret(
        check,
        entries,
        "cxml",
        SECRET,
        "the SharedSecret agreed with this buyer",
        "ACME_CXML_SECRET",
        parts.environ,
    )
    browser_form_posts = (
        read_return_urls(
            check, entries["browser_form_posts"], "cxml.browser_form_posts", "BrowserFormPost URL"
        )
        if "browser_form_posts" in entries
        else ()
    )
    item_extrinsics = _read_item_extrinsics(
        check, entries.get("item_extrinsics", {}), field_names(parts.top.get("fields"))
    )
    cart_field = check.choice(
        entries.get("cart_field", CART_FIELDS[0]), "cxml.cart_field", CART_FIELDS
    )
    orders_without_secret = check.boolean(
        entries.get("orders_without_shared_secret", False), "cxml.orders_without_shared_secret"
    )
    if browser_form_posts:
        # Only a section that punches out reads fields from setup requests.
        _check_every_required_field_is_filled(check, parts.fields, extrinsics)
    listed_none = "browser_form_posts" in entries and not browser_form_posts
    if (
        secret is None
        or not credentials
        or listed_none
        or None in (cart_field, orders_without_secret)
    ):
        return SectionReading(None)
    settings = CxmlSettings(
        credentials=credentials,
        shared_secret=secret,
        browser_form_posts=browser_form_posts,
        extrinsics=extrinsics,
        item_extrinsics=item_extrinsics,
        cart_field=cart_field,
        orders_without_shared_secret=orders_without_secret,
    )
    return SectionReading(settings)


CXML_SECTION = ProtocolSection(
    name=CXML,
    keys=("cxml",),
    field_keys=("extrinsic",),
    marker="cxml",
    how_to_use="cxml with browser_form_posts (cXML)",
    read=read,
)


def _read_credentials(check: Checker, value: object) -> tuple[Credential, ...]:
    credentials = []
    for index, item in enumerate(check.sequence(value, "cxml.credentials", non_empty=True) or []):
        path = item_path("cxml.credentials", index)
        entries = check.mapping(
            item,
            path,
            CREDENTIAL_KEYS,
            required={
                "domain": "the credential's domain as the buyer sends it, e.g. NetworkID, DUNS",
                "identity": "the identity in that domain, e.g. AN01000012345",
            },
        )
        if entries is None:
            continue
        domain = check.text(entries["domain"], key_path(path, "domain"))
        identity = check.text(entries["identity"], key_path(path, "identity"))
        for key, text in (("domain", domain), ("identity", identity)):
            if text is not None and not text.strip():
                check.report(key_path(path, key), "must not be empty; fill it in")
        if domain and domain.strip() and identity and identity.strip():
            credentials.append(Credential(domain.strip(), identity.strip()))
    return tuple(credentials)


def _read_extrinsics(
    check: Checker, specs: Mapping[str, Mapping[str, object]]
) -> dict[str, tuple[str, ...]]:
    """Field name -> the Extrinsic names (one, or a list) that carry it; a field whose entry
    has a mistake is reported and maps to no names."""
    extrinsics: dict[str, tuple[str, ...]] = {}
    for name, spec in specs.items():
        if "extrinsic" not in spec:
            continue
        path = key_path(key_path("fields", name), "extrinsic")
        value = spec["extrinsic"]
        items = value if isinstance(value, list) else [value]
        if not items:
            check.report(path, "the list is empty; name at least one Extrinsic")
        names = []
        for index, item in enumerate(items):
            item_at = item_path(path, index) if isinstance(value, list) else path
            if (text := check.string(item, item_at)) is not None:
                names.append(text.strip())
        extrinsics[name] = tuple(names)
    return extrinsics


def _read_item_extrinsics(check: Checker, value: object, field_names: list[str]) -> dict[str, str]:
    templates = {}
    for name, item in (check.entries(value, "cxml.item_extrinsics") or {}).items():
        if not name.strip():
            check.report("cxml.item_extrinsics", "an Extrinsic needs a name: remove the empty one")
            continue
        path = key_path("cxml.item_extrinsics", name)
        template = check.text(item, path)
        if template is None:
            continue
        check_placeholders(check, template, path, field_names)
        templates[name] = template
    return templates


def _check_every_required_field_is_filled(
    check: Checker, fields: Mapping[str, Field], extrinsics: Mapping[str, tuple[str, ...]]
) -> None:
    """A required field that no Extrinsic carries and the employee cannot fill in would refuse
    every setup request."""
    for name, field in fields.items():
        if name in FROM_CONTACT or not field.required or field.editable:
            continue
        if name not in extrinsics:
            check.report(
                key_path(key_path("fields", name), "extrinsic"),
                f"{name} is required, but nothing in a cXML setup request fills it: name the "
                "Extrinsic that carries it (extrinsic: CostCenter), or make it editable so that "
                "the employee fills it in",
            )
