"""TikTok (organic) (organic): the platform's declaration (socialwh.registry).

TikTok organic (TikTok API for Business, "TikTok Accounts" endpoints /business/get/ and
/business/video/list/), loaded by socialwh.connectors.tiktok_organic. The shared organic shape
(docs/organic-contract.md). TikTok reports UTC days and UTC publish times: account_timezone is
'UTC' on every row. See docs/tiktok-organic-api.md.
"""

from socialwh.platforms._organic import comment_table, organic_tables
from socialwh.registry import Platform

PLATFORM = Platform(
    key='tiktok_organic',
    kind="organic",
    label='TikTok (organic)',
    mart_platform='tiktok',  # the marts name the network; the key tells paid and organic apart
    conn_id='tiktok_organic',
    oauth="tiktok_organic",  # socialwh.connectors.oauth: how its credentials renew
    sandbox="socialwh_dev.sandbox.tiktok_organic",
    description="TikTok Business API (organic account and video insights) as loaded by socialwh.connectors.tiktok_organic into raw.* (docs/organic-contract.md).",
    tables=(*organic_tables('tiktok_organic', 'TikTok Business API (organic account and video insights)'),
            comment_table('tiktok_organic', 'TikTok Business API comment and reply lists')),
)
