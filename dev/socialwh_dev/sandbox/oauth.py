"""Expiring tokens and the token endpoints of the sandboxes, in each platform's own contract.

Every OAuth sandbox (google_ads, youtube, linkedin, linkedin_organic, tiktok_organic, meta,
snapchat, pinterest) owns
one :class:`TokenAuthority`: it issues access tokens that expire after
``token_lifetime_seconds``, refresh tokens that expire after ``refresh_token_lifetime_seconds``
(LinkedIn: counted from the first authorization and never extended) and, where the platform
rotates them (TikTok organic), replaces the refresh token on every refresh and kills the old one.

World file (dev/sandbox.yml), per platform, all optional::

    tiktok_organic:
      oauth:
        client_id: sandbox-client-id
        client_secret: sandbox-client-secret
        refresh_token: sandbox-tiktok_organic-refresh-token   # the one a connection starts with
        token_lifetime_seconds: 86400
        refresh_token_lifetime_seconds: 31536000
        rotate_refresh_token: true
        accept_static_token: true      # the demo's static access token keeps working
        static_token_lifetime_seconds:  # meta: the long-lived token expires (debug_token says when)

The defaults keep the demo as it was: the static token of each sandbox never expires. The
authority's ``clock`` (epoch seconds) can be replaced, so a test runs several nights in seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from socialwh.config import Config

from socialwh_dev.sandbox.server import Request, Response

#: Per platform: (token lifetime, refresh-token lifetime, rotate, refresh lifetime from first auth)
DEFAULTS: dict[str, tuple[int | None, int | None, bool, bool]] = {
    "google_ads": (3599, None, False, False),
    "youtube": (3599, None, False, False),
    "linkedin": (60 * 86400, 365 * 86400, False, True),
    "linkedin_organic": (60 * 86400, 365 * 86400, False, True),
    "tiktok_organic": (86400, 365 * 86400, True, False),
    "meta": (None, None, False, False),
}
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"


def default_refresh_token(platform: str) -> str:
    return f"sandbox-{platform}-refresh-token"


class GrantRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


@dataclass
class _Refresh:
    expires_at: float | None
    active: bool = True


@dataclass
class TokenAuthority:
    platform: str
    static_token: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    token_lifetime: int | None = None
    refresh_lifetime: int | None = None
    rotate: bool = False
    hard_refresh_limit: bool = False      # LinkedIn: expiry counted from the first authorization
    accept_static_token: bool = True
    static_token_lifetime: int | None = None
    initial_refresh_token: str = ""
    clock: Callable[[], float] = time.time
    issued: dict[str, float | None] = field(default_factory=dict)
    refresh_tokens: dict[str, _Refresh] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    events: list[tuple[str, str]] = field(default_factory=list)   # ("refresh"|"use", token digest)
    started_at: float | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """Forget every issued token; the initial refresh token starts its life now."""
        with self._lock:
            now = self.clock()
            self.started_at = now
            self.issued.clear()
            self.revoked.clear()
            self.events.clear()
            self.refresh_tokens = {self.initial_refresh_token: _Refresh(
                now + self.refresh_lifetime if self.refresh_lifetime else None)}

    # -- access tokens --------------------------------------------------------------------------

    def static_expires_at(self) -> float | None:
        if self.static_token_lifetime is None or self.started_at is None:
            return None
        return self.started_at + self.static_token_lifetime

    def check(self, token: str) -> str:
        """'valid', 'expired', 'revoked' or 'invalid' (unknown)."""
        now = self.clock()
        if token in self.revoked:
            return "revoked"
        if token == self.static_token and self.accept_static_token:
            expires = self.static_expires_at()
            return "expired" if expires is not None and now >= expires else self._used(token)
        if token in self.issued:
            expires = self.issued[token]
            return "expired" if expires is not None and now >= expires else self._used(token)
        return "invalid"

    def _used(self, token: str) -> str:
        self.events.append(("use", _digest(token)))
        return "valid"

    def revoke(self, token: str) -> None:
        """The user revoked access: the token (access or refresh) stops working at once."""
        with self._lock:
            self.revoked.add(token)
            if token in self.refresh_tokens:
                self.refresh_tokens[token].active = False

    # -- refresh grant --------------------------------------------------------------------------

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> dict[str, Any]:
        """{access_token, expires_in, refresh_token, refresh_token_expires_in}; or GrantRefused."""
        with self._lock:
            now = self.clock()
            if client_id != self.client_id or client_secret != self.client_secret:
                raise GrantRefused("invalid_client", "The OAuth client was not found.")
            state = self.refresh_tokens.get(refresh_token)
            if state is None or not state.active:
                raise GrantRefused("invalid_grant", "Token has been expired or revoked.")
            if state.expires_at is not None and now >= state.expires_at:
                raise GrantRefused("invalid_grant", "The refresh token has expired.")
            n = next(self._ids)
            access = f"sbx-{self.platform}-at-{n}-" + _digest(f"{self.platform}{n}{now}")[:12]
            expires_at = now + self.token_lifetime if self.token_lifetime else None
            if self.hard_refresh_limit and state.expires_at is not None:
                # LinkedIn: "on day 360 both expire in 5 days": never past the refresh token.
                expires_at = min(expires_at, state.expires_at) if expires_at else state.expires_at
            self.issued[access] = expires_at
            new_refresh = refresh_token
            if self.rotate:
                state.active = False
                new_refresh = f"sbx-{self.platform}-rt-{n}-" + _digest(f"rt{self.platform}{n}{now}")[:12]
                self.refresh_tokens[new_refresh] = _Refresh(
                    now + self.refresh_lifetime if self.refresh_lifetime else None)
            expires = self.refresh_tokens[new_refresh].expires_at
            self.events.append(("refresh", _digest(access)))
            return {"access_token": access,
                    "expires_in": int(expires_at - now) if expires_at is not None else self.token_lifetime,
                    "refresh_token": new_refresh,
                    "refresh_token_expires_in": int(expires - now) if expires is not None else None}

    def introspect(self, token: str) -> dict[str, Any]:
        status = self.check(token)
        expires = (self.issued.get(token) if token in self.issued else self.static_expires_at())
        if token in self.refresh_tokens:
            state = self.refresh_tokens[token]
            expires = state.expires_at
            status = "revoked" if not state.active else (
                "expired" if expires is not None and self.clock() >= expires else "valid")
        return {"active": status == "valid",
                "status": {"valid": "active"}.get(status, status if status != "invalid" else "revoked"),
                "expires_at": int(expires) if expires else None,
                "created_at": int(self.started_at or 0), "authorized_at": int(self.started_at or 0),
                "scope": "r_ads,r_ads_reporting", "auth_type": "3L"}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def authority(config: Config, platform: str, static_token: str,
              defaults: tuple[int | None, int | None, bool, bool] | None = None) -> TokenAuthority:
    """The platform's authority from ``sandbox.<platform>.oauth`` (dev/sandbox.yml).

    ``defaults`` (token lifetime, refresh-token lifetime, rotate, lifetime from the first
    authorization): a sandbox module passes its own platform's; DEFAULTS holds the older ones."""
    block = ((config.sandbox or {}).get(platform) or {}).get("oauth") or {}
    lifetime, refresh_lifetime, rotate, hard = defaults or DEFAULTS[platform]

    def opt(key: str, default: Any) -> Any:
        value = block.get(key, default)
        return None if value in (None, "", 0) and default is None else value

    return TokenAuthority(
        platform=platform, static_token=static_token,
        client_id=str(block.get("client_id", CLIENT_ID)),
        client_secret=str(block.get("client_secret", CLIENT_SECRET)),
        token_lifetime=_int(opt("token_lifetime_seconds", lifetime)),
        refresh_lifetime=_int(opt("refresh_token_lifetime_seconds", refresh_lifetime)),
        rotate=bool(block.get("rotate_refresh_token", rotate)),
        hard_refresh_limit=hard,
        accept_static_token=bool(block.get("accept_static_token", True)),
        static_token_lifetime=_int(block.get("static_token_lifetime_seconds")),
        initial_refresh_token=str(block.get("refresh_token", default_refresh_token(platform))),
    )


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


