"""What every REST platform client sets up the same way: a token that must be there, a base URL,
the Airflow connection it came from, the query parameters added to every call (the sandbox's
``sandbox_as_of``) and one :class:`HttpClient` with the platform's classifier and retry policy.
A client declares what is its own (headers, classifier, limits) in one :meth:`RestClient._connect`
call, and how its errors are told to the on-call in ``REWORD`` (:meth:`RestClient._request`);
:func:`within` checks a limit option and names it when it is out of range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from socialwh.connectors.http import ApiClient, ApiError, Classifier, HttpClient, RetryPolicy


def within(label: str, name: str, value: int, low: int, high: int | None = None) -> int:
    """``value`` when ``low <= value (<= high)``, else a ValueError naming the platform's option."""
    if value < low or (high is not None and value > high):
        bound = f"within {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{label} {name} must be {bound}, got {value}")
    return value


class RestClient(ApiClient):
    """Base of the token-authenticated REST clients (see the module docstring)."""

    base_url: str
    conn_id: str
    extra_params: dict[str, str]
    #: Errors told again for the on-call, ``(kind, template)``, the first matching kind winning: a template with
    #: ``{subject}`` (the account of the call), ``{conn_id}``, ``{said}`` (the platform's own
    #: message), ``{status}``, ``{attempts}`` and ``{client}`` (this client's attributes).
    REWORD: ClassVar[tuple[tuple[type[ApiError], str], ...]] = ()

    def _connect(self, platform: str, label: str, base_url: str, access_token: str, *, conn_id: str,
                 classify: Classifier, retry: RetryPolicy, timeout: float | httpx.Timeout,
                 headers: Mapping[str, str] | None = None, client: httpx.Client | None = None,
                 extra_params: Mapping[str, str] | None = None, token_help: str = "") -> None:
        """Refuse an empty token (naming the connection to fix), then set the shared state."""
        if not access_token:
            raise ValueError(f"{label}: no access token: set the password of the Airflow connection "
                             f"{conn_id}{token_help}")
        self.base_url = base_url.rstrip("/")
        self.conn_id = conn_id
        self.extra_params = dict(extra_params or {})
        self._http = HttpClient(platform, classify=classify, retry=retry, timeout=timeout,
                                headers=headers, secrets=[access_token], client=client)

    def _request(self, method: str, url: str | httpx.URL, *, subject: str,
                 params: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, decode: Callable[[bytes], Any] | None = None) -> Any:
        """One logical call (retried by the HttpClient); a failure of a kind in ``REWORD`` is
        raised again with its template's message, naming ``subject`` and the connection."""
        try:
            return self._http.request_json(method, url, params=params, data=data, headers=headers,
                                           decode=decode)
        except ApiError as exc:
            for kind, template in self.REWORD:
                if isinstance(exc, kind):
                    raise exc.with_message(template.format(
                        subject=subject, conn_id=self.conn_id, said=exc.message, status=exc.status,
                        attempts=exc.attempts, client=self)) from None
            raise

    @property
    def retry(self) -> RetryPolicy:
        return self._http.retry
