"""Facebook Pages (organic): the platform's declaration (socialwh.registry).

Facebook Page insights (organic), loaded by socialwh.connectors.facebook_pages (Graph API).
date_day is a day in account_timezone (Graph's Page insights day, America/Los_Angeles unless the
platform option timezone says otherwise), taken from end_time - 1 day. followers = page_follows,
followers_gained/lost = page_daily_follows_unique / page_daily_unfollows_unique, views =
page_media_view, reach = page_total_media_view_unique, engagements = page_post_engagements. Post
snapshots: views = post_media_view, reach = post_total_media_view_unique, likes = reactions (all
types), comments/shares from the post's fields, clicks = post_clicks; saves not reported.
"""

from socialwh.platforms._organic import competitor_table, comment_table, organic_tables
from socialwh.registry import Platform

PLATFORM = Platform(
    key='facebook_pages',
    kind="organic",
    label='Facebook Pages',
    mart_platform='facebook',  # the marts name the network; the key tells paid and organic apart
    conn_id='facebook_pages',
    oauth="meta",  # socialwh.connectors.oauth: how its credentials renew
    sandbox="socialwh_dev.sandbox.facebook_pages",
    description="Facebook Page insights (Graph API) as loaded by socialwh.connectors.facebook_pages into raw.* (docs/organic-contract.md).",
    tables=(*organic_tables('facebook_pages', 'Facebook Page insights (Graph API)'),
            comment_table('facebook_pages', 'Facebook Page post comments (Graph API /{post-id}/comments)'),
            competitor_table('facebook_pages', 'Facebook Graph API Page public fields (GET /{page}?fields=followers_count,fan_count; needs Page Public Metadata Access)')),
)
