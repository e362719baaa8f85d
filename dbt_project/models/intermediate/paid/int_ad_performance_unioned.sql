{#
    Every paid platform's ad-level daily rows in one column set. Adding a platform (google_ads,
    tiktok, linkedin, x) is one more CTE that selects these columns from its staging models and
    one more entry in `platforms`; the union takes the columns by name, in this order.
#}
{%- set platforms = ['meta', 'google_ads', 'tiktok', 'linkedin', 'x'] -%}
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

meta_ad_insights as (

    select * from {{ ref('stg_meta__ad_insights') }}

),

meta_ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

meta_campaigns as (

    select * from {{ ref('stg_meta__campaigns') }}

),

meta as (

    select
        'meta'::text as platform,
        insights.account_id,
        accounts.account_name,
        insights.campaign_id,
        -- the campaign object carries the current name; insights keep the name of each day
        coalesce(campaigns.campaign_name, insights.campaign_name) as campaign_name,
        insights.adset_id,
        insights.adset_name,
        insights.ad_id,
        insights.ad_name,
        insights.date_day,
        insights.currency_code,
        insights.account_timezone,
        insights.impressions::bigint as impressions,
        insights.clicks::bigint as clicks,
        insights.reach::bigint as reach,
        insights.conversions::numeric as conversions,
        insights.spend::numeric as spend_local,
        insights.conversion_value::numeric as conversion_value_local

    from meta_ad_insights as insights
    left join meta_ad_accounts as accounts
        on insights.account_id = accounts.account_id
    left join meta_campaigns as campaigns
        on
            insights.account_id = campaigns.account_id
            and insights.campaign_id = campaigns.campaign_id

),

google_ads as (

    select * from {{ ref('stg_google_ads__ad_stats') }}

),

tiktok as (

    select * from {{ ref('stg_tiktok__ad_stats') }}

),

linkedin as (

    select * from {{ ref('stg_linkedin__ad_stats') }}

),

x as (

    select * from {{ ref('stg_x__ad_stats') }}

),

unioned as (

    {% for platform in platforms %}
    select
        {{ common_columns | join(',\n        ') }}
    from {{ platform }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
