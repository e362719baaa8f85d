"""Meta Ads: the platform's declaration (socialwh.registry).

Meta Marketing API (Facebook and Instagram ads).
"""

from socialwh.registry import Platform, Table, col, folds, record_columns

PLATFORM = Platform(
    key='meta',
    kind="paid",
    label='Meta Ads',
    mart_platform='meta',
    conn_id='meta_ads',
    oauth="meta",  # socialwh.connectors.oauth: how its credentials renew
    utm_sources=('facebook', 'fb', 'instagram', 'ig', 'meta'),
    sandbox="socialwh_dev.sandbox.meta",
    description='Meta Marketing API (Facebook and Instagram ads) as loaded by the meta connector into raw.*. Each extraction window is replaced per account in one transaction, so raw holds the latest restated numbers.',
    union_models={"ad_stats": "int_meta__ad_stats", "campaigns": "int_meta__campaigns"},
    tables=(
        Table(
            name='meta_ad_accounts',
            dbt_name='ad_accounts',
            description='One row per ad account (GET /act_{id}?fields=currency,timezone_name).',
            grain=('account_id',),
            columns=(
                col('account_id', 'text', 'digits, without the act_ prefix', required=True),
                col('account_name'),
                col('currency', required=True, role='currency'),
                col('timezone_name', required=True),
                *record_columns(as_of_date=False),
            ),
        ),
        Table(
            name='meta_ad_insights',
            dbt_name='ad_insights',
            description="Ad-level daily insights (level=ad, time_increment=1). One row per account, day and ad; date_start is the day in the ad account's time zone.",
            grain=('account_id', 'date_start', 'ad_id'),
            date='date_start',
            windowed=True,
            spend='spend',
            freshness=True,
            # the API record's keys its typed columns hold: not stored twice (raw.api_record(t))
            folds=folds('account_id', 'date_start', 'campaign_id', 'campaign_name', 'adset_id', 'adset_name',
                        'ad_id', 'ad_name', 'account_currency', 'spend', 'impressions', 'clicks', 'reach',
                        'actions', 'action_values', date_stop='date_start'),
            columns=(
                col('account_id', required=True),
                col('date_start', 'date', "the day, in the ad account's time zone", required=True),
                col('campaign_id'),
                col('campaign_name'),
                col('adset_id'),
                col('adset_name'),
                col('ad_id', required=True),
                col('ad_name'),
                col('account_currency', required=True, role='currency'),
                col('account_timezone', required=True),
                col('spend', 'numeric', required=True, role='money'),
                col('impressions', 'bigint', required=True, role='count'),
                col('clicks', 'bigint', required=True, role='count'),
                col('reach', 'bigint', role='count'),
                # compact text (socialwh.warehouse.action_lists): link_click=25,purchase=1 for the
                # API's [{"action_type": "link_click", "value": "25"}, ...]; raw.action_list_json(c) gives it back
                col('actions', 'text', 'the action list: type=value,... in its order, or its JSON text when it has'
                    ' other keys or values (raw.action_list_json(actions) gives the jsonb back)', role='actions'),
                col('action_values', 'text', 'the action values list, as actions', role='actions'),
                *record_columns(folded=True),
            ),
        ),
        Table(
            name='meta_campaigns',
            dbt_name='campaigns',
            description='Campaign objects (GET /act_{id}/campaigns), latest state.',
            grain=('account_id', 'campaign_id'),
            columns=(
                col('account_id', required=True),
                col('campaign_id', required=True),
                col('campaign_name'),
                col('status'),
                col('objective'),
                col('daily_budget', 'numeric', "in the account currency's minor units, as Meta returns"),
                col('lifetime_budget', 'numeric'),
                *record_columns(),
            ),
        ),
    ),
)
