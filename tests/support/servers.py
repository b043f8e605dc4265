"""Real servers for the browser tests: ociflex under gunicorn, and a stand-in ERP on another site.

:class:`GunicornServer` runs ``gunicorn app:app`` exactly as the ``Procfile`` does (real worker
processes, the real WSGI entry point, settings from environment variables), on a free port of
127.0.0.1. :class:`StandInErp` plays the buyer's ERP in the same browser: a page that punches out
to ociflex (in an iframe or as the whole window) and the HOOK_URL that receives the basket. It
serves on 127.0.0.1 while the browser reaches ociflex as ``localhost``: two different sites, so a
framed punch-out is cross-site, as it is between a real ERP and ociflex.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from ociflex.oci.form_encoding import decode_form
from tests.support.postgres import free_port
from tests.support.service import Service

ROOT = Path(__file__).resolve().parents[2]

#: As in the Procfile: the path without the query string (a GET call-up carries the password).
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'

# Does not open a proxy from the environment for requests to our own loopback servers.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


class GunicornServer(Service):
    """``gunicorn app:app`` on 127.0.0.1, as a context manager.

    The environment is the test process's, updated with ``environ`` (``OCIFLEX_ENV`` defaults to
    ``testing``). stdout and stderr (access log, error log, ociflex's own log) go to
    ``log_path``, or to a temporary file that is removed on exit, its text still readable with
    :meth:`log_text`. Raises RuntimeError, with the log's tail, when the server does not answer
    HTTP within ``startup_timeout`` seconds. ``options`` are more gunicorn command-line options.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        workers: int = 2,
        log_path: Path | None = None,
        startup_timeout: float = 15.0,
        stop_timeout: float = 10.0,
        options: Sequence[str] = (),
    ) -> None:
        self.environ = {**os.environ, "OCIFLEX_ENV": "testing", **environ, "PYTHONUNBUFFERED": "1"}
        self.workers = workers
        self.options = tuple(options)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._own_log = log_path is None
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="ociflex-gunicorn-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
        self.log_path = log_path
        self._final_log: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return self._port

    def url(self, host: str = "localhost", path: str = "") -> str:
        """The server's address as the browser uses it: ``localhost`` by default, a different
        site from the stand-in ERP's ``127.0.0.1``."""
        return f"http://{host}:{self.port}{path}"

    def log_text(self) -> str:
        if self._final_log is not None:
            return self._final_log
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 5.0) -> str:
        """The log, once ``text`` occurs ``count`` times in it (gunicorn writes the access log
        line after the response, so a test may see the page before the line)."""
        deadline = time.monotonic() + timeout
        while (log := self.log_text()).count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{text!r} occurs {log.count(text)} time(s) in the log, not {count}\n"
                    f"--- log tail ---\n{_tail(log)}"
                )
            time.sleep(0.05)
        return log

    def start(self) -> None:
        """Start gunicorn and wait until it answers; retries on another port if one is taken
        between choosing it and binding it."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        for _attempt in range(3):
            self._port = free_port()
            attempt_log_start = len(self.log_text())
            self._spawn()
            if self._wait_until_ready(attempt_log_start):
                return
            # Nothing to finish gracefully; and while gunicorn retries binding a port that is
            # in use (5 times, a second apart) it does not act on SIGTERM.
            self._kill(graceful=False)
            if "Connection in use" not in self.log_text()[attempt_log_start:]:
                break
        message = (
            f"gunicorn did not answer on 127.0.0.1:{self._port} within {self.startup_timeout}s\n"
            f"--- log tail ({self.log_path}) ---\n{_tail(self.log_text())}"
        )
        self.stop()
        raise RuntimeError(message)

    def _spawn(self) -> None:
        command = [
            *(sys.executable, "-m", "gunicorn", "app:app", "--config", "python:ociflex.serving"),
            *("--bind", f"127.0.0.1:{self._port}", "--workers", str(self.workers)),
            *("--graceful-timeout", "5"),
            # gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default: one
            # path for every server of the user, so concurrent servers would take it from
            # each other.
            "--no-control-socket",
            *("--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT),
            *("--error-logfile", "-"),
            *self.options,
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the workers go with it
            )

    def _wait_until_ready(self, log_start: int) -> bool:
        """True once gunicorn has bound the port (its log after ``log_start`` says so: until
        then, whatever answers on the port is someone else) and any HTTP answer (a 404 is one)
        comes back; False when gunicorn exits, cannot bind the port or the time is up."""
        assert self._process is not None
        listening = f"Listening at: http://127.0.0.1:{self._port} "
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            log = self.log_text()[log_start:]
            if self._process.poll() is not None or "Connection in use" in log:
                return False
            if listening not in log:
                time.sleep(0.05)
                continue
            try:
                with _NO_PROXY.open(f"http://127.0.0.1:{self._port}/", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def worker_pids(self) -> list[int]:
        """The process ids of gunicorn's workers (the master's children) now."""
        if self._process is None:
            return []
        pid = self._process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in children.split()]

    def reload(self, timeout: float = 15.0) -> None:
        """SIGHUP, as the operations runbook does after a customer file changed: gunicorn
        starts new workers (which read the files again) and stops the old ones. Returns once
        none of the old workers is left and as many new ones run."""
        assert self._process is not None
        old = set(self.worker_pids())
        self._process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = set(self.worker_pids())
            if not now & old and len(now) == self.workers:
                return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not replace its workers\n{_tail(self.log_text())}")

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful shutdown), then SIGKILL to the whole process group."""
        self._kill()
        self._final_log = self.log_text()
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    def _kill(self, graceful: bool = True) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if graceful:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout)
                return
            except subprocess.TimeoutExpired:
                pass
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def __repr__(self) -> str:
        return f"<GunicornServer 127.0.0.1:{self._port} log={self.log_path}>"


