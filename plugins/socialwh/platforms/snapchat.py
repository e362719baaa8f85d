"""Snapchat Ads: the platform's declaration (socialwh.registry).

Snapchat Marketing API v1, loaded by socialwh.connectors.snapchat. The stats endpoint carries
only ids and numbers; the connector puts the ad account's name, currency and time zone and the
ad's ad squad and campaign (ids and names, from the entity lists) on every row. Money arrives in
micro-currency and is stored in major units of the account currency, exactly (micro / 10^6).
"""

from socialwh.registry import Platform, Table, col, record_columns

PLATFORM = Platform(
    key="snapchat",
    kind="paid",
    label="Snapchat Ads",
    mart_platform="snapchat",
    conn_id="snapchat_ads",
    utm_sources=("snapchat", "snap"),
    sandbox="socialwh_dev.sandbox.snapchat",
    oauth="snapchat",  # its connector's OAUTH_FLOW (socialwh.connectors.oauth): how its credentials renew
    description=(
        "Snapchat Marketing API (v1) as loaded by the snapchat connector into raw.*. Each night the "
        "lookback window is re-extracted and replaced per ad account in one transaction, so raw "
        "holds the latest restated numbers. Days are days in the ad account's own time zone "
        "(stats requested with granularity=DAY from local midnight to local midnight)."
    ),
    options={
        "api_version": "path version, default v1 (the only one Snapchat publishes)",
        "max_days_per_request": "days per stats request, 1..31 (Snapchat's DAY limit), default 31",
        "page_size": "limit of the entity lists, 50..1000, default 1000",
        "swipe_up_attribution_window": "1_DAY | 7_DAY | 28_DAY; default: the ad account's setting",
        "view_attribution_window": "1_HOUR | 3_HOUR | 6_HOUR | 1_DAY | 7_DAY; default: the account's",
    },
    tables=(
        Table(
            name="snapchat_ad_stats",
            dbt_name="ad_stats",
            description=(
                "Ad-level daily stats (GET /v1/adaccounts/{id}/stats?granularity=DAY&breakdown=ad). "
                "One row per ad account, local day and ad with delivery; the ad account's name, "
                "currency and time zone (GET /v1/adaccounts/{id}) and the ad's ad squad and "
                "campaign (GET .../ads, .../adsquads, .../campaigns) on every row."
            ),
            grain=("account_id", "date_day", "ad_id"),
            date="date_day",
            windowed=True,
            spend="spend",
            freshness=True,
            columns=(
                col("account_id", "text", "ad account id (a UUID)", required=True),
                col("account_name", "text", "ad account name (GET /v1/adaccounts/{id})"),
                col("date_day", "date", "the day in the ad account's time zone (timeseries start_time)", required=True),
                col("campaign_id", "text", "the ad squad's campaign_id"),
                col("campaign_name"),
                col("adsquad_id", "text", "the ad's ad_squad_id (Snapchat's ad set)"),
                col("adsquad_name"),
                col("ad_id", "text", "breakdown_stats.ad[].id", required=True),
                col("ad_name"),
                col("currency", "text", "the ad account's currency: every money column", required=True, role="currency"),
                col("account_timezone", "text", "the ad account's IANA time zone: date_day is a day there", required=True),
                col("spend", "numeric", "stats.spend (micro-currency) / 10^6: exact, account currency", required=True, role="money"),
                col("impressions", "bigint", "stats.impressions", required=True, role="count"),
                col("swipes", "bigint", "stats.swipes: swipe-ups, Snapchat's clicks", required=True, role="count"),
                col("conversion_purchases", "numeric", "stats.conversion_purchases: attributed purchases", role="count"),
                col("conversion_purchases_value", "numeric", "stats.conversion_purchases_value (micro) / 10^6: their value, account currency", role="money"),
                *record_columns(),
            ),
        ),
        Table(
            name="snapchat_campaigns",
            dbt_name="campaigns",
            description="Campaign objects (GET /v1/adaccounts/{id}/campaigns), latest state.",
            grain=("account_id", "campaign_id"),
            columns=(
                col("account_id", required=True),
                col("campaign_id", required=True),
                col("campaign_name"),
                col("status", "text", "ACTIVE / PAUSED"),
                col("objective", "text", "e.g. WEB_CONVERSION, AWARENESS, BRAND_AWARENESS"),
                col("start_time", "timestamptz"),
                col("end_time", "timestamptz", "null: runs until stopped"),
                col("daily_budget", "numeric", "daily_budget_micro / 10^6, account currency; null: none", role="money"),
                col("lifetime_spend_cap", "numeric", "lifetime_spend_cap_micro / 10^6, account currency; null: none", role="money"),
                col("budget_period", "text", "daily / lifetime, from which budget is set; null: none"),
                col("budget_currency", "text", "the ad account's currency when there is a budget", role="currency"),
                *record_columns(),
            ),
        ),
    ),
)
