"""What every REST platform client sets up the same way: a token that must be there, a base URL,
the Airflow connection it came from, the query parameters added to every call (the sandbox's
``sandbox_as_of``) and one :class:`HttpClient` with the platform's classifier and retry policy.
A client declares what is its own (headers, classifier, limits) in one :meth:`RestClient._connect`
call, and how its errors are told to the on-call in ``REWORD`` (:meth:`RestClient._request`);
:func:`within` checks a limit option and names it when it is out of range.

A plain REST connector's ``make_client`` is a declaration too: :func:`client_factory` builds the
client from the Airflow connection (host, password) and the platform's options, each an
:class:`Option` (option key, how it is read, its default).

A plain REST client is a declaration as well: its class names the platform (``PLATFORM``,
``LABEL``), its URL root (``ROOT``: ``"{base_url}/{api_version}/{path}"``), its headers, its
classifier and retry policy, its settings with their defaults (``SETTINGS``: the keywords of the
constructor, the first ones also positional) and the ranges the API allows for them (``LIMITS``,
each a :class:`Limit`), and its list endpoints' paging style (``PAGING``, a
:mod:`socialwh.connectors.paging` style); the shared :meth:`RestClient.__init__` and
:meth:`RestClient._paged` do the rest, and ``_setup`` holds what is the platform's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiClient, ApiError, Classifier, HttpClient, RetryPolicy
from socialwh.connectors.paging import pages


def within(label: str, name: str, value: int, low: int, high: int | None = None) -> int:
    """``value`` when ``low <= value (<= high)``, else a ValueError naming the platform's option."""
    if value < low or (high is not None and value > high):
        bound = f"within {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{label} {name} must be {bound}, got {value}")
    return value


@dataclass(frozen=True)
class Limit:
    """A client setting the API bounds: ``low <= value (<= high)``, told as option ``name``."""

    setting: str
    low: int
    high: int | None = None
    name: str = ""


@dataclass(frozen=True)
class Option:
    """One keyword of a client read from ``platforms.<key>``: ``read(options.get(key, default))``,
    or, without a ``key``, ``read(options, conn)`` (a keyword made of several options, or read
    from the Airflow connection's extra)."""

    arg: str
    key: str | None = None
    read: Callable[..., Any] = str
    default: Any = None

    def value(self, options: Mapping[str, Any], conn: ConnectionInfo) -> Any:
        if self.key is None:
            return self.read(options, conn)
        return self.read(options.get(self.key, self.default))


def option(key: str, read: Callable[[Any], Any] = str, default: Any = None, *, arg: str = "") -> Option:
    """The client's keyword ``arg`` (default: the option's own name) from option ``key``."""
    return Option(arg or key, key, read, default)


def _password(conn: ConnectionInfo) -> str:
    return conn.password or ""


def client_factory(cls: Callable[..., Any], *declared: Option,
                   credentials: Callable[[ConnectionInfo], Any] = _password,
                   then: Callable[[Any, Mapping[str, Any]], None] | None = None) -> Callable[..., Any]:
    """The nightly job's ``make_client(conn, options, extra_params)``: ``cls(host, credentials,
    **options, extra_params=...)``; the credentials are the connection's password (an access
    token, which the client refuses when empty, naming the connection) unless ``credentials``
    reads them otherwise (X's OAuth 1.0a keys); ``then(client, options)`` sets up the rest (the
    organic connectors' comment options, socialwh.connectors.comments.configure)."""

    def make_client(conn: ConnectionInfo, options: Mapping[str, Any],
                    extra_params: Mapping[str, str] | None) -> Any:
        kwargs = {o.arg: o.value(options, conn) for o in declared}
        client = cls(conn.base_url, credentials(conn), **kwargs,
                     extra_params=dict(extra_params) if extra_params else None)
        if then is not None:
            then(client, options)
        return client

    make_client.__doc__ = f"The nightly job's entry point: a {getattr(cls, '__name__', 'client')} from the Airflow connection."
    return make_client


