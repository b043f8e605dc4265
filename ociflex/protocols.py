"""The punch-out protocols ociflex speaks, for the parts that serve them all.

The customers package and the booking core know no protocol; the app hands them the protocols
from here (:func:`ociflex.create_app`), and the protocol packages import the core, never the
other way round.
"""

from ociflex.cxml.config import CXML
from ociflex.cxml.customer_section import CXML_SECTION
from ociflex.oci.config import OCI
from ociflex.oci.customer_section import OCI_SECTION

#: The protocols' parts of a customer file, in the order their problems are worded.
CUSTOMER_SECTIONS = (OCI_SECTION, CXML_SECTION)
#: The protocols by the names their users know (names, so never translated).
PROTOCOL_NAMES = {OCI: "SAP OCI", CXML: "cXML"}
