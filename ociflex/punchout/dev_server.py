"""The development server's own ERP simulator, allowed as every customer's ERP, on whatever
host and port the server runs.

Contract: with ``OCIFLEX_ENV=development`` only, a punch-out may return its cart to the
simulator of the very server it came to (``/dev/`` on the origin of the request), and the
simulator's pages may frame the punch-out. A loopback server (``127.0.0.1``, ``localhost``,
``[::1]``) is one machine under three names: each serves as the others' cross-site origin
(the simulator frames ``localhost`` from ``127.0.0.1`` to act as a real ERP's foreign site),
so all three count, on the request's port. ``scripts/serve`` on port 5077 therefore works
as on 5000, for the demo customer and for a customer being onboarded alike, without its file
naming the simulator.

Threat: a return URL is where the employee's browser posts the cart (names, e-mail addresses),
so nothing here may widen a customer's list outside development: in testing and production
the customer is returned unchanged, and in development only ociflex's own origin is added,
which a crafted call-up cannot point elsewhere (the Host of a request a browser sends is the
server it was sent to).
"""

from urllib.parse import urlsplit

from flask import current_app, request

from ociflex.customers.model import Customer

#: Where the simulator's pages and cart pages live on every ociflex server.
SIMULATOR_PATH = "/dev/"
#: The names of this machine that the simulator uses for one another.
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def served_here(customer: Customer) -> Customer:
    """``customer`` as this request's server serves it: in development, with the server's own
    simulator allowed as its ERP (see the module doc); otherwise unchanged."""
    if current_app.config["OCIFLEX_ENV"] != "development":
        return customer
    origins = own_origins(request.scheme, request.host)
    return customer.with_return_urls(tuple(origin + SIMULATOR_PATH for origin in origins), origins)


def own_origins(scheme: str, host: str) -> tuple[str, ...]:
    """The origins of the server reached as ``host`` (``name[:port]``): itself, and for a
    loopback name the other loopback names on the same port."""
    parts = urlsplit(f"//{host}")
    name = parts.hostname or ""
    shown = f"[{name}]" if ":" in name else name
    if shown not in LOOPBACK:
        return (f"{scheme}://{host.lower()}",)
    port = f":{parts.port}" if parts.port is not None else ""
    return tuple(f"{scheme}://{alias}{port}" for alias in LOOPBACK)
