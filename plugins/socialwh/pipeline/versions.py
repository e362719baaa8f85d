"""API versions are watched: warn before a configured version's sunset, stop cleanly after it.

The table is `api_versions` in config/warehouse.yml ({platform: {version, sunset}}). Every night
`check_versions` lists, for the enabled platforms, the versions whose sunset is at most
`api_version_warn_days` (60) days away (a webhook warning) or already passed. A platform whose
version is past its sunset is not called at all: `ensure_supported` fails its extract with an
error that names the version, the date and the fix (the real APIs would answer with an error of
their own: Google UNSUPPORTED_VERSION, LinkedIn HTTP 426, Meta (#2635)). The other platforms run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from socialwh.config import Config, load_config

OK, WARNING, SUNSET, UNKNOWN = "ok", "warning", "sunset", "unknown"


class ApiVersionSunset(RuntimeError):
    """The configured API version of a platform is past its sunset date."""


@dataclass(frozen=True)
class VersionStatus:
    platform: str
    version: str
    sunset: date | None
    days_left: int | None
    state: str  # ok | warning | sunset | unknown (no sunset announced)

    def message(self) -> str:
        if self.state == SUNSET:
            return (f"{self.platform}: API version {self.version} was sunset on {self.sunset} "
                    f"({-self.days_left} days ago); extraction stopped. Set api_versions.{self.platform}.version "
                    f"in config/warehouse.yml to a supported version.")
        if self.state == WARNING:
            return (f"{self.platform}: API version {self.version} is sunset on {self.sunset} "
                    f"(in {self.days_left} days); upgrade api_versions.{self.platform} in config/warehouse.yml.")
        if self.state == UNKNOWN:
            return f"{self.platform}: API version {self.version}, no sunset announced"
        return f"{self.platform}: API version {self.version} supported until {self.sunset}"


def status(config: Config, platform: str, night: date) -> VersionStatus | None:
    pinned = (getattr(config, "api_versions", None) or {}).get(platform)  # a stand-in config may lack it
    if pinned is None:
        return None
    if pinned.sunset is None:
        return VersionStatus(platform, pinned.version, None, None, UNKNOWN)
    left = (pinned.sunset - night).days
    warn_days = getattr(config, "api_version_warn_days", 60)
    state = SUNSET if left <= 0 else WARNING if left <= warn_days else OK
    return VersionStatus(platform, pinned.version, pinned.sunset, left, state)


def version_report(night: date, config: Config | None = None) -> list[VersionStatus]:
    """The version status of every enabled platform that has an entry in api_versions."""
    config = config or load_config()
    found = (status(config, p.name, night) for p in config.enabled_platforms())
    return [s for s in found if s is not None]


def ensure_supported(platform: str, night: date, config: Config | None = None) -> None:
    """Raise ApiVersionSunset when the platform's configured version is past its sunset."""
    config = config or load_config()
    found = status(config, platform, night)
    if found is not None and found.state == SUNSET:
        raise ApiVersionSunset(found.message())


def check_versions(night: date, config: Config | None = None, *, notify: Any = None) -> dict[str, Any]:
    """The nightly check: a warning (via `notify(lines)`) for every version within the warning
    window or past its sunset. Never raises: the affected extract fails on its own."""
    report = version_report(night, config)
    attention = [s for s in report if s.state in (WARNING, SUNSET)]
    if attention and notify is not None:
        notify([s.message() for s in attention])
    return {
        "warnings": [s.message() for s in report if s.state == WARNING],
        "sunset": [s.message() for s in report if s.state == SUNSET],
        "versions": [{**asdict(s), "sunset": s.sunset.isoformat() if s.sunset else None} for s in report],
    }
