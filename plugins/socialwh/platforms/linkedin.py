"""LinkedIn Ads: the platform's declaration (socialwh.registry).

LinkedIn Marketing API (ads), loaded by socialwh.connectors.linkedin. Same shape as raw.sql:
typed columns for what dbt reads, the original record as jsonb, load metadata. Ids are the
digits of LinkedIn's URNs (urn:li:sponsoredCreative:123 -> '123').
"""

from socialwh.registry import Platform, Table, col, record_columns

PLATFORM = Platform(
    key='linkedin',
    kind="paid",
    label='LinkedIn Ads',
    mart_platform='linkedin',
    conn_id='linkedin_ads',
    oauth="linkedin",  # socialwh.connectors.oauth: how its credentials renew
    utm_sources=('linkedin',),
    sandbox="socialwh_dev.sandbox.linkedin",
    description='LinkedIn Marketing API (ads) as loaded by the linkedin connector into raw.*. Each extraction window (30 days by default) is replaced per account in one transaction, so raw holds the latest restated numbers (website conversions keep arriving for up to 30 days).',
    union_models={"campaigns": "int_linkedin__campaigns"},
    tables=(
        Table(
            name='linkedin_ad_stats',
            dbt_name='ad_stats',
            description="Creative-level daily stats (GET /rest/adAnalytics?q=analytics, pivot CREATIVE, timeGranularity DAILY), labelled with the creative's campaign and campaign group. One row per account, UTC day and creative; the account's name and currency on every row.",
            grain=('account_id', 'date_day', 'creative_id'),
            date='date_day',
            windowed=True,
            spend='cost_in_local_currency',
            freshness=True,
            columns=(
                col('account_id', 'text', 'sponsored account id, digits', required=True),
                col('date_day', 'date', 'the day, in UTC (adAnalytics reports UTC days)', required=True),
                col('account_name'),
                col('currency', 'text', "the ad account's currency (ISO 4217)", required=True, role='currency'),
                col('account_timezone', 'text', "time zone date_day is in: always 'UTC'", required=True),
                col('campaign_group_id'),
                col('campaign_group_name'),
                col('campaign_id', 'text', 'null when the creative was not listed'),
                col('campaign_name'),
                col('creative_id', required=True),
                col('creative_name'),
                col('impressions', 'bigint', required=True, role='count'),
                col('clicks', 'bigint', required=True, role='count'),
                col('landing_page_clicks', 'bigint', role='count'),
                col('cost_in_local_currency', 'numeric', 'spend, exact (costInLocalCurrency)', required=True, role='money'),
                col('cost_in_usd', 'numeric', role='money'),
                col('external_website_conversions', 'numeric', required=True, role='count'),
                col('conversion_value_in_local_currency', 'numeric', required=True, role='money'),
                col('one_click_leads', 'bigint', 'lead gen form submissions', required=True, role='count'),
                *record_columns(),
            ),
        ),
        Table(
            name='linkedin_campaigns',
            dbt_name='campaigns',
            description='LinkedIn campaigns (GET /rest/adAccounts/{id}/adCampaigns?q=search), latest state, with the name of their campaign group.',
            grain=('account_id', 'campaign_id'),
            columns=(
                col('account_id', required=True),
                col('campaign_id', required=True),
                col('campaign_name'),
                col('status'),
                col('objective_type'),
                col('campaign_type'),
                col('cost_type'),
                col('daily_budget_amount', 'numeric', 'major units of daily_budget_currency, as sent'),
                col('daily_budget_currency'),
                col('total_budget_amount', 'numeric', 'lifetime budget, major units'),
                col('total_budget_currency'),
                col('campaign_group_id'),
                col('campaign_group_name'),
                col('run_schedule_start', 'timestamptz'),
                col('run_schedule_end', 'timestamptz'),
                *record_columns(),
            ),
        ),
    ),
)