# --- endpoints in each platform's contract --------------------------------------------------------

def google_token(auth: TokenAuthority, request: Request) -> Response:
    """``POST https://oauth2.googleapis.com/token`` (form): no refresh_token comes back."""
    form = request.form
    if form.get("grant_type") != "refresh_token":
        return Response.json({"error": "unsupported_grant_type",
                              "error_description": f"Invalid grant_type: {form.get('grant_type', '')}"}, 400)
    try:
        grant = auth.refresh(form.get("client_id", ""), form.get("client_secret", ""),
                             form.get("refresh_token", ""))
    except GrantRefused as exc:
        return Response.json({"error": exc.error, "error_description": exc.description},
                             401 if exc.error == "invalid_client" else 400)
    return Response.json({"access_token": grant["access_token"], "expires_in": grant["expires_in"],
                          "scope": "https://www.googleapis.com/auth/adwords", "token_type": "Bearer"})


def linkedin_token(auth: TokenAuthority, request: Request) -> Response:
    """``POST https://www.linkedin.com/oauth/v2/accessToken`` (form)."""
    form = request.form
    if form.get("grant_type") != "refresh_token":
        return Response.json({"error": "invalid_request", "error_description": "A required parameter "
                              "\"grant_type\" is missing or invalid"}, 400)
    try:
        grant = auth.refresh(form.get("client_id", ""), form.get("client_secret", ""),
                             form.get("refresh_token", ""))
    except GrantRefused as exc:
        description = ("The provided authorization grant or refresh token is invalid, expired or revoked"
                       if exc.error == "invalid_grant" else "Client authentication failed")
        return Response.json({"error": exc.error, "error_description": description},
                             401 if exc.error == "invalid_client" else 400)
    return Response.json({**grant, "scope": "r_ads,r_ads_reporting"})