class RestClient(ApiClient):
    """Base of the token-authenticated REST clients (see the module docstring)."""

    PLATFORM: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""
    DEFAULT_CONN_ID: ClassVar[str] = ""
    ROOT: ClassVar[str] = "{base_url}/{path}"
    HEADERS: ClassVar[Mapping[str, str]] = {"Authorization": "Bearer {token}"}
    TOKEN_HELP: ClassVar[str] = ""
    TIMEOUT: ClassVar[float] = 120.0
    SETTINGS: ClassVar[Mapping[str, Any]] = {}
    LIMITS: ClassVar[tuple[Limit, ...]] = ()
    PAGING: ClassVar[Any] = None
    RETRY: ClassVar[RetryPolicy] = RetryPolicy(max_attempts=6, base_delay=1.0, max_backoff=60.0, max_wait=120.0)
    classify: ClassVar[Classifier]

    base_url: str
    conn_id: str
    extra_params: dict[str, str]
    #: Errors told again for the on-call, ``(kind, template)``, the first matching kind winning: a template with
    #: ``{subject}`` (the account of the call), ``{conn_id}``, ``{said}`` (the platform's own
    #: message), ``{status}``, ``{code}``, ``{attempts}``, ``{client}`` (this client's attributes) and what
    #: the call passes as ``context`` (the path, the parameters sent, ...).
    #: A kind is an error class or a test of the error (X: a 403 whose code says "unknown account").
    REWORD: ClassVar[tuple[tuple[type[ApiError] | Callable[[ApiError], bool], str], ...]] = ()

    def __init__(self, base_url: str, access_token: str, *args: Any, retry: RetryPolicy | None = None,
                 timeout: float | None = None, client: httpx.Client | None = None,
                 extra_params: Mapping[str, str] | None = None, conn_id: str | None = None,
                 **settings: Any) -> None:
        """The declared client: ``SETTINGS`` from ``args`` (in their order) and keywords, the
        platform's own ``_check`` of them, the token checked and the HttpClient set up
        (:meth:`_connect`, with the declared ``HEADERS``), ``LIMITS`` checked, then the platform's own
        ``_setup``."""
        names = list(self.SETTINGS)
        if len(args) > len(names) or set(settings) - set(names):
            raise TypeError(f"{type(self).__name__}: unexpected settings {args or ''} "
                            f"{sorted(set(settings) - set(names))}")
        settings.update(zip(names, args, strict=False))
        for name, default in self.SETTINGS.items():
            setattr(self, name, settings.get(name, default))
        self.conn_id = conn_id or self.DEFAULT_CONN_ID
        self._check()
        self._connect(self.PLATFORM, self.LABEL, base_url, access_token,
                      conn_id=self.conn_id, classify=self.classify,
                      retry=retry or self.RETRY, timeout=timeout or self.TIMEOUT,
                      headers={k: v.format(token=access_token, **vars(self)) for k, v in self.HEADERS.items()},
                      client=client, extra_params=extra_params, token_help=self.TOKEN_HELP)
        for limit in self.LIMITS:
            setattr(self, limit.setting, within(self.LABEL, limit.name or limit.setting,
                                                getattr(self, limit.setting), limit.low, limit.high))
        self._setup()

    def _check(self) -> None:
        """What a client checks of its settings before it connects (none by default)."""

    def _setup(self) -> None:
        """What a client checks or derives beyond its declared settings (none by default)."""

    def _url(self, path: str) -> str:
        """The URL of an API ``path`` below the declared ``ROOT``."""
        return self.ROOT.format(path=path.lstrip("/"), **vars(self))

    def _paged(self, path: str, params: Mapping[str, Any], subject: str, *, what: str = "",
               size: int | None = None, items: Callable[[Any], Any] | None = None) -> Any:
        """Every item of a list endpoint, page by page in the declared ``PAGING`` style; each
        page is one ``self._get(path or URL, query, subject)``; ``size`` (default the client's
        ``page_size``, 0: none sent) and ``items(body)`` (an endpoint's own envelope) override."""
        style, url = self.PAGING, self._url(path)
        what = what or f"{path} for {style.subject} {subject}"
        size = getattr(self, "page_size", 0) if size is None else size

        def fetch(key: Any) -> tuple[Any, Any]:
            body = self._get(*style.request(path, params, key, size), subject)
            got = items(body) if items else style.items(body, key, platform=self.PLATFORM, what=what, url=url)
            return got, style.next(body, key)

        return pages(fetch, style.first, platform=self.PLATFORM, what=what, url=url)

    def _get(self, path: str, params: Mapping[str, Any] | None, subject: str) -> Any:
        return self._request("GET", self._url(path), subject=subject, params={**self.extra_params, **(params or {})})

    def _connect(self, platform: str, label: str, base_url: str, access_token: str, *, conn_id: str,
                 classify: Classifier, retry: RetryPolicy, timeout: float | httpx.Timeout,
                 headers: Mapping[str, str] | None = None, client: httpx.Client | None = None,
                 extra_params: Mapping[str, str] | None = None, token_help: str = "",
                 secrets: Sequence[str] = ()) -> None:
        """Refuse an empty token (naming the connection to fix), then set the shared state."""
        if not access_token:
            raise ValueError(f"{label}: no access token: set the password of the Airflow connection "
                             f"{conn_id}{token_help}")
        self.base_url = base_url.rstrip("/")
        self.conn_id = conn_id
        self._token = access_token
        self.extra_params = dict(extra_params or {})
        self._http = HttpClient(platform, classify=classify, retry=retry, timeout=timeout,
                                headers=headers, secrets=[access_token, *secrets], client=client)

    def _request(self, method: str, url: str | httpx.URL, *, subject: str,
                 params: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None,
                 decode: Callable[[bytes], Any] | None = None) -> Any:
        """One logical call (retried by the HttpClient); a failure of a kind in ``REWORD`` is
        raised again with its template's message, naming ``subject`` and the connection."""
        try:
            return self._http.request_json(method, url, params=params, data=data, headers=headers,
                                           decode=decode)
        except ApiError as exc:
            for kind, template in self.REWORD:
                if isinstance(exc, kind) if isinstance(kind, type) else kind(exc):
                    raise exc.with_message(template.format(
                        subject=subject, conn_id=self.conn_id, said=exc.message, status=exc.status, code=exc.code or "",
                        attempts=exc.attempts, client=self, **(context or {}))) from None
            raise

    @property
    def retry(self) -> RetryPolicy:
        return self._http.retry
