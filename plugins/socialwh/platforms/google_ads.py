"""Google Ads: the platform's declaration (socialwh.registry).

Google Ads raw tables (socialwh.connectors.google_ads). Typed columns for what dbt reads, the
original GoogleAdsRow (lowerCamelCase, int64 as strings) as jsonb, and load metadata. Run after
raw.sql (which creates the schema) by db.ensure_raw_schema.
"""

from socialwh.registry import Platform, Table, col, record_columns

PLATFORM = Platform(
    key='google_ads',
    kind="paid",
    label='Google Ads',
    mart_platform='google_ads',
    conn_id='google_ads',
    oauth="google",  # socialwh.connectors.oauth: how its credentials renew
    utm_sources=('google', 'google_ads', 'adwords'),
    sandbox="socialwh_dev.sandbox.google_ads",
    description='Google Ads API (REST, GAQL) as loaded by the google_ads connector into raw.*. The stats window (platforms.google_ads.lookback_days, 30: conversions keep being attributed for weeks) is replaced per customer every night in one transaction, so raw holds the latest restated numbers. A disabled or unreachable customer is skipped and keeps its last rows.',
    union_models={"campaigns": "int_google_ads__campaigns"},
    tables=(
        Table(
            name='google_ads_ad_stats',
            dbt_name='ad_stats',
            description="Ad-level daily stats (googleAds:searchStream, FROM ad_group_ad, segments.date). One row per customer, day, ad group and ad with activity; date_day is the day in the customer's time zone, carried in account_timezone with the currency on every row.",
            grain=('account_id', 'date_day', 'ad_group_id', 'ad_id'),
            date='date_day',
            windowed=True,
            spend='spend',
            freshness=True,
            columns=(
                col('account_id', 'text', 'customer id, 10 digits without dashes', required=True),
                col('account_name', 'text', 'customer.descriptive_name'),
                col('date_day', 'date', "segments.date: the day in the customer's time zone", required=True),
                col('campaign_id', required=True),
                col('campaign_name', 'text', 'name at extraction time'),
                col('ad_group_id', required=True),
                col('ad_group_name'),
                col('ad_id', 'text', 'ad_group_ad.ad.id', required=True),
                col('ad_name', 'text', 'only some ad types have one (image, video ads)'),
                col('currency_code', 'text', 'customer.currency_code (ISO 4217)', required=True, role='currency'),
                col('account_timezone', 'text', 'customer.time_zone (IANA)', required=True),
                col('cost_micros', 'bigint', 'metrics.cost_micros exactly as returned', required=True, role='money'),
                col('spend', 'numeric', 'cost_micros / 10^6, exact, account currency', required=True, role='money'),
                col('impressions', 'bigint', required=True, role='count'),
                col('clicks', 'bigint', required=True, role='count'),
                col('conversions', 'numeric', 'metrics.conversions (fractional with data-driven attribution)', required=True, role='count'),
                col('conversions_value', 'numeric', 'metrics.conversions_value, account currency', required=True, role='money'),
                *record_columns(),
            ),
        ),
        Table(
            name='google_ads_campaigns',
            dbt_name='campaigns',
            description='Campaigns with their budgets (googleAds:search, FROM campaign), latest state.',
            grain=('account_id', 'campaign_id'),
            columns=(
                col('account_id', required=True),
                col('campaign_id', required=True),
                col('campaign_name'),
                col('status', 'text', 'ENABLED, PAUSED, REMOVED'),
                col('advertising_channel_type', 'text', 'SEARCH, DISPLAY, VIDEO, SHOPPING, ...: the objective'),
                col('budget_id', 'text', 'campaign_budget.id (budgets can be shared)'),
                col('budget_amount', 'numeric', 'campaign_budget.amount_micros / 10^6 (per period)'),
                col('budget_total_amount', 'numeric', 'campaign_budget.total_amount_micros / 10^6 (custom period)'),
                col('budget_period', 'text', 'DAILY, CUSTOM_PERIOD'),
                col('budget_currency', 'text', "the customer's currency (budgets have no own)"),
                *record_columns(),
            ),
        ),
    ),
)
