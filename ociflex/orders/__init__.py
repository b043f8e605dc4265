"""Purchase orders from the customers' ERPs: taken in, matched to the requests they pay for,
and what operations must resolve. Knows no protocol: cXML reads its OrderRequest into a
:class:`~ociflex.orders.received.ReceivedOrder` (:mod:`ociflex.cxml.order_request`)."""
