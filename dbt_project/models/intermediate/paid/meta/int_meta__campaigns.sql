{#
    Meta campaigns in the union's shape: daily_budget / lifetime_budget come in minor units of
    the account currency (stg_meta__ad_accounts.currency_code), divided by Meta's currency
    offset (1 for the currencies below, 100 for the rest). A zero or missing budget is no budget
    (campaign budget optimisation off: the budgets live on the ad sets).
    Columns: those of int_campaigns_unioned but campaign_key.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
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

final as (

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

)

select * from final
