"""Credentials that renew themselves: OAuth refresh flows, the token store, expiry checks.

What each platform's contract allows (../shared/api-contracts-2.md, section 3):

========================  ======================================================================
flow (``Platform.oauth``)  what the nightly job does
========================  ======================================================================
``google``                 Google Ads, YouTube: ``POST https://oauth2.googleapis.com/token`` form
                           ``client_id, client_secret, refresh_token, grant_type=refresh_token``
                           -> ``access_token, expires_in (~3599)``; the refresh token does not
                           rotate. ``400 invalid_grant`` = revoked / unused 6 months / "Testing"
                           consent screen: a human must re-authorize.
``linkedin``               LinkedIn Ads and organic (programmatic refresh tokens):
                           ``POST https://www.linkedin.com/oauth/v2/accessToken`` form
                           ``grant_type=refresh_token, refresh_token, client_id, client_secret``
                           -> ``access_token, expires_in (60 days), refresh_token,
                           refresh_token_expires_in``. The refresh token dies 365 days after the
                           FIRST authorization, refreshing does not extend it: its absolute expiry
                           is stored and alerted on ``warn_days`` (14) before.
                           ``introspectToken`` (``active``, ``status``, ``expires_at``) is the
                           nightly check of a token.
``tiktok_organic``         TikTok Business Accounts API: ``POST {base}/open_api/v1.3/tt_user/
                           oauth2/refresh_token/`` JSON ``client_id, client_secret,
                           grant_type=refresh_token, refresh_token`` -> ``data: access_token,
                           expires_in (24 h), refresh_token (ROTATES), refresh_token_expires_in``.
                           The new refresh token is persisted before the new access token is used.
``snapchat``, ``pinterest`` Declared by their connectors (``OAUTH_FLOW``): the standard refresh
                           grant (Snapchat: client in the form, ~1 h tokens; Pinterest: client in
                           HTTP Basic, continuous 60-day refresh tokens, a new one each refresh).
                           A platform with a plain RFC 6749 flow needs only such a declaration.
``meta``                   Meta, Facebook Pages, Instagram: long-lived tokens cannot be refreshed
                           unattended. ``GET {base}/{ver}/debug_token?input_token=..&access_token=
                           {app_id}|{app_secret}`` every night: ``data.is_valid``,
                           ``data.expires_at`` / ``data_access_expires_at`` (0 = never); alert
                           ``warn_days`` before.
========================  ======================================================================

Connections
-----------
A connection is *managed* when its extra holds ``refresh_token`` (google, linkedin,
tiktok_organic, snapchat, pinterest; plus ``client_id``/``client_secret``) or ``app_id``/``app_secret`` (meta: the
debug_token check). Anything else keeps working exactly as before with the connection's static
``password`` (the default demo). Optional extra: ``token_url``, ``introspect_url``,
``debug_token_url``, ``refresh_token_expires_at`` (ISO date-time or epoch: LinkedIn's hard limit
when first authorized), ``token_store`` (see below), ``refresh_margin_seconds``.

Where refreshed secrets live (the token store)
----------------------------------------------
Airflow 3 tasks cannot write connections (the Task SDK only reads them through the API server),
so the rotating state (access token, its absolute expiry, the current refresh token and its
expiry) lives in a :class:`TokenStore`, keyed by connection id. Two implementations, chosen by
the connection extra ``token_store`` or ``$SOCIALWH_TOKEN_STORE`` (default ``file``):

* ``file`` (default): one JSON file per connection under ``$SOCIALWH_TOKEN_DIR`` (default
  ``.local/tokens``; in the team deployment a volume shared by the workers), directory 0700,
  files 0600, written to a temporary file, fsynced and renamed over the old one (a crash leaves
  the old or the new state, never half of one), under an exclusive ``flock`` so the mapped tasks
  of one platform refresh once: the first takes the lock and refreshes, the others wait, reread
  and find a fresh token. Works with no API server (tests, the CLI) and supports locking, which a
  rotating refresh token needs: two processes refreshing with the same rotating token at once
  would leave one of them with a dead token.
* ``variable``: the Airflow Variable ``socialwh_oauth_token__<conn_id>`` (JSON), through the
  Task SDK (``Variable.set`` is allowed in tasks since Airflow 3.0.1: it goes through the
  Execution API, so Celery/Kubernetes workers without a shared disk share it; the key holds
  ``token``, which Airflow masks in the UI and logs; encrypted at rest with the Fernet key).
  Variables have no lock: refreshes are serialized by the nightly ``check_credentials`` task,
  which runs before the mapped extracts, and a process-local lock.

Neither is in the warehouse: no table, and so nothing ``bi_reader`` can read, holds a secret.
The store is seeded from the connection (``password`` = access token, extra ``refresh_token``);
when a human re-authorizes and puts a NEW refresh token into the connection, the store notices
(a digest of the seed, never the token itself) and starts again from it.

Secrets never reach logs or exception messages: every message goes through :func:`scrub` of the
values involved and :func:`socialwh.connectors.http.redact_text`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiError, AuthError, redact_text, scrub

log = logging.getLogger(__name__)

STORE_ENV = "SOCIALWH_TOKEN_STORE"
DIR_ENV = "SOCIALWH_TOKEN_DIR"
VARIABLE_PREFIX = "socialwh_oauth_token__"
DEFAULT_MARGIN_SECONDS = 15 * 60   # refresh when less than this is left
DEFAULT_WARN_DAYS = 14             # alert this long before a credential that cannot renew expires
TIMEOUT = 30.0

Clock = Callable[[], float]


def _now() -> float:
    return time.time()


#: The clock every function here reads unless given ``now``; tests of several nights replace it.
clock: Clock = _now


# --- state and stores -------------------------------------------------------------------------

@dataclass
class TokenState:
    """The current credential of one connection. Times are epoch seconds (UTC); None = unknown."""

    access_token: str = ""
    expires_at: float | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: float | None = None
    refreshed_at: float | None = None
    seed: str = ""                   # digest of the connection's refresh token this state grew from

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TokenState:
        raw = json.loads(text)
        return cls(**{k: raw.get(k) for k in cls.__dataclass_fields__ if k in raw})

    def __repr__(self) -> str:  # never print a secret by accident
        return (f"TokenState(expires_at={self.expires_at}, refresh_token_expires_at="
                f"{self.refresh_token_expires_at}, refreshed_at={self.refreshed_at})")


class TokenStore(Protocol):
    kind: str

    def load(self, key: str) -> TokenState | None: ...

    def save(self, key: str, state: TokenState) -> None: ...

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]: ...


def _safe_key(key: str) -> str:
    if not key or not all(c.isalnum() or c in "-_." for c in key) or key.startswith("."):
        raise ValueError(f"token store: invalid connection id {key!r}")
    return key


class FileTokenStore:
    """One 0600 JSON file per connection; atomic replace; ``flock`` across processes."""

    kind = "file"

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        if directory is None:
            from socialwh.paths import LOCAL_DIR  # noqa: PLC0415

            directory = os.environ.get(DIR_ENV) or LOCAL_DIR / "tokens"
        self.directory = Path(directory)
        self._thread_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _ensure_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)

    def path(self, key: str) -> Path:
        return self.directory / f"{_safe_key(key)}.json"

    def load(self, key: str) -> TokenState | None:
        try:
            return TokenState.from_json(self.path(key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save(self, key: str, state: TokenState) -> None:
        self._ensure_dir()
        target = self.path(key)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=self.directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(state.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # the rename itself durable too
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        self._ensure_dir()
        with self._guard:
            thread_lock = self._thread_locks.setdefault(key, threading.Lock())
        with thread_lock:  # flock is per open file: threads of one process need their own lock
            fd = os.open(self.directory / f"{_safe_key(key)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


class VariableTokenStore:
    """The Airflow Variable ``socialwh_oauth_token__<conn_id>`` via the Task SDK (no cross-process lock)."""

    kind = "variable"
    _locks: ClassVar[dict[str, threading.Lock]] = {}

    def load(self, key: str) -> TokenState | None:
        from airflow.sdk import Variable  # noqa: PLC0415

        value = Variable.get(VARIABLE_PREFIX + _safe_key(key), default=None)
        return TokenState.from_json(value) if value else None

    def save(self, key: str, state: TokenState) -> None:
        from airflow.sdk import Variable  # noqa: PLC0415

        Variable.set(VARIABLE_PREFIX + _safe_key(key), state.to_json(),
                     description="socialwh: OAuth state of this connection (managed by the nightly job)")

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._locks.setdefault(key, threading.Lock()):
            yield


class MemoryTokenStore:
    """For tests: a dict."""

    kind = "memory"

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> TokenState | None:
        value = self.states.get(key)
        return TokenState.from_json(value) if value else None

    def save(self, key: str, state: TokenState) -> None:
        self.states[key] = state.to_json()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._lock:
            yield


def token_store(extra: Mapping[str, Any] | None = None) -> TokenStore:
    """The store named by the connection extra ``token_store``, else ``$SOCIALWH_TOKEN_STORE``."""
    kind = str((extra or {}).get("token_store") or os.environ.get(STORE_ENV) or "file").lower()
    if kind == "file":
        return FileTokenStore((extra or {}).get("token_dir"))
    if kind == "variable":
        return VariableTokenStore()
    raise ValueError(f"unknown token store {kind!r}: use 'file' or 'variable'")


# --- errors -------------------------------------------------------------------------------------

class ReauthorizeError(AuthError):
    """The credential can no longer renew itself: a human must re-authorize (the message says how)."""


def _epoch(value: Any) -> float | None:
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit():
        return float(text)
    parsed = datetime.fromisoformat(text)  # 3.11 reads a trailing Z
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def iso(epoch: float | None) -> str:
    return "never" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _digest(value: str | None) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else ""


# --- flows --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flow:
    """How one family of platforms renews (or cannot renew) its credential."""

    name: str
    label: str
    renewable: bool
    reauthorize: str               # what a human does, {conn_id} filled in
    expired_markers: tuple[str, ...] = ()   # substrings of an AuthError saying "expired", lower case
    expired_codes: frozenset = field(default_factory=frozenset)
    # The RFC 6749 refresh grant (section 6), for a flow with no refresher of its own in
    # REFRESHERS: POST form ``grant_type=refresh_token&refresh_token=..`` to ``token_url``
    # (``{base}`` = the connection's base URL; extra.token_url overrides it), the client
    # authenticated in the form body (``client_id``/``client_secret``) or with HTTP Basic.
    token_url: str = ""
    client_auth: str = "body"      # body | basic

    def reauthorize_text(self, conn_id: str) -> str:
        return self.reauthorize.format(conn_id=conn_id)

    def is_expired(self, error: ApiError) -> bool:
        """Does this AuthError say the ACCESS token expired (worth one refresh and one retry)?"""
        if error.code in self.expired_codes:
            return True
        text = f"{error.code} {error.message} {json.dumps(error.details, default=str)}".lower()
        return any(m in text for m in self.expired_markers)


GOOGLE = Flow(
    "google", "Google", True,
    "re-authorize the Google account (OAuth consent for the app, project published 'In production') "
    "and put the new refresh token into extra.refresh_token of the Airflow connection {conn_id}",
    expired_markers=("oauth_token_expired", "unauthenticated", "invalid_token", "autherror"),
    token_url="https://oauth2.googleapis.com/token",  # refresh tokens do not rotate
)
LINKEDIN = Flow(
    "linkedin", "LinkedIn", True,
    "re-authorize the LinkedIn member in the app's OAuth flow (the refresh token lasts 365 days "
    "from the first authorization) and put the new refresh token into extra.refresh_token (and "
    "its expiry into extra.refresh_token_expires_at) of the Airflow connection {conn_id}",
    expired_markers=("expired_access_token", "65601", "expired"),
    expired_codes=frozenset({65601, "EXPIRED_ACCESS_TOKEN"}),
    token_url="https://www.linkedin.com/oauth/v2/accessToken",
)
TIKTOK_ORGANIC = Flow(
    "tiktok_organic", "TikTok", True,
    "re-authorize the TikTok account holder (TikTok Accounts OAuth, /tt_user/oauth2/token/) and put "
    "the new refresh token into extra.refresh_token of the Airflow connection {conn_id}",
    expired_markers=("expired",),
    expired_codes=frozenset({40102, 40105}),
)
META = Flow(
    "meta", "Meta", False,
    "log in again as the token's user, exchange a new long-lived token (fb_exchange_token) or "
    "issue a system-user token, and put it into the password of the Airflow connection {conn_id}",
)
FLOWS = {f.name: f for f in (GOOGLE, LINKEDIN, TIKTOK_ORGANIC, META)}


def flow_for(platform: str) -> Flow | None:
    """The flow the platform's declaration names (``Platform.oauth``), or None (static).

    A flow shared by several platforms is one of FLOWS; a platform's own flow is declared in its
    connector module as ``OAUTH_FLOW`` (so adding a platform edits no list here)."""
    import importlib  # noqa: PLC0415

    from socialwh import registry  # noqa: PLC0415

    try:
        declared = registry.platform(platform)
    except registry.RegistryError:
        return None
    name = declared.oauth
    if not name:
        return None
    if name in FLOWS:
        return FLOWS[name]
    own = getattr(importlib.import_module(declared.connector_module), "OAUTH_FLOW", None)
    if not isinstance(own, Flow) or own.name != name:
        raise ValueError(f"platform {platform} declares oauth={name!r}, which is neither a shared flow "
                         f"({', '.join(sorted(FLOWS))}) nor the OAUTH_FLOW of {declared.connector_module}")
    return own


def managed(flow: Flow | None, conn: ConnectionInfo) -> bool:
    extra = conn.extra or {}
    if flow is None:
        return False
    if flow.renewable:
        return bool(extra.get("refresh_token"))
    return bool(extra.get("app_id") and extra.get("app_secret"))


@dataclass
class Grant:
    access_token: str
    expires_in: float | None
    refresh_token: str | None = None
    refresh_token_expires_in: float | None = None


def _post(http: httpx.Client, url: str, *, form=None, json_body=None) -> tuple[int, Any]:
    response = http.post(url, data=form, json=json_body, headers={"Accept": "application/json"})
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def _token_url(conn: ConnectionInfo, default: str) -> str:
    return str((conn.extra or {}).get("token_url") or default)


class RefreshRefused(Exception):
    """The token endpoint refused the grant (``error`` = invalid_grant, ...): terminal."""

    def __init__(self, error: str, description: str = "") -> None:
        self.error, self.description = error, description
        super().__init__(f"{error}: {description}" if description else error)


class RefreshFailed(Exception):
    """The token endpoint could not be reached or answered 5xx: worth the task's retry."""


