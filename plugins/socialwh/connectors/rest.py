"""What every REST platform client sets up the same way: a token that must be there, a base URL,
the Airflow connection it came from, the query parameters added to every call (the sandbox's
``sandbox_as_of``) and one :class:`HttpClient` with the platform's classifier and retry policy.
A client declares what is its own (headers, classifier, limits) in one :meth:`RestClient._connect`
call, and how its errors are told to the on-call in ``REWORD`` (:meth:`RestClient._request`);
:func:`within` checks a limit option and names it when it is out of range.

A plain REST connector's ``make_client`` is a declaration too: :func:`client_factory` builds the
client from the Airflow connection (host, password) and the platform's options, each an
:class:`Option` (option key, how it is read, its default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiClient, ApiError, Classifier, HttpClient, RetryPolicy


def within(label: str, name: str, value: int, low: int, high: int | None = None) -> int:
    """``value`` when ``low <= value (<= high)``, else a ValueError naming the platform's option."""
    if value < low or (high is not None and value > high):
        bound = f"within {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{label} {name} must be {bound}, got {value}")
    return value


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
                   credentials: Callable[[ConnectionInfo], Any] = _password) -> Callable[..., Any]:
    """The nightly job's ``make_client(conn, options, extra_params)``: ``cls(host, credentials,
    **options, extra_params=...)``; the credentials are the connection's password (an access
    token, which the client refuses when empty, naming the connection) unless ``credentials``
    reads them otherwise (X's OAuth 1.0a keys)."""

    def make_client(conn: ConnectionInfo, options: Mapping[str, Any],
                    extra_params: Mapping[str, str] | None) -> Any:
        kwargs = {o.arg: o.value(options, conn) for o in declared}
        return cls(conn.base_url, credentials(conn), **kwargs,
                   extra_params=dict(extra_params) if extra_params else None)

    make_client.__doc__ = f"The nightly job's entry point: a {getattr(cls, '__name__', 'client')} from the Airflow connection."
    return make_client


class RestClient(ApiClient):
    """Base of the token-authenticated REST clients (see the module docstring)."""

    base_url: str
    conn_id: str
    extra_params: dict[str, str]
    #: Errors told again for the on-call, ``(kind, template)``, the first matching kind winning: a template with
    #: ``{subject}`` (the account of the call), ``{conn_id}``, ``{said}`` (the platform's own
    #: message), ``{status}``, ``{code}``, ``{attempts}``, ``{client}`` (this client's attributes) and what
    #: the call passes as ``context`` (the path, the parameters sent, ...).
    #: A kind is an error class or a test of the error (X: a 403 whose code says "unknown account").
    REWORD: ClassVar[tuple[tuple[type[ApiError] | Callable[[ApiError], bool], str], ...]] = ()

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
