{#
    Google Ads campaigns in the union's shape: DAILY -> budget_amount, 'daily'; CUSTOM_PERIOD ->
    budget_total_amount, 'lifetime'.
    Columns: those of int_campaigns_unioned but campaign_key.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

google_ads_campaigns as (

    select * from {{ ref('stg_google_ads__campaigns') }}

),

final as (

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

)

select * from final