def _check_http(status: int, body: Any) -> None:
    if status >= 500 or status in (408, 429):
        raise RefreshFailed(f"token endpoint answered HTTP {status}")
    if status >= 400 or not isinstance(body, dict) or not body.get("access_token"):
        body = body if isinstance(body, dict) else {}
        # OAuth's {error, error_description}; Pinterest answers {code, message}
        err = body.get("error") or (f"code {body['code']}" if "code" in body else None)
        desc = body.get("error_description") or body.get("message")
        raise RefreshRefused(str(err or f"HTTP {status}"), str(desc or ""))


def _client_credentials(conn: ConnectionInfo) -> tuple[str, str]:
    extra = conn.extra or {}
    client_id, secret = str(extra.get("client_id") or ""), str(extra.get("client_secret") or "")
    if not client_id or not secret:
        raise RefreshRefused("missing client credentials",
                             "set extra.client_id and extra.client_secret (the OAuth app's) of the connection")
    return client_id, secret


def refresh_standard(flow: Flow) -> Callable[[httpx.Client, ConnectionInfo, str], Grant]:
    """The RFC 6749 refresh grant of ``flow`` (Google, LinkedIn, and connector-owned flows).

    A response without ``refresh_token`` keeps ours (Google's do not rotate); one with it is
    persisted before use (LinkedIn, Snapchat, Pinterest's continuous refresh tokens)."""

    def refresh(http: httpx.Client, conn: ConnectionInfo, refresh_token: str) -> Grant:
        client_id, secret = _client_credentials(conn)
        url = _token_url(conn, flow.token_url.format(base=conn.base_url.rstrip("/")))
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        headers = {"Accept": "application/json"}
        if flow.client_auth == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        else:
            form.update(client_id=client_id, client_secret=secret)
        response = http.post(url, data=form, headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = None
        _check_http(response.status_code, body)
        return Grant(body["access_token"], _num(body.get("expires_in")), body.get("refresh_token"),
                     _num(body.get("refresh_token_expires_in")))

    return refresh


def refresh_tiktok_organic(http: httpx.Client, conn: ConnectionInfo, refresh_token: str) -> Grant:
    extra = conn.extra or {}
    default = f"{conn.base_url.rstrip('/')}/open_api/v1.3/tt_user/oauth2/refresh_token/"
    status, body = _post(http, _token_url(conn, default), json_body={
        "client_id": extra.get("client_id", ""), "client_secret": extra.get("client_secret", ""),
        "grant_type": "refresh_token", "refresh_token": refresh_token})
    if status >= 500 or status in (408, 429) or body is None:
        raise RefreshFailed(f"token endpoint answered HTTP {status}")
    code = body.get("code")
    if code in (40100, 40016, 50000, 50002, 60001):
        raise RefreshFailed(f"TikTok token endpoint code {code}")
    if status >= 400 or code not in (0, "0"):
        raise RefreshRefused(f"code {code}", str(body.get("message") or ""))
    data = body.get("data") or {}
    return Grant(data["access_token"], _num(data.get("expires_in")), data.get("refresh_token"),
                 _num(data.get("refresh_token_expires_in")))


#: Refreshers that are not the standard grant of their flow (and the place tests replace them).
REFRESHERS: dict[str, Callable[[httpx.Client, ConnectionInfo, str], Grant]] = {
    "google": refresh_standard(GOOGLE), "linkedin": refresh_standard(LINKEDIN),
    "tiktok_organic": refresh_tiktok_organic,
}


def refresher(flow: Flow) -> Callable[[httpx.Client, ConnectionInfo, str], Grant]:
    found = REFRESHERS.get(flow.name)
    if found is not None:
        return found
    if not flow.token_url:
        raise ValueError(f"OAuth flow {flow.name} has neither a refresher nor a token_url")
    return refresh_standard(flow)


def _num(value: Any) -> float | None:
    if value in (None, ""):
        return None
    return float(value)


# --- the manager --------------------------------------------------------------------------------

@dataclass
class TokenManager:
    """Current credentials of one managed connection: refresh before expiry or on demand."""

    platform: str
    conn_id: str
    conn: ConnectionInfo
    flow: Flow
    store: TokenStore
    margin_seconds: float = DEFAULT_MARGIN_SECONDS
    http: httpx.Client | None = None
    now: Clock | None = None

    def _clock(self) -> float:
        return (self.now or clock)()

    def _secrets(self, *states: TokenState | None) -> list[str]:
        extra = self.conn.extra or {}
        out = [self.conn.password or "", str(extra.get("client_secret") or ""),
               str(extra.get("refresh_token") or ""), str(extra.get("app_secret") or "")]
        for s in states:
            if s is not None:
                out += [s.access_token, s.refresh_token or ""]
        return [x for x in out if x]

    def reauthorize_error(self, why: str, *states: TokenState | None, status: int | None = None,
                          code: Any = None) -> ReauthorizeError:
        text = scrub(redact_text(why), self._secrets(*states))
        return ReauthorizeError(
            self.platform, status, code,
            f"{self.flow.label} credentials of the Airflow connection {self.conn_id} cannot renew "
            f"({text}): {self.flow.reauthorize_text(self.conn_id)}", "")

    def _seeded(self) -> TokenState:
        extra = self.conn.extra or {}
        return TokenState(
            access_token=self.conn.password or "",
            expires_at=_epoch(extra.get("access_token_expires_at")),
            refresh_token=str(extra.get("refresh_token") or "") or None,
            refresh_token_expires_at=_epoch(extra.get("refresh_token_expires_at")),
            seed=_digest(str(extra.get("refresh_token") or "")),
        )

    def current(self) -> TokenState:
        """The stored state; the connection's when nothing is stored or a human re-seeded it."""
        stored = self.store.load(self.conn_id)
        seed = _digest(str((self.conn.extra or {}).get("refresh_token") or ""))
        if stored is None or (seed and stored.seed != seed):
            return self._seeded()
        return stored

    def _fresh(self, state: TokenState) -> bool:
        if not state.access_token:
            return False
        if state.expires_at is None:
            # Unknown expiry: only a token we obtained ourselves is trusted (it always has one);
            # a seeded one is refreshed at once, so its expiry becomes known.
            return state.refreshed_at is not None
        return state.expires_at - self._clock() > self.margin_seconds

    def access_token(self, *, force: bool = False, failed_token: str | None = None) -> str:
        """A valid access token: refreshed (once, under the store's lock) when near expiry.

        ``force`` refreshes even a token that looks fresh (the API said it expired), unless
        another task refreshed it meanwhile (the stored token differs from ``failed_token``)."""
        state = self.current()
        if not force and self._fresh(state):
            return state.access_token
        with self.store.lock(self.conn_id):
            state = self.current()  # another task may have refreshed while we waited
            if force and failed_token and state.access_token != failed_token and self._fresh(state):
                return state.access_token
            if not force and self._fresh(state):
                return state.access_token
            return self._refresh(state).access_token

    def _refresh(self, state: TokenState) -> TokenState:
        now = self._clock()
        if not state.refresh_token:
            raise self.reauthorize_error("no refresh token", state)
        if state.refresh_token_expires_at is not None and state.refresh_token_expires_at <= now:
            raise self.reauthorize_error(f"the refresh token expired {iso(state.refresh_token_expires_at)}", state)
        owns = self.http is None
        http = self.http or httpx.Client(timeout=TIMEOUT)
        try:
            grant = refresher(self.flow)(http, self.conn, state.refresh_token)
        except RefreshRefused as exc:
            raise self.reauthorize_error(f"the token endpoint refused the refresh: {exc}", state,
                                         status=400, code=exc.error) from None
        except (RefreshFailed, httpx.HTTPError) as exc:
            # Not terminal: the task's retry tries again. Not a ReauthorizeError.
            raise ApiError(self.platform, None, "token_refresh",
                           scrub(redact_text(f"token refresh failed: {exc}"), self._secrets(state)),
                           "") from None
        finally:
            if owns:
                http.close()
        new = replace(
            state,
            access_token=grant.access_token,
            expires_at=now + grant.expires_in if grant.expires_in else None,
            refresh_token=grant.refresh_token or state.refresh_token,
            refresh_token_expires_at=(now + grant.refresh_token_expires_in
                                      if grant.refresh_token_expires_in else state.refresh_token_expires_at),
            refreshed_at=now,
        )
        # Persist BEFORE anyone uses the new access token: with a rotating refresh token the old
        # one is dead now, and a crash after an API call but before saving would lose the new one.
        self.store.save(self.conn_id, new)
        log.info("%s: refreshed the access token of connection %s (expires %s, refresh token %s%s)",
                 self.platform, self.conn_id, iso(new.expires_at),
                 "rotated" if grant.refresh_token and grant.refresh_token != state.refresh_token else "kept",
                 f", refresh token expires {iso(new.refresh_token_expires_at)}"
                 if new.refresh_token_expires_at else "")
        return new


def manager(platform: str, conn_id: str, conn: ConnectionInfo, *, store: TokenStore | None = None,
            http: httpx.Client | None = None, now: Clock | None = None) -> TokenManager | None:
    """A TokenManager for a managed connection of a renewable flow, else None (static token)."""
    flow = flow_for(platform)
    if flow is None or not flow.renewable or not managed(flow, conn):
        return None
    extra = conn.extra or {}
    margin = float(extra.get("refresh_margin_seconds") or DEFAULT_MARGIN_SECONDS)
    return TokenManager(platform, conn_id, conn, flow, store or token_store(extra), margin, http, now)


def with_token(conn: ConnectionInfo, token: str) -> ConnectionInfo:
    return replace(conn, password=token)


def prepare_connection(platform: str, conn_id: str, conn: ConnectionInfo, **kwargs: Any) -> ConnectionInfo:
    """The connection with a currently valid access token as its password (refreshed if due).

    A connection without refresh settings is returned as it is (its static token)."""
    mgr = manager(platform, conn_id, conn, **kwargs)
    return conn if mgr is None else with_token(conn, mgr.access_token())


def run_with_credentials(platform: str, conn_id: str, conn: ConnectionInfo, work: Callable[[ConnectionInfo], Any],
                         **kwargs: Any) -> Any:
    """``work(connection)`` with a valid token; on a 401 saying "expired": refresh once, retry once.

    An AuthError that remains becomes a :class:`ReauthorizeError` saying what to re-authorize."""
    flow = flow_for(platform)
    mgr = manager(platform, conn_id, conn, **kwargs)
    current = conn if mgr is None else with_token(conn, mgr.access_token())
    try:
        return work(current)
    except ReauthorizeError:
        raise
    except AuthError as exc:
        if flow is None:
            raise
        if mgr is None or not flow.is_expired(exc):
            raise _reauth(flow, platform, conn_id, exc) from exc
        log.warning("%s: the API says the access token of %s expired; refreshing once", platform, conn_id)
        retry = with_token(conn, mgr.access_token(force=True, failed_token=current.password))
    try:
        return work(retry)
    except ReauthorizeError:
        raise
    except AuthError as exc:
        raise _reauth(flow, platform, conn_id, exc) from exc


def _reauth(flow: Flow, platform: str, conn_id: str, exc: AuthError) -> ReauthorizeError:
    return ReauthorizeError(
        platform, exc.status, exc.code,
        f"{flow.label} rejected the credentials of the Airflow connection {conn_id} ({exc.message}): "
        f"{flow.reauthorize_text(conn_id)}", exc.url, details=exc.details)


# --- nightly checks of credentials that cannot renew -------------------------------------------

@dataclass
class CredentialStatus:
    platform: str
    conn_id: str
    flow: str
    ok: bool                          # usable tonight
    expires_at: float | None = None   # when a human must act at the latest (access or refresh token)
    what: str = ""                    # which credential expires ("access token", "refresh token")
    alert: bool = False               # expired, invalid, or expiring within warn_days
    message: str = ""
    refreshed: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["expires_at"] = iso(self.expires_at) if self.expires_at else None
        return out


def check_credentials(platform: str, conn_id: str, conn: ConnectionInfo, *, warn_days: int = DEFAULT_WARN_DAYS,
                      store: TokenStore | None = None, http: httpx.Client | None = None,
                      now: Clock | None = None) -> CredentialStatus | None:
    """The nightly check of one connection (None: nothing to check, a static token).

    Renewable flows are refreshed when due (once, before the extracts start) and their refresh
    token's hard expiry compared with ``warn_days``; Meta asks ``debug_token``. Never raises."""
    flow = flow_for(platform)
    if flow is None or not managed(flow, conn):
        return None
    when = now or clock
    horizon = when() + warn_days * 86400
    status = CredentialStatus(platform, conn_id, flow.name, ok=True)
    try:
        if flow.renewable:
            mgr = manager(platform, conn_id, conn, store=store, http=http, now=now)
            before = mgr.current().refreshed_at
            mgr.access_token()
            state = mgr.current()
            status.refreshed = state.refreshed_at != before
            status.expires_at, status.what = state.refresh_token_expires_at, "refresh token"
        else:
            status.expires_at, status.what, valid, reason = _debug_token(conn, http)
            if not valid:
                status.ok, status.alert = False, True
                status.message = (f"{flow.label} access token of the Airflow connection {conn_id} is not valid "
                                  f"({reason}): {flow.reauthorize_text(conn_id)}")
                return status
    except ReauthorizeError as exc:
        status.ok, status.alert, status.message = False, True, exc.message
        return status
    except Exception as exc:  # noqa: BLE001 - a check must not fail the night; the extract will tell
        status.message = f"could not check the credentials of {conn_id}: {type(exc).__name__}: " + scrub(
            redact_text(str(exc)), [conn.password or "", str((conn.extra or {}).get("app_secret") or "")])
        log.warning("%s: %s", platform, status.message)
        return status
    if status.expires_at is not None and status.expires_at <= horizon:
        days = max(0, int((status.expires_at - when()) // 86400))
        status.alert = True
        status.ok = status.expires_at > when()
        status.message = (f"{flow.label} {status.what} of the Airflow connection {conn_id} expires "
                          f"{iso(status.expires_at)} (in {days} days) and cannot be renewed automatically: "
                          f"{flow.reauthorize_text(conn_id)}")
    return status


def _meta_graph_version() -> str:
    """The Graph version configured for Meta (config api_versions), for debug_token."""
    from socialwh.config import load_config  # noqa: PLC0415

    pinned = load_config().api_versions.get("meta")
    return pinned.version if pinned else "v27.0"


def _debug_token(conn: ConnectionInfo, http: httpx.Client | None) -> tuple[float | None, str, bool, str]:
    """Meta ``debug_token``: (earliest expiry, which one, is_valid, reason)."""
    extra = conn.extra or {}
    version = str(extra.get("api_version") or _meta_graph_version())
    url = str(extra.get("debug_token_url") or f"{conn.base_url.rstrip('/')}/{version}/debug_token")
    owns = http is None
    client = http or httpx.Client(timeout=TIMEOUT)
    try:
        response = client.get(url, params={
            "input_token": conn.password or "",
            "access_token": f"{extra.get('app_id')}|{extra.get('app_secret')}"})
    finally:
        if owns:
            client.close()
    body = response.json()
    if response.status_code >= 400 or "data" not in body:
        err = (body.get("error") or {}) if isinstance(body, dict) else {}
        raise RuntimeError(f"debug_token answered HTTP {response.status_code} code {err.get('code')}")
    data = body["data"]
    candidates = [(_epoch(data.get("expires_at")), "access token"),
                  (_epoch(data.get("data_access_expires_at")), "data access")]
    known = [(t, w) for t, w in candidates if t]
    expires_at, what = min(known) if known else (None, "access token")
    reason = ""
    if not data.get("is_valid"):
        err = data.get("error") or {}
        reason = f"debug_token: is_valid=false, code {err.get('code')} subcode {err.get('subcode')}: " \
                 f"{err.get('message') or 'invalid'}"
    return expires_at, what, bool(data.get("is_valid")), reason