def linkedin_introspect(auth: TokenAuthority, request: Request) -> Response:
    """``POST https://www.linkedin.com/oauth/v2/introspectToken`` (form client_id, client_secret, token)."""
    form = request.form
    if form.get("client_id") != auth.client_id or form.get("client_secret") != auth.client_secret:
        return Response.json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
    return Response.json(auth.introspect(form.get("token", "")))


def tiktok_refresh(auth: TokenAuthority, request: Request, envelope: Callable[..., Response]) -> Response:
    """``POST /open_api/v1.3/tt_user/oauth2/refresh_token/`` (JSON), in TikTok's envelope."""
    import json  # noqa: PLC0415

    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return envelope(40002, "Invalid JSON body.", {})
    if body.get("grant_type") != "refresh_token":
        return envelope(40002, "grant_type: must be refresh_token.", {})
    try:
        grant = auth.refresh(str(body.get("client_id", "")), str(body.get("client_secret", "")),
                             str(body.get("refresh_token", "")))
    except GrantRefused as exc:
        if exc.error == "invalid_client":
            return envelope(40001, "The client_id or client_secret is invalid.", {})
        return envelope(40104 if "expired" in exc.description else 40107,
                        "The refresh token is invalid, expired or revoked.", {})
    return envelope(0, "OK", {**grant, "open_id": "", "scope": "user.info.basic,user.insights,video.list,"
                              "video.insights", "token_type": "Bearer"})


def meta_debug_token(auth: TokenAuthority, request: Request, app_id: str, app_secret: str) -> Response:
    """``GET /{ver}/debug_token?input_token=..&access_token={app_id}|{app_secret}``."""
    if request.query.get("access_token") != f"{app_id}|{app_secret}":
        return Response.json({"error": {"message": "Invalid OAuth access token signature.",
                                        "type": "OAuthException", "code": 190, "fbtrace_id": "sandbox"}}, 400)
    token = request.query.get("input_token", "")
    status = auth.check(token)
    expires = auth.issued.get(token) if token in auth.issued else auth.static_expires_at()
    data: dict[str, Any] = {
        "app_id": app_id, "type": "USER", "application": "socialwh sandbox",
        "is_valid": status == "valid",
        "expires_at": int(expires) if expires else 0,
        "data_access_expires_at": int(expires + 30 * 86400) if expires else 0,
        "issued_at": int(auth.started_at or 0),
        "scopes": ["ads_read", "read_insights"], "user_id": "10000000000001",
    }
    if status != "valid":
        data["error"] = {"code": 190, "subcode": 463 if status == "expired" else 460,
                         "message": "Error validating access token: Session has expired."
                         if status == "expired" else "The session has been invalidated."}
    return Response.json({"data": data})