# --- The stand-in ERP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedBasket:
    """One post to the stand-in ERP's HOOK_URL, as the ERP read it."""

    #: The query string of the URL posted to: the HOOK_URL's own, if the browser kept it.
    query: str
    #: (name, value) pairs of the body, in posting order.
    fields: list[tuple[str, str]]
    #: The charset the body decoded with (``utf-8``, ``windows-1252``, ``unknown``).
    charset: str

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]

    def __getitem__(self, name: str) -> str:
        """The value of field ``name``, which must have been posted exactly once."""
        values = self.values(name)
        if len(values) != 1:
            raise KeyError(f"{name!r} was posted {len(values)} times, not once")
        return values[0]

    @property
    def names(self) -> list[str]:
        return [name for name, _value in self.fields]


_LAUNCH_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Stand-in ERP: shopping cart</title></head>
<body>
<h1>Stand-in ERP: shopping cart</h1>
<form id="callup" method="{method}" action="{action}"{target} accept-charset="utf-8">
{inputs}
<p><button type="submit">Punch out to FlexFleet</button></p>
</form>
{frame}
{script}
</body>
</html>
"""

_HOOK_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Stand-in ERP: {what} received</title>
<style>td {{ white-space: pre-wrap; }}</style></head>
<body>
<h1>{What} received</h1>
<p id="query">Query string: <code>{query}</code></p>
<p id="charset">Charset: {charset}</p>
<table id="fields">
<thead><tr><th>Name</th><th>Value</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


class StandInErp(Service):
    """A buyer's ERP in miniature, on ``http://127.0.0.1:<port>``; a context manager.

    - ``GET /launch?mode=iframe|top|popup&target=<~TARGET>&method=post|get&auto=1|0&name=<n>``:
      the ERP's page that punches out to ``<ociflex_url>/oci/<customer>`` with ``callup`` plus
      a fresh HOOK_URL (``/hook?sap-client=100&sid=<random>``, kept in :attr:`hook_urls`) and,
      if ``target`` is given, ``~TARGET``. ``mode=iframe`` (the default) loads ociflex into an
      ``<iframe name="catalogue">`` on the page, ``mode=top`` replaces the page,
      ``mode=popup`` opens it in a new window (``target="_blank"``). The form posts itself by
      script unless ``auto=0``; its button is the fallback without JavaScript. ``name`` sets
      the window's name by script (a frame target that a popup can name).
    - ``GET /nested?target=<~TARGET>``: an ERP page whose ``<iframe name="middle">`` holds the
      ERP's own ``/launch?mode=iframe`` page, which frames ociflex: ERP page, ERP frame,
      ociflex frame, for the basket to land in the middle one (``~TARGET=_parent``).
    - ``POST /hook``: records the basket in :attr:`baskets` and answers "Basket received"
      with a table of the fields.
    - ``GET /cookie-probe?frame=set|echo``: a page that frames ``http://localhost:<port>`` (the
      same server, another site): ``set`` answers with a ``SameSite=None; Secure`` cookie,
      ``echo`` records the Cookie header it got in :attr:`probe_cookies`. Whether the cookie
      comes back shows whether the browser accepts third-party cookies.

    As a cXML buyer (Ariba, Coupa): :meth:`set_up` posts a PunchOutSetupRequest to ociflex
    server to server and returns the StartPage URL; ``GET /shop?start=<StartPage URL>`` is the
    buyer's page that frames it (``<iframe name="catalogue">``); ``POST /cart`` is the
    BrowserFormPost URL (:meth:`new_cart_url`): it records the cart in :attr:`carts` and
    answers "Cart received".

    ``ociflex_url`` may be set after the ERP started (ociflex's customer file needs the ERP's
    port first).
    """

    def __init__(
        self,
        customer: str,
        callup: Mapping[str, str],
        ociflex_url: str | None = None,
        *,
        host: str = "127.0.0.1",
        hook_origin: str | None = None,
    ) -> None:
        """``host``: the loopback address to serve on (``127.0.0.2`` is another site on
        Linux). ``hook_origin``: where the HOOK_URLs point, when not to this ERP itself."""
        self.customer = customer
        self.host = host
        self.hook_origin = hook_origin
        self.callup = dict(callup)
        self.ociflex_url = ociflex_url
        self.baskets: list[ReceivedBasket] = []
        self.hook_urls: list[str] = []
        self.carts: list[ReceivedBasket] = []
        self.cart_urls: list[str] = []
        self.probe_cookies: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in ERP has not been started")
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "") -> str:
        return f"{self.origin}{path}"

    def new_hook_url(self) -> str:
        """A HOOK_URL with the ERP's own query string: a client and an escaped session id."""
        origin = self.hook_origin or self.origin
        hook_url = f"{origin}/hook?sap-client=100&sid={secrets.token_hex(6)}%2F%3D%3D"
        self.hook_urls.append(hook_url)
        return hook_url

    def new_cart_url(self) -> str:
        """A BrowserFormPost URL with the buyer's own session id in its query string."""
        cart_url = f"{self.origin}/cart?session={secrets.token_hex(6)}"
        self.cart_urls.append(cart_url)
        return cart_url

    def set_up(self, document: bytes) -> str:
        """Post a PunchOutSetupRequest to ociflex, server to server; the StartPage URL of
        its answer (an AssertionError with ociflex's Status when it refused)."""
        request = urllib.request.Request(  # noqa: S310 (our own http URL)
            f"{self.ociflex_url}/cxml/{self.customer}",
            data=document,
            headers={"Content-Type": "text/xml; charset=UTF-8"},
        )
        try:
            with _NO_PROXY.open(request, timeout=10) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(error.read().decode("utf-8", "replace")) from None
        match = re.search(rb"<URL>([^<]+)</URL>", answer)
        assert match, answer.decode("utf-8", "replace")
        return html.unescape(match[1].decode("utf-8"))

    def wait_for_carts(self, count: int, timeout: float = 5.0) -> list[ReceivedBasket]:
        deadline = time.monotonic() + timeout
        while len(self.carts) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} cart(s), got {len(self.carts)}")
            time.sleep(0.02)
        return list(self.carts)

    def wait_for_baskets(self, count: int, timeout: float = 5.0) -> list[ReceivedBasket]:
        deadline = time.monotonic() + timeout
        while len(self.baskets) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} basket(s), got {len(self.baskets)}")
            time.sleep(0.02)
        return list(self.baskets)

    def start(self) -> None:
        self._server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stand-in-erp", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __repr__(self) -> str:
        port = self._server.server_address[1] if self._server else None
        baskets = len(self.baskets)
        return f"<StandInErp {self.host}:{port} customer={self.customer} {baskets} basket(s)>"

    # --- pages ---

    def launch_page(self, args: Mapping[str, str]) -> str:
        if not self.ociflex_url:
            raise RuntimeError("StandInErp.ociflex_url is not set")
        mode = args.get("mode", "iframe")
        method = args.get("method", "post")
        if mode not in ("iframe", "top", "popup") or method not in ("post", "get"):
            raise ValueError(f"unknown mode {mode!r} or method {method!r}")
        params = {**self.callup, "HOOK_URL": self.new_hook_url()}
        if "target" in args:
            params["~TARGET"] = args["target"]
        inputs = "\n".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in params.items()
        )
        auto = args.get("auto", "1") == "1"
        script = 'document.getElementById("callup").submit();' if auto else ""
        if "name" in args:
            script = f"window.name = {json.dumps(args['name'])};{script}"
        form_target = {"iframe": "catalogue", "popup": "_blank"}.get(mode)
        return _LAUNCH_PAGE.format(
            method=method,
            action=html.escape(f"{self.ociflex_url}/oci/{self.customer}"),
            target=f' target="{form_target}"' if form_target else "",
            inputs=inputs,
            frame=(
                '<iframe name="catalogue" title="FlexFleet catalogue" '
                'style="width: 100%; height: 800px"></iframe>'
                if mode == "iframe"
                else ""
            ),
            script=f"<script>{script}</script>" if script else "",
        )

    def nested_page(self, args: Mapping[str, str]) -> str:
        src = html.escape(f"/launch?{urlencode({'mode': 'iframe', **args})}")
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Stand-in ERP: portal</title></head><body><h1>Stand-in ERP: portal</h1>"
            f'<iframe name="middle" title="ERP shopping cart" src="{src}" '
            'style="width: 100%; height: 1000px"></iframe></body></html>'
        )

    def receive_basket(self, query: str, body: bytes) -> str:
        return self._receive(self.baskets, "basket", query, body)

    def shop_page(self, args: Mapping[str, str]) -> str:
        """The buyer's page that frames a StartPage, as Coupa or Ariba frame a catalogue."""
        src = html.escape(args["start"])
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Stand-in buyer: requisition</title></head><body>"
            "<h1>Stand-in buyer: requisition</h1>"
            f'<iframe name="catalogue" title="FlexFleet catalogue" src="{src}" '
            'style="width: 100%; height: 900px"></iframe></body></html>'
        )

    def receive_cart(self, query: str, body: bytes) -> str:
        # A cart is one long base64 field: its start is enough to see on a screenshot.
        return self._receive(self.carts, "cart", query, body, shown=80)

    @staticmethod
    def _receive(
        into: list[ReceivedBasket], what: str, query: str, body: bytes, shown: int | None = None
    ) -> str:
        """Record a posted basket or cart and answer with a page that lists its fields."""
        pairs, charset = decode_form(body)
        into.append(ReceivedBasket(query, pairs, charset))
        rows = "\n".join(
            f"<tr><th>{html.escape(name)}</th><td>{html.escape(value[:shown])}</td></tr>"
            for name, value in pairs
        )
        return _HOOK_PAGE.format(
            what=what, What=what.capitalize(), query=html.escape(query), charset=charset, rows=rows
        )

    def cookie_probe_page(self, frame: str) -> str:
        if frame not in ("set", "echo"):
            raise ValueError(f"unknown probe frame {frame!r}")
        src = f"http://localhost:{self.port}/cookie-probe/{frame}"
        return f'<!doctype html><title>probe</title><iframe id="probe" src="{src}"></iframe>'


