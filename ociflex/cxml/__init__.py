"""cXML PunchOut (../shared/cxml/PROTOCOL.md): pure functions over plain data that read the
buyer's documents into a punch-out session and write ociflex's answers and carts. The web layer
is :mod:`ociflex.punchout.cxml_endpoint` and :mod:`ociflex.punchout.cxml_start`."""
