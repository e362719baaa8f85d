"""X Ads: the platform's declaration (socialwh.registry).

X (Twitter) Ads: written by socialwh.connectors.x, replaced per account (and per window for the
dated table) in one transaction. Money is exact numeric in the account's currency: X sends
*_local_micro integers, the connector divides by 10^6 without rounding.
"""

from socialwh.registry import Platform, Table, col, record_columns

PLATFORM = Platform(
    key='x',
    kind="paid",
    label='X Ads',
    mart_platform='x',
    conn_id='x_ads',
    utm_sources=('twitter', 'x'),
    sandbox="socialwh_dev.sandbox.x",
    description='X (Twitter) Ads API v12 as loaded by the x connector into raw.*. The stats window (platforms.x.lookback_days, 14: billed spend settles within 3 days, purchases keep being attributed for about two weeks) is replaced per ads account every night in one transaction, so raw holds the latest restated numbers.',
    union_models={"campaigns": "int_x__campaigns"},
    tables=(
        Table(
            name='x_ad_stats',
            dbt_name='ad_stats',
            description="Promoted-tweet daily stats (async stats jobs, entity=PROMOTED_TWEET, granularity=DAY, placement=ALL_ON_TWITTER, metric groups ENGAGEMENT, BILLING and WEB_CONVERSION). One row per ads account, day and promoted tweet with activity; date_day is the day in the account's time zone (account_timezone), the currency comes from the account's funding instruments, both carried on every row.",
            grain=('account_id', 'date_day', 'promoted_tweet_id'),
            date='date_day',
            windowed=True,
            spend='spend',
            freshness=True,
            columns=(
                col('account_id', 'text', 'ads account id, e.g. 18ce54d4x5t', required=True),
                col('date_day', 'date', "the day in the account's time zone (account_timezone)", required=True),
                col('promoted_tweet_id', 'text', 'the ad (entity=PROMOTED_TWEET)', required=True),
                col('tweet_id'),
                col('line_item_id', 'text', "X's ad group"),
                col('line_item_name'),
                col('campaign_id'),
                col('campaign_name'),
                col('account_name'),
                col('currency', 'text', "ISO 4217, from the account's funding instruments", required=True, role='currency'),
                col('account_timezone', 'text', 'IANA zone of the account (GET accounts/:id timezone)', required=True),
                col('placement', 'text', 'ALL_ON_TWITTER', required=True),
                col('spend', 'numeric', 'billed_charge_local_micro / 10^6', required=True, role='money'),
                col('impressions', 'bigint', required=True, role='count'),
                col('clicks', 'bigint', required=True, role='count'),
                col('url_clicks', 'bigint', role='count'),
                col('engagements', 'bigint', role='count'),
                col('conversions', 'numeric', "sum of the configured WEB_CONVERSION metrics' metric", required=True, role='count'),
                col('conversion_value', 'numeric', 'their sale_amount / 10^6', required=True, role='money'),
                *record_columns(),
            ),
        ),
        Table(
            name='x_campaigns',
            dbt_name='campaigns',
            description='Campaigns (GET accounts/:id/campaigns, with_deleted=true) with their budgets and line items (ad groups, which hold the objective on X), latest state.',
            grain=('account_id', 'campaign_id'),
            columns=(
                col('account_id', required=True),
                col('campaign_id', required=True),
                col('campaign_name'),
                col('entity_status', 'text', 'ACTIVE, PAUSED, DRAFT'),
                col('objective', 'text', "the line items' objective when they share one"),
                col('daily_budget', 'numeric', 'daily_budget_amount_local_micro / 10^6'),
                col('total_budget', 'numeric', 'total_budget_amount_local_micro / 10^6 (lifetime)'),
                col('budget_currency'),
                col('funding_instrument_id'),
                col('start_time', 'timestamptz'),
                col('end_time', 'timestamptz'),
                col('deleted', 'boolean', required=True),
                col('line_items', 'jsonb', '[{id, name, objective, entity_status, deleted}]', required=True),
                *record_columns(),
            ),
        ),
    ),
)
