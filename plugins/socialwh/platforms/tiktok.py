"""TikTok Ads: the platform's declaration (socialwh.registry).

TikTok API for Business (ads), loaded by socialwh.connectors.tiktok. Same shape as the shared
raw tables: typed columns for what dbt reads, the original record as jsonb, load metadata. The
schema `raw` is created by raw.sql, which runs first.
"""

from socialwh.registry import Platform, Table, col, record_columns

PLATFORM = Platform(
    key='tiktok',
    kind="paid",
    label='TikTok Ads',
    mart_platform='tiktok',
    conn_id='tiktok_ads',
    utm_sources=('tiktok',),
    sandbox="socialwh_dev.sandbox.tiktok",
    description="TikTok API for Business (ads) as loaded by the tiktok connector into raw.*. Each night the lookback window is re-extracted and replaced per advertiser in one transaction, so raw holds the latest restated numbers. Report days are days in the advertiser's own time zone.",
    union_models={"campaigns": "int_tiktok__campaigns"},
    tables=(
        Table(
            name='tiktok_ad_stats',
            dbt_name='ad_stats',
            description="Ad-level daily report (GET /open_api/v1.3/report/integrated/get/, data_level=AUCTION_AD, dimensions ad_id and stat_time_day). One row per advertiser, day and ad, with the advertiser's name, currency and time zone (GET /advertiser/info/) on every row.",
            grain=('account_id', 'date_day', 'ad_id'),
            date='date_day',
            windowed=True,
            spend='spend',
            freshness=True,
            columns=(
                col('account_id', 'text', 'advertiser_id', required=True),
                col('account_name', 'text', 'advertiser name (/advertiser/info/)'),
                col('date_day', 'date', "stat_time_day: the day in the advertiser's time zone", required=True),
                col('campaign_id'),
                col('campaign_name'),
                col('adgroup_id'),
                col('adgroup_name'),
                col('ad_id', required=True),
                col('ad_name'),
                col('currency', 'text', "the advertiser's currency: every money column", required=True, role='currency'),
                col('account_timezone', 'text', "the advertiser's time zone: date_day is a day there", required=True),
                col('spend', 'numeric', 'exact, account currency', required=True, role='money'),
                col('impressions', 'bigint', required=True, role='count'),
                col('clicks', 'bigint', required=True, role='count'),
                col('reach', 'bigint', 'null where TikTok reports "-"', role='count'),
                col('conversions', 'numeric', "`conversion`: the campaign's optimization events", role='count'),
                col('purchases', 'numeric', '`complete_payment`: Complete Payment events', role='count'),
                col('conversion_value', 'numeric', '`total_complete_payment_rate`: their value', role='money'),
                *record_columns(),
            ),
        ),
        Table(
            name='tiktok_campaigns',
            dbt_name='campaigns',
            description='Campaign objects (GET /open_api/v1.3/campaign/get/), latest state.',
            grain=('account_id', 'campaign_id'),
            columns=(
                col('account_id', required=True),
                col('campaign_id', required=True),
                col('campaign_name'),
                col('operation_status', 'text', 'ENABLE / DISABLE'),
                col('secondary_status', 'text', 'e.g. CAMPAIGN_STATUS_ENABLE'),
                col('objective_type'),
                col('budget', 'numeric', 'major units of budget_currency; null: no budget'),
                col('budget_mode', 'text', 'BUDGET_MODE_DAY / _TOTAL / _INFINITE / ...'),
                col('budget_period', 'text', 'daily / lifetime, from budget_mode'),
                col('budget_currency', 'text', "the advertiser's currency when there is a budget"),
                *record_columns(),
            ),
        ),
    ),
)
