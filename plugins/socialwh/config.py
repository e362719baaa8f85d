"""The one configuration file (config/warehouse.yml), parsed into typed objects.

Adding an account or changing a lookback window is a config change, never a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from socialwh.paths import CONFIG_FILE, REPO_ROOT, SANDBOX_FILE


class ConfigError(ValueError):
    """The config file is missing a key or holds a value of the wrong kind."""


@dataclass(frozen=True)
class Account:
    platform: str
    id: str
    name: str
    # Rival accounts benchmarked against this one (issue #14): handles on the same platform, read
    # nightly through the platform's public endpoint with this account's credentials.
    competitors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformConfig:
    name: str
    conn_id: str
    lookback_days: int
    accounts: tuple[Account, ...]
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True

    def int_option(self, key: str, default: int, minimum: int = 0) -> int:
        """A whole-number option (`platforms.<name>.<key>`), `default` when absent; anything else
        than an integer >= minimum is a ConfigError naming the key."""
        value = self.options.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ConfigError(f"platforms.{self.name}.{key} must be an integer >= {minimum}, got {value!r}")
        return value


@dataclass(frozen=True)
class ApiVersion:
    """The API version a platform's connector calls and the day the platform retires it."""

    platform: str
    version: str
    sunset: date | None = None  # None: no sunset announced yet


@dataclass(frozen=True)
class Config:
    path: Path
    reporting_currency: str
    platforms: dict[str, PlatformConfig]
    finance: dict[str, Any]
    quality: dict[str, Any]
    sandbox: dict[str, Any]
    campaign_naming: dict[str, Any] = field(default_factory=dict)
    api_versions: dict[str, ApiVersion] = field(default_factory=dict)
    api_version_warn_days: int = 60
    community: dict[str, Any] = field(default_factory=dict)  # comments marts (issue #14): salt, business hours

    def enabled_platforms(self) -> list[PlatformConfig]:
        """The platforms the nightly job extracts (a disabled one keeps its config, runs nothing)."""
        return [p for p in self.platforms.values() if p.enabled]

    def accounts(self, platform: str | None = None) -> list[Account]:
        """Accounts of one platform (enabled or not), or of every enabled platform."""
        if platform is not None:
            return list(self.platforms[platform].accounts) if platform in self.platforms else []
        return [a for p in self.enabled_platforms() for a in p.accounts]

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else REPO_ROOT / p


def _require(mapping: dict, key: str, where: str, path: Path) -> Any:
    if key not in mapping or mapping[key] is None:
        raise ConfigError(f"{path}: missing required key '{where}{key}'")
    return mapping[key]


def parse_config(raw: dict, path: Path) -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    platforms: dict[str, PlatformConfig] = {}
    for name, spec in (_require(raw, "platforms", "", path) or {}).items():
        where = f"platforms.{name}."
        accounts = []
        for i, acc in enumerate(_require(spec, "accounts", where, path)):
            if "id" not in acc:
                raise ConfigError(f"{path}: {where}accounts[{i}] has no 'id'")
            accounts.append(Account(platform=name, id=str(acc["id"]), name=str(acc.get("name", acc["id"])),
                                    competitors=_competitors(acc.get("competitors"), name,
                                                             f"{where}accounts[{i}]", path)))
        lookback = _require(spec, "lookback_days", where, path)
        if not isinstance(lookback, int) or lookback < 0:
            raise ConfigError(f"{path}: {where}lookback_days must be a non-negative integer, got {lookback!r}")
        if "competitors" in spec:
            raise ConfigError(f"{path}: {where}competitors: list rival handles under the owned account they are "
                              f"benchmarked against ({where}accounts[i].competitors), not on the platform")
        options = {k: v for k, v in spec.items() if k not in {"conn_id", "lookback_days", "accounts", "enabled"}}
        rivals = {a.id: list(a.competitors) for a in accounts if a.competitors}
        if rivals:  # what the connector reads (socialwh.connectors.competitors.handles_of)
            options["competitors"] = rivals
        platforms[name] = PlatformConfig(
            name=name,
            conn_id=str(_require(spec, "conn_id", where, path)),
            lookback_days=lookback,
            accounts=tuple(accounts),
            options=options,
            enabled=bool(spec.get("enabled", True)),
        )
    versions = _api_versions(raw.get("api_versions") or {}, path)
    for name, pinned in versions.items():
        if name not in platforms:
            continue
        own = platforms[name].options.get("api_version")
        if own is not None and str(own) != pinned.version:
            raise ConfigError(
                f"{path}: platforms.{name}.api_version ({own}) differs from api_versions.{name}.version "
                f"({pinned.version}); set the version in api_versions only")
        platforms[name].options["api_version"] = pinned.version
    warn_days = raw.get("api_version_warn_days", 60)
    if not isinstance(warn_days, int) or isinstance(warn_days, bool) or warn_days < 0:
        raise ConfigError(f"{path}: api_version_warn_days must be a non-negative integer, got {warn_days!r}")
    currency = str(_require(raw, "reporting_currency", "", path))
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ConfigError(f"{path}: reporting_currency must be an ISO 4217 code like EUR, got {currency!r}")
    return Config(
        path=path,
        reporting_currency=currency,
        platforms=platforms,
        finance=raw.get("finance") or {},
        quality=raw.get("quality") or {},
        sandbox=raw.get("sandbox") or _sandbox_world(),
        campaign_naming=raw.get("campaign_naming") or {},
        api_versions=versions,
        api_version_warn_days=warn_days,
        community=raw.get("community") or {},
    )


