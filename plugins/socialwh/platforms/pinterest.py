"""Pinterest Ads: the platform's declaration (socialwh.registry).

Pinterest API v5 (ads), loaded by socialwh.connectors.pinterest. Money arrives as
micro-currency integers in the ad account's currency (``*_IN_MICRO_DOLLAR`` despite the name);
the connector divides by 10^6 exactly, so the columns here are numeric major units.
"""

from socialwh.registry import Platform, Table, col, record_columns

PLATFORM = Platform(
    key="pinterest",
    kind="paid",
    label="Pinterest Ads",
    mart_platform="pinterest",
    conn_id="pinterest_ads",
    utm_sources=("pinterest",),
    sandbox="socialwh_dev.sandbox.pinterest",
    oauth="pinterest",  # its connector's OAUTH_FLOW (socialwh.connectors.oauth): how its credentials renew
    description=(
        "Pinterest API v5 (ads) as loaded by the pinterest connector into raw.*. Each night the "
        "lookback window (platforms.pinterest.lookback_days, 30: the 30-day click attribution "
        "window keeps restating conversions) is re-extracted and replaced per ad account in one "
        "transaction. Ads, ad groups and campaigns are listed with entity_statuses ACTIVE, "
        "PAUSED and ARCHIVED, so spend of ads archived since is kept. Days are days in the ad "
        "account's time zone."
    ),
    tables=(
        Table(
            name="pinterest_ad_stats",
            dbt_name="ad_stats",
            description=(
                "Ad-level daily analytics (GET /v5/ad_accounts/{id}/ads/analytics, granularity=DAY, "
                "at most 250 ad_ids and 90 days a request). One row per ad account, day and ad with "
                "delivery; names and parent ids from the ads, ad_groups and campaigns lists; the "
                "account's currency (GET /v5/ad_accounts/{id}) and time zone on every row."
            ),
            grain=("account_id", "date_day", "ad_id"),
            date="date_day",
            windowed=True,
            spend="spend",
            freshness=True,
            columns=(
                col("account_id", "text", "ad_account_id", required=True),
                col("account_name", "text", "ad account name (GET /v5/ad_accounts/{id})"),
                col("date_day", "date", "DATE: the day in the ad account's time zone", required=True),
                col("campaign_id"),
                col("campaign_name"),
                col("ad_group_id", "text", "Pinterest's ad set"),
                col("ad_group_name"),
                col("ad_id", "text", "AD_ID (the promoted Pin's ad)", required=True),
                col("ad_name"),
                col("ad_status", "text", "ACTIVE / PAUSED / ARCHIVED at extraction"),
                col("pin_id", "text", "the promoted Pin"),
                col("currency", "text", "the ad account's currency: every money column", required=True, role="currency"),
                col("account_timezone", "text", "IANA zone of the ad account: date_day is a day there", required=True),
                col("spend", "numeric", "SPEND_IN_MICRO_DOLLAR / 10^6, exact, account currency", required=True, role="money"),
                col("impressions", "bigint", "IMPRESSION_1 (paid impressions)", required=True, role="count"),
                col("clicks", "bigint", "CLICKTHROUGH_1 (paid outbound clicks)", required=True, role="count"),
                col("conversions", "numeric", "TOTAL_CONVERSIONS (30-day click, 1-day view, time of ad action)", role="count"),
                col("conversion_value", "numeric", "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR / 10^6, account currency", role="money"),
                *record_columns(),
            ),
        ),
        Table(
            name="pinterest_campaigns",
            dbt_name="campaigns",
            description=(
                "Campaigns (GET /v5/ad_accounts/{id}/campaigns, entity_statuses ACTIVE, PAUSED, "
                "ARCHIVED, bookmark paging), latest state."
            ),
            grain=("account_id", "campaign_id"),
            columns=(
                col("account_id", required=True),
                col("campaign_id", required=True),
                col("campaign_name"),
                col("status", "text", "ACTIVE / PAUSED / ARCHIVED"),
                col("objective_type", "text", "e.g. CONSIDERATION, WEB_CONVERSION, AWARENESS"),
                col("daily_spend_cap", "numeric", "daily_spend_cap / 10^6, account currency; null: none", role="money"),
                col("lifetime_spend_cap", "numeric", "lifetime_spend_cap / 10^6, account currency; null: none", role="money"),
                col("budget_currency", "text", "the ad account's currency when there is a spend cap"),
                col("start_time", "timestamptz"),
                col("end_time", "timestamptz"),
                *record_columns(),
            ),
        ),
    ),
)
