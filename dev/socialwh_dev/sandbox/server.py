"""The offline stand-in for every platform API: one stdlib HTTP server, one mount per platform.

Why a real HTTP server and not mocks: connectors must be exercised through the same stack they
use in production (httpx, paging URLs, headers, status codes, broken connections), and the demo
needs something Airflow workers can reach. Each platform module (``socialwh_dev.sandbox.meta``, later
``googleads``, ``tiktok``, ...) exposes ``PREFIX`` and ``create_app(config)`` returning a
:class:`PlatformApp`; the server mounts it under ``/<PREFIX>``.

Faults (throttling, 5xx, dropped connections, truncated bodies) are injected per request from
``config.sandbox["faults"]`` with a seeded RNG, so a test can switch them on and still get a
reproducible run. Throttling and server errors are expressed in the platform's own contract
(the app's ``fault`` method); dropped connections and truncated bodies are transport-level.

How long a throttle locks the client out: by default each platform's real windows (Meta's
``estimated_time_to_regain_access`` of 0-2 minutes, TikTok's 5-minute QPM suspension, ...). With
``faults.throttle_wait_s: [lo, hi]`` every platform announces a lock-out of lo..hi seconds instead,
in its own header or envelope field and unit (a demo-sized API tells 1-2 s the way the real one
tells minutes); a unit too coarse for it (Meta's minutes) says 0 there, and a window the range
cannot hold (TikTok's QPM suspension) is not announced. Apps read it through :func:`throttle_wait`.

Run it: ``start_in_thread(config)`` in tests, ``python -m socialwh_dev.sandbox.server --port 8099``
as a background process.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from socialwh.config import Config, load_config

log = logging.getLogger(__name__)

#: Mounted besides the platforms: the ECB reference rates (finance, not a platform).
EXTRA_MODULES: tuple[str, ...] = ("socialwh_dev.sandbox.ecb",)


def platform_modules() -> tuple[str, ...]:
    """Every declared platform's sandbox (socialwh.platforms.<key>.PLATFORM.sandbox), then ECB."""
    from socialwh import registry  # noqa: PLC0415

    return (*(p.sandbox for p in registry.platforms().values() if p.sandbox), *EXTRA_MODULES)


def airflow_connections() -> dict[str, dict]:
    """conn_id -> {prefix, password/login/extra}: the local Airflow connection of every sandbox.

    The conn_id is the platform declaration's; the credentials are the sandbox module's own
    defaults (its CONNECTION), so the two cannot drift. Real deployments set AIRFLOW_CONN_*."""
    from socialwh import registry  # noqa: PLC0415

    out: dict[str, dict] = {}
    for p in registry.platforms().values():
        if p.sandbox:
            module = importlib.import_module(p.sandbox)
            out[p.conn_id] = {"prefix": module.PREFIX, **module.CONNECTION}
    for name in EXTRA_MODULES:
        module = importlib.import_module(name)
        out[module.CONN_ID] = {"prefix": module.PREFIX, **module.CONNECTION}
    return out


FAULT_KINDS: tuple[str, ...] = ("throttle", "server_error", "timeout", "truncated_body")
_FAULT_CONTEXT = threading.local()  # the throttle window of the request this thread answers


def throttle_window() -> tuple[int, int] | None:
    """The configured lock-out range (``faults.throttle_wait_s``) for the throttle being answered,
    or None when the platform's real windows apply."""
    return getattr(_FAULT_CONTEXT, "window", None)


def throttle_wait(rng: random.Random, real: Sequence[int]) -> int:
    """Seconds a throttle announces: drawn from the configured range, else one of the platform's
    ``real`` windows."""
    window = throttle_window()
    if window is None:
        return rng.choice(tuple(real))
    return rng.randint(*window)


