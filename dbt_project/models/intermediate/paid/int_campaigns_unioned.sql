{#
    Every paid platform's campaigns in one column set, one row per platform x account_id x
    campaign_id, with the campaign's current attributes and its budget in one shape:
    budget_amount (major units of budget_currency), budget_period ('daily' | 'lifetime' | null).
    Like int_ad_performance_unioned, a platform is one CTE selecting `common_columns` and one
    entry in `platforms`; the union takes the columns by name, in this order.

    Per platform:
      meta        daily_budget / lifetime_budget come in minor units of the account currency
                  (stg_meta__ad_accounts.currency_code): divided by Meta's currency offset (1 for
                  the currencies below, 100 for the rest). A zero or missing budget is no budget
                  (campaign budget optimisation off: the budgets live on the ad sets).
      google_ads  DAILY -> budget_amount, 'daily'; CUSTOM_PERIOD -> budget_total_amount, 'lifetime'.
      tiktok      budget_amount / budget_period as staged (null without a campaign budget).
      linkedin    the campaign is the LinkedIn *campaign group*, as in stg_linkedin__ad_stats
                  (campaign group > campaign > creative = campaign > ad set > ad). Staging only
                  holds LinkedIn campaigns, so a group row is derived from its campaigns:
                  name = campaign_group_name; status = ACTIVE when any of its campaigns is ACTIVE,
                  else the status they share, else null; objective = the objective they share,
                  else null; budget = the sum of the campaigns' daily budgets when every campaign
                  has one in one currency, else the sum of their total budgets on the same
                  condition ('lifetime'), else null (the group's own budget is not extracted).
      x           the daily budget ('daily') when set, else the total budget ('lifetime'); X
                  campaigns always carry a daily budget, so a total budget alongside it is not
                  represented here (see stg_x__campaigns.total_budget_amount).
#}
{%- set platforms = ['meta', 'google_ads', 'tiktok', 'linkedin', 'x'] -%}
{%- set common_columns = [
    'campaign_key',
    'platform',
    'account_id',
    'campaign_id',
    'campaign_name',
    'status',
    'objective',
    'budget_amount',
    'budget_currency',
    'budget_period',
] -%}
{#- Meta's currencies with offset 1 (amounts already in major units); every other one has 100. -#}
{%- set meta_offset_one_currencies = ['CLP', 'COP', 'CRC', 'HUF', 'ISK', 'IDR', 'JPY', 'KRW', 'PYG', 'TWD', 'VND'] -%}

with

meta_campaigns as (

    select * from {{ ref('stg_meta__campaigns') }}

),

meta_ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

meta_budgets as (

    select
        campaigns.*,
        accounts.currency_code,
        case
            when accounts.currency_code in ('{{ meta_offset_one_currencies | join("', '") }}') then 1
            else 100
        end as currency_offset

    from meta_campaigns as campaigns
    left join meta_ad_accounts as accounts
        on campaigns.account_id = accounts.account_id

),

meta as (

    select
        'meta'::text as platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_status as status,
        campaign_objective as objective,
        case
            when daily_budget_minor_units > 0 then daily_budget_minor_units / currency_offset
            when lifetime_budget_minor_units > 0 then lifetime_budget_minor_units / currency_offset
        end as budget_amount,
        case
            when daily_budget_minor_units > 0 or lifetime_budget_minor_units > 0 then currency_code
        end as budget_currency,
        case
            when daily_budget_minor_units > 0 then 'daily'
            when lifetime_budget_minor_units > 0 then 'lifetime'
        end as budget_period

    from meta_budgets

),

google_ads_campaigns as (

    select * from {{ ref('stg_google_ads__campaigns') }}

),

google_ads as (

    select
        'google_ads'::text as platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_status as status,
        campaign_objective as objective,
        case upper(budget_period)
            when 'DAILY' then budget_amount
            when 'CUSTOM_PERIOD' then budget_total_amount
        end as budget_amount,
        case
            when upper(budget_period) = 'DAILY' and budget_amount is not null then budget_currency_code
            when upper(budget_period) = 'CUSTOM_PERIOD' and budget_total_amount is not null
                then budget_currency_code
        end as budget_currency,
        case
            when upper(budget_period) = 'DAILY' and budget_amount is not null then 'daily'
            when upper(budget_period) = 'CUSTOM_PERIOD' and budget_total_amount is not null
                then 'lifetime'
        end as budget_period

    from google_ads_campaigns

),

tiktok_campaigns as (

    select * from {{ ref('stg_tiktok__campaigns') }}

),

tiktok as (

    select
        'tiktok'::text as platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_status as status,
        campaign_objective as objective,
        budget_amount,
        case when budget_amount is not null then budget_currency_code end as budget_currency,
        case when budget_amount is not null then lower(budget_period) end as budget_period

    from tiktok_campaigns

),

linkedin_campaigns as (

    select * from {{ ref('stg_linkedin__campaigns') }}

),

linkedin_groups as (

    select
        account_id,
        campaign_group_id,
        max(campaign_group_name) as campaign_group_name,
        bool_or(campaign_status = 'ACTIVE') as any_active,
        count(distinct campaign_status) as n_statuses,
        min(campaign_status) as some_status,
        count(distinct campaign_objective) as n_objectives,
        count(campaign_objective) as n_with_objective,
        min(campaign_objective) as some_objective,
        count(*) as n_campaigns,
        count(daily_budget) as n_daily,
        count(distinct daily_budget_currency_code) as n_daily_currencies,
        min(daily_budget_currency_code) as daily_currency,
        sum(daily_budget) as daily_budget,
        count(total_budget) as n_total,
        count(distinct total_budget_currency_code) as n_total_currencies,
        min(total_budget_currency_code) as total_currency,
        sum(total_budget) as total_budget

    from linkedin_campaigns
    where campaign_group_id is not null
    group by account_id, campaign_group_id

),

linkedin as (

    select
        'linkedin'::text as platform,
        account_id,
        campaign_group_id as campaign_id,
        campaign_group_name as campaign_name,
        case
            when any_active then 'ACTIVE'
            when n_statuses = 1 then some_status
        end as status,
        case when n_objectives = 1 and n_with_objective = n_campaigns then some_objective end as objective,
        case
            when n_daily = n_campaigns and n_daily_currencies = 1 then daily_budget
            when n_total = n_campaigns and n_total_currencies = 1 then total_budget
        end as budget_amount,
        case
            when n_daily = n_campaigns and n_daily_currencies = 1 then daily_currency
            when n_total = n_campaigns and n_total_currencies = 1 then total_currency
        end as budget_currency,
        case
            when n_daily = n_campaigns and n_daily_currencies = 1 then 'daily'
            when n_total = n_campaigns and n_total_currencies = 1 then 'lifetime'
        end as budget_period

    from linkedin_groups

),

x_campaigns as (

    select * from {{ ref('stg_x__campaigns') }}

),

x as (

    select
        'x'::text as platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_status as status,
        campaign_objective as objective,
        coalesce(daily_budget_amount, total_budget_amount) as budget_amount,
        case
            when coalesce(daily_budget_amount, total_budget_amount) is not null then budget_currency_code
        end as budget_currency,
        case
            when daily_budget_amount is not null then 'daily'
            when total_budget_amount is not null then 'lifetime'
        end as budget_period

    from x_campaigns

),

unioned as (

    {% for platform in platforms %}
    select
        platform || ':' || account_id || ':' || campaign_id as campaign_key,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        status,
        objective,
        budget_amount::numeric as budget_amount,
        budget_currency::text as budget_currency,
        budget_period::text as budget_period
    from {{ platform }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    {{ common_columns | join(',\n    ') }}
from unioned
