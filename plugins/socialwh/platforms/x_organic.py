"""X (organic) (organic): the platform's declaration (socialwh.registry).

X API v2 (organic), loaded by socialwh.connectors.x_organic (docs/organic-contract.md).
account_daily: X keeps no follower history, so each night writes only its own day (date_day =
the night, a UTC day) with today's followers_count; earlier days keep what earlier nights
stored. post_snapshots: lifetime public_metrics (+ non_public_metrics clicks for posts < 30 days
old).
"""

from socialwh.platforms._organic import comment_table, competitor_table, organic_tables
from socialwh.registry import Platform

PLATFORM = Platform(
    key='x_organic',
    kind="organic",
    label='X (organic)',
    mart_platform='x',  # the marts name the network; the key tells paid and organic apart
    conn_id='x_organic',
    sandbox="socialwh_dev.sandbox.x_organic",
    description="X API v2 (posts with public metrics, user public metrics) as loaded by socialwh.connectors.x_organic into raw.* (docs/organic-contract.md).",
    tables=(*organic_tables('x_organic', 'X API v2 (posts with public metrics, user public metrics)'),
            comment_table('x_organic', 'X API v2 recent search by conversation_id'),
            competitor_table('x_organic', 'X API v2 users lookup (GET /2/users/by?usernames=..&user.fields=public_metrics)')),
)
