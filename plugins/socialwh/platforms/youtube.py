"""YouTube (organic): the platform's declaration (socialwh.registry).

YouTube (organic), loaded by socialwh.connectors.youtube. The shared organic shape
(docs/organic-contract.md). account_daily comes from the YouTube Analytics API (dimensions=day;
days are Pacific Time days, account_timezone = America/Los_Angeles); followers is the Data API's
subscriberCount, set on the night's own row only. post_snapshots are the Data API's lifetime
video statistics (counts arrive as strings) plus lifetime shares from Analytics
(dimensions=video).
"""

from socialwh.platforms._organic import competitor_table, comment_table, organic_tables
from socialwh.registry import Platform

PLATFORM = Platform(
    key='youtube',
    kind="organic",
    label='YouTube',
    mart_platform='youtube',  # the marts name the network; the key tells paid and organic apart
    conn_id='youtube',
    oauth="google",  # socialwh.connectors.oauth: how its credentials renew
    sandbox="socialwh_dev.sandbox.youtube",
    description="YouTube Analytics (day) and YouTube Data API (videos) as loaded by socialwh.connectors.youtube into raw.* (docs/organic-contract.md).",
    tables=(*organic_tables('youtube', 'YouTube Analytics (day) and YouTube Data API (videos)'),
            comment_table('youtube', 'YouTube Data API commentThreads and comments'),
            competitor_table('youtube', "YouTube Data API channels.list(forHandle) statistics and the uploads playlist's recent videos")),
)