def _window(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    lo, hi = (value, value) if isinstance(value, int | float) else tuple(value)
    if not 0 <= int(lo) <= int(hi):
        raise ValueError(f"sandbox faults: throttle_wait_s must be [lo, hi] seconds, got {value!r}")
    return int(lo), int(hi)
_SECRET_PARAM_RE = re.compile(r"((?:access_token|token|key|password)=)[^&\s]*", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One HTTP request as a platform app sees it (path is below the platform prefix)."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    root_url: str  # scheme://host[:port]/<prefix>, from the Host header, for absolute links

    @property
    def form(self) -> dict[str, str]:
        ctype = self.headers.get("content-type", "")
        if self.body and ctype.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return {}

    @property
    def params(self) -> dict[str, str]:
        """Query and form parameters together (Graph-style APIs accept both on POST)."""
        return {**self.query, **self.form}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[..., Response]


class Router:
    """Method + regex path routing; named groups become keyword arguments of the handler."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return decorator

    def dispatch(self, request: Request) -> Response | None:
        """The handler's response, or None when no route matches the path and method."""
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return handler(request, **match.groupdict())
        return None


class PlatformApp(Protocol):
    """What a platform module's ``create_app(config)`` returns."""

    prefix: str

    def handle(self, request: Request) -> Response:
        """Answer a request in the platform's contract (including its 404/error envelope)."""
        ...

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """A throttle or server_error response exactly as this platform sends one."""
        ...


@dataclass
class FunctionApp:
    """Mounts a plain ``handle(path, query) -> (status, headers, body)`` function.

    For sources without a platform error contract (static files such as the ECB rate history):
    throttling is a 429 with Retry-After and a server error a bare 503, as CDNs answer.
    """

    prefix: str
    function: Callable[[str, Mapping[str, str]], tuple[int, Mapping[str, str], bytes]]

    def handle(self, request: Request) -> Response:
        status, headers, body = self.function(request.path, request.query)
        return Response(status, body, dict(headers))

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        if kind == "throttle":
            return Response(429, b"Too Many Requests\n", {"Retry-After": "1"})
        return Response(503, b"Service Unavailable\n", {"Content-Type": "text/plain"})


class FaultInjector:
    """Decides per request whether to misbehave, from probabilities and a seeded RNG.

    One uniform draw per request picks at most one fault kind, so probabilities add up and a
    given seed replays the same sequence of faults for the same sequence of requests.
    """

    def __init__(
        self,
        probabilities: Mapping[str, float] | None = None,
        seed: int = 0,
        timeout_seconds: float = 2.0,
    ) -> None:
        self._lock = threading.Lock()
        self.probabilities: dict[str, float] = {}
        self.timeout_seconds = timeout_seconds
        self.throttle_wait_s: tuple[int, int] | None = None  # None: the platforms' real windows
        self.counts: dict[str, int] = {}
        self.configure(seed=seed, **dict(probabilities or {}))

    def configure(self, *, seed: int | None = None, **settings: float) -> None:
        """Replace the fault probabilities (unspecified kinds become 0) and optionally reseed;
        ``timeout_seconds`` and ``throttle_wait_s`` (None: real windows) stay unless given."""
        unknown = set(settings) - set(FAULT_KINDS) - {"timeout_seconds", "seed", "throttle_wait_s"}
        if unknown:
            raise ValueError(f"sandbox faults: unknown keys {sorted(unknown)}; use {FAULT_KINDS}")
        with self._lock:
            if "timeout_seconds" in settings:
                self.timeout_seconds = float(settings["timeout_seconds"])
            if "throttle_wait_s" in settings:
                self.throttle_wait_s = _window(settings["throttle_wait_s"])
            if "seed" in settings and seed is None:
                seed = int(settings["seed"])
            probabilities = {k: float(settings.get(k) or 0.0) for k in FAULT_KINDS}
            if sum(probabilities.values()) > 1.0:
                raise ValueError(f"sandbox faults: probabilities sum above 1: {probabilities}")
            self.probabilities = probabilities
            self.counts = dict.fromkeys(FAULT_KINDS, 0)
            self.requests = 0  # every request drawn for since the last configure(), faulted or not
            if seed is not None:
                self._rng = random.Random(seed)

    def draw(self) -> tuple[str | None, random.Random]:
        """The fault to inject for this request (or None), and an RNG for its details."""
        with self._lock:
            self.requests += 1
            u = self._rng.random()
            detail_rng = random.Random(self._rng.getrandbits(64))
            cumulative = 0.0
            for kind in FAULT_KINDS:
                cumulative += self.probabilities[kind]
                if u < cumulative:
                    self.counts[kind] += 1
                    return kind, detail_rng
            return None, detail_rng


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: Config) -> None:
        self.config = config
        self.apps: dict[str, PlatformApp] = {}
        faults = dict(config.sandbox.get("faults") or {})
        seed = int(faults.pop("seed", config.sandbox.get("seed", 0)))
        self.faults = FaultInjector(faults, seed=seed)
        if "community_spikes" in config.sandbox:  # issue #14: a burst of negative comments
            from socialwh_dev.sandbox import community
            community.configure_spikes(config.sandbox.get("community_spikes") or [])
        super().__init__(address, _RequestHandler)

    def mount(self, app: PlatformApp) -> None:
        if app.prefix in self.apps:
            raise ValueError(f"sandbox: prefix /{app.prefix} is already mounted")
        self.apps[app.prefix] = app

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def redact(text: str) -> str:
    """Request lines carry access tokens in their query strings: never log them."""
    return _SECRET_PARAM_RE.sub(r"\1REDACTED", text)


class _RequestHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    # Keep-alive plus separate header/body writes would hit Nagle + delayed ACK (~40 ms a call).
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox %s - %s", self.address_string(), redact(format % args))

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        path = split.path
        if path == "/healthz":
            self._send(Response.json({"status": "ok", "platforms": sorted(self.server.apps)}))
            return
        prefix, _, rest = path.lstrip("/").partition("/")
        app = self.server.apps.get(prefix)
        if app is None:
            self._send(Response.json({"error": f"no sandbox platform at /{prefix}"}, 404))
            return
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(
            method=self.command,
            path="/" + rest,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            root_url=f"http://{host}/{prefix}",
        )
        kind, rng = self.server.faults.draw()
        if kind == "timeout":
            time.sleep(self.server.faults.timeout_seconds)
            self.close_connection = True  # drop it without a response, as a dead upstream does
            return
        if kind in ("throttle", "server_error"):
            _FAULT_CONTEXT.window = self.server.faults.throttle_wait_s
            try:
                response = app.fault(kind, request, rng)
            finally:
                _FAULT_CONTEXT.window = None
            self._send(response)
            return
        try:
            response = app.handle(request)
        except Exception:
            log.exception("sandbox /%s crashed on %s %s", prefix, self.command, redact(self.path))
            response = Response.json({"error": "sandbox internal error"}, 500)
        if kind == "truncated_body" and len(response.body) > 1:
            cut = rng.randint(1, len(response.body) - 1)
            response = Response(response.status, response.body[:cut], response.headers)
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


def build_server(
    config: Config,
    host: str = "127.0.0.1",
    port: int = 0,
    modules: tuple[str, ...] | None = None,
) -> SandboxServer:
    """A server with every platform module mounted, bound but not yet serving."""
    server = SandboxServer((host, port), config)
    for name in modules if modules is not None else platform_modules():
        module = importlib.import_module(name)
        server.mount(module.create_app(config))
    return server


def start_in_thread(config: Config, port: int = 0) -> tuple[SandboxServer, str]:
    """Serve on 127.0.0.1 in a daemon thread; returns the server and its root URL.

    Platform base URLs are ``f"{root}/{prefix}"`` (e.g. ``.../meta``). Stop it with
    ``server.shutdown(); server.server_close()``. ``server.faults.configure(...)`` switches
    faults at run time.
    """
    server = build_server(config, port=port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="socialwh-sandbox",
        daemon=True,
    )
    thread.start()
    return server, server.base_url


def serve(config: Config, host: str = "127.0.0.1", port: int = 8099) -> None:
    """Serve in the foreground until interrupted (the demo runs this as a background process)."""
    server = build_server(config, host=host, port=port)
    print(
        f"socialwh sandbox listening on {server.base_url} "
        f"(platforms: {', '.join('/' + p for p in sorted(server.apps))})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m socialwh_dev.sandbox.server",
        description="Offline stand-in for the platform APIs (see config 'sandbox:').",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--config", default=None, help="config file (default: warehouse.yml)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    serve(load_config(args.config), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    # Re-enter through the package module so platform modules and this CLI share one copy of
    # Request/Response (running as __main__ would otherwise create a second one).
    from socialwh_dev.sandbox import server as _server

    sys.exit(_server.main())