def _competitors(value: Any, platform: str, where: str, path: Path) -> tuple[str, ...]:
    """`accounts[i].competitors`: rival handles on the account's platform. Only platforms whose
    declaration has a competitor table (a public endpoint, docs/competitor-benchmarks.md) take
    them; a handle is a non-empty string without spaces, a leading @ is dropped, and each rival
    is listed once per account (case-insensitively)."""
    if value is None:
        return ()
    from socialwh import registry  # noqa: PLC0415 - the registry imports nothing heavy

    declared = registry.platforms().get(platform)
    if declared is None or not any(t.dbt_name == "competitor_daily" for t in declared.tables):
        able = sorted(p.key for p in registry.platforms().values()
                      if any(t.dbt_name == "competitor_daily" for t in p.tables))
        raise ConfigError(
            f"{path}: {where}.competitors: platform {platform!r} has no public endpoint for rival accounts "
            f"(docs/competitor-benchmarks.md); competitors can be set on {', '.join(able)}")
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {where}.competitors must be a list of handles, got {value!r}")
    out: list[str] = []
    for j, raw in enumerate(value):
        handle = raw.strip().removeprefix("@") if isinstance(raw, str) else ""
        if not handle or any(ch.isspace() for ch in handle) or "/" in handle:
            raise ConfigError(f"{path}: {where}.competitors[{j}] must be a handle like 'rivalbrand' "
                              f"(no spaces or slashes), got {raw!r}")
        if handle.lower() in (h.lower() for h in out):
            raise ConfigError(f"{path}: {where}.competitors lists {handle!r} twice")
        out.append(handle)
    return tuple(out)


def _api_versions(table: Any, path: Path) -> dict[str, ApiVersion]:
    """api_versions: {platform: {version: .., sunset: YYYY-MM-DD | null}} (one place for both)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: api_versions must map platforms to {{version, sunset}}")
    out: dict[str, ApiVersion] = {}
    for name, spec in table.items():
        where = f"api_versions.{name}"
        if not isinstance(spec, dict) or spec.get("version") in (None, ""):
            raise ConfigError(f"{path}: {where} needs a version (and a sunset date or null)")
        sunset = spec.get("sunset")
        if isinstance(sunset, str):
            try:
                sunset = date.fromisoformat(sunset)
            except ValueError:
                raise ConfigError(f"{path}: {where}.sunset must be a date YYYY-MM-DD, got {sunset!r}") from None
        if sunset is not None and not isinstance(sunset, date):
            raise ConfigError(f"{path}: {where}.sunset must be a date YYYY-MM-DD or null, got {sunset!r}")
        out[str(name)] = ApiVersion(str(name), str(spec["version"]), sunset)
    return out


def _sandbox_world() -> dict[str, Any]:
    """The sandboxes' world (dev/sandbox.yml) when this checkout has one; {} in a deployment."""
    if not SANDBOX_FILE.exists():
        return {}
    try:
        world = yaml.safe_load(SANDBOX_FILE.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{SANDBOX_FILE}: not valid YAML: {exc}") from None
    if not isinstance(world, dict):
        raise ConfigError(f"{SANDBOX_FILE}: expected a mapping at the top level")
    return world


@lru_cache(maxsize=4)
def load_config(path: Path | str | None = None) -> Config:
    p = Path(path) if path else CONFIG_FILE
    try:
        raw = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p} (set SOCIALWH_CONFIG or create it)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_config(raw, p)