def _handler_for(erp: StandInErp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the tests assert on what was received instead

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            args = dict(parse_qsl(url.query))
            if url.path == "/launch":
                self._answer(200, erp.launch_page(args))
            elif url.path == "/nested":
                self._answer(200, erp.nested_page(args))
            elif url.path == "/shop":
                self._answer(200, erp.shop_page(args))
            elif url.path == "/cookie-probe":
                self._answer(200, erp.cookie_probe_page(args.get("frame", "")))
            elif url.path == "/favicon.ico":
                self._answer(204, "")  # no 404 in the browser console
            elif url.path == "/cookie-probe/set":
                cookie = "erp_probe=1; SameSite=None; Secure; Path=/"
                self._answer(200, "cookie set", [("Set-Cookie", cookie)])
            elif url.path == "/cookie-probe/echo":
                cookies = self.headers.get("Cookie", "")
                erp.probe_cookies.append(cookies)
                self._answer(200, f"cookies: [{html.escape(cookies)}]")
            else:
                self._answer(404, "not found")

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/hook":
                self._answer(200, erp.receive_basket(url.query, body))
            elif url.path == "/cart":
                self._answer(200, erp.receive_cart(url.query, body))
            else:
                self._answer(404, "not found")

        def _answer(self, status: int, page: str, headers: Sequence[tuple[str, str]] = ()) -> None:
            data = page.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


__all__ = ["GunicornServer", "ReceivedBasket", "StandInErp"]
