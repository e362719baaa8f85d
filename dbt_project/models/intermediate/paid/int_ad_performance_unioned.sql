{#
    Every paid platform's ad-level daily rows in one column set. The platforms and the model
    each one feeds this union with (default stg_<key>__ad_stats) come from the platform registry
    (socialwh.platforms, generated into macros/_platforms.sql): adding a platform edits nothing
    here. The union takes `common_columns` by name, in this order.
#}
{%- set common_columns = [
    'platform',
    'account_id',
    'account_name',
    'campaign_id',
    'campaign_name',
    'adset_id',
    'adset_name',
    'ad_id',
    'ad_name',
    'date_day',
    'currency_code',
    'account_timezone',
    'impressions',
    'clicks',
    'reach',
    'conversions',
    'spend_local',
    'conversion_value_local',
] -%}

with

unioned as (

    {% for p in paid_platforms() %}
    select
        {{ common_columns | join(',\n        ') }}
    from {{ ref(p.ad_stats) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
