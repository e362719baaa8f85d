"""Instagram (organic): the platform's declaration (socialwh.registry).

Instagram (organic), loaded by socialwh.connectors.instagram (Graph API, professional accounts).
date_day is a day in account_timezone (Graph's day, America/Los_Angeles unless the platform
option timezone says otherwise). followers = followers_count, known for the night's day only
(null on earlier days); followers_gained = follower_count (new followers of the day);
followers_lost is not reported (null); views/engagements = views/total_interactions
(metric_type=total_value, one day per call); reach = reach. Post snapshots: per-media lifetime
insights (saves = saved); clicks not reported. Media posted before the account became a business
account are skipped.
"""

from socialwh.platforms._organic import competitor_table, comment_table, organic_tables
from socialwh.registry import Platform

PLATFORM = Platform(
    key='instagram',
    kind="organic",
    label='Instagram',
    mart_platform='instagram',  # the marts name the network; the key tells paid and organic apart
    conn_id='instagram',
    oauth="meta",  # socialwh.connectors.oauth: how its credentials renew
    sandbox="socialwh_dev.sandbox.instagram",
    description="Instagram Graph API (user and media insights) as loaded by socialwh.connectors.instagram into raw.* (docs/organic-contract.md).",
    tables=(*organic_tables('instagram', 'Instagram Graph API (user and media insights)'),
            comment_table('instagram', 'Instagram media comments and replies (Graph API /{ig-media-id}/comments)'),
            competitor_table('instagram', 'Instagram Graph API Business Discovery (GET /{ig-user-id}?fields=business_discovery.username(..))')),
)
