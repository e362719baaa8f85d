"""One Airflow pool per platform API: `api_<key>` bounds how many of its accounts are extracted at
once, across every DAG run (a backfill beside the nightly) and every DAG that calls the API.

Each enabled platform's extract task (`extract_<key>`, mapped over its accounts) runs in its pool.
The slots are the platform's declared `api_concurrency` (socialwh.platforms.<key>), or
`platforms.<key>.api_concurrency` in config/warehouse.yml. Airflow does not schedule a task whose
pool does not exist, so the pools are created where the metadata database is set up:

    python -m socialwh.pipeline.pools        # docker-compose's airflow-init, `make airflow`

and by the demo's and the tests' Airflow process (socialwh.pipeline.run_local) before its runs.
Pools are upserted: slots follow the configuration, a pool someone added by hand stays.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from socialwh.config import Config, load_config

PREFIX = "api_"


def pool_name(platform: str) -> str:
    return f"{PREFIX}{platform}"


@dataclass(frozen=True)
class ApiPool:
    name: str
    slots: int
    description: str


def api_pools(config: Config | None = None) -> list[ApiPool]:
    """The pool of every enabled platform, with its slots (declaration, then config override)."""
    from socialwh import registry  # noqa: PLC0415

    config = config or load_config()
    pools = []
    for settings in config.enabled_platforms():
        declared = registry.platform(settings.name)
        slots = settings.int_option("api_concurrency", declared.api_concurrency, minimum=1)
        pools.append(ApiPool(pool_name(settings.name), slots,
                             f"{declared.label} API: accounts extracted at once (socialwh.pipeline.pools)"))
    return pools


def ensure_pools(config: Config | None = None) -> list[ApiPool]:
    """Create or update the pools in Airflow's metadata database (needs its connection)."""
    from airflow.models.pool import Pool  # noqa: PLC0415 - only where the metadata DB is reachable

    pools = api_pools(config)
    for pool in pools:
        Pool.create_or_update_pool(pool.name, pool.slots, pool.description, include_deferred=False)
    return pools


def main() -> int:
    for pool in ensure_pools():
        print(f"pool {pool.name}: {pool.slots} slot(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
