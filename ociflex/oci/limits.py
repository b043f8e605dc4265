"""The NEW_ITEM fields of an OCI basket line and their maximum lengths (SAP OCI 4.0/5.0).

The lengths are the ones SAP documents; a buyer whose system accepts more (typically for the
CUST_FIELDs) can raise them per customer with the ``max_lengths`` key of the customer file.
"""

from typing import Final

#: NEW_ITEM field name -> maximum length in characters; ``None`` means unlimited.
NEW_ITEM_MAX_LENGTHS: Final[dict[str, int | None]] = {
    "DESCRIPTION": 40,
    "MATNR": 40,
    "QUANTITY": 15,
    "UNIT": 3,
    "PRICE": 15,
    "PRICEUNIT": 5,
    "CURRENCY": 5,
    "LEADTIME": 5,
    "VENDOR": 10,
    "VENDORMAT": 40,
    "MANUFACTCODE": 10,
    "MANUFACTMAT": 40,
    "MATGROUP": 10,
    "SERVICE": 1,
    "CONTRACT": 10,
    "CONTRACT_ITEM": 5,
    "EXT_QUOTE_ID": 35,
    "EXT_QUOTE_ITEM": 10,
    "EXT_PRODUCT_ID": 40,
    "EXT_SCHEMA_TYPE": 10,
    "EXT_CATEGORY_ID": 60,
    "EXT_CATEGORY": 40,
    "ATTACHMENT": 255,
    "ATTACHMENT_TITLE": 255,
    "CUST_FIELD1": 10,
    "CUST_FIELD2": 10,
    "CUST_FIELD3": 10,
    "CUST_FIELD4": 20,
    "CUST_FIELD5": 50,
    "ITEM_TYPE": 1,
    "PARENT_ID": 5,
    "LONGTEXT": None,
}

#: Fields that ociflex fills itself from the booking; a customer file may not map them.
COMPUTED_FIELDS: Final[frozenset[str]] = frozenset(
    {"DESCRIPTION", "QUANTITY", "PRICE", "PRICEUNIT", "EXT_PRODUCT_ID", "EXT_QUOTE_ID", "LONGTEXT"}
)

#: Fields a customer file may set in its ``basket`` section (lower-case keys there).
MAPPABLE_FIELDS: Final[frozenset[str]] = frozenset(NEW_ITEM_MAX_LENGTHS) - COMPUTED_FIELDS
