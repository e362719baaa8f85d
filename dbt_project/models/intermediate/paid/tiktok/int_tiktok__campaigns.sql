{#
    TikTok campaigns in the union's shape: budget_amount / budget_period as staged (null without
    a campaign budget).
    Columns: those of int_campaigns_unioned but campaign_key.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

tiktok_campaigns as (

    select * from {{ ref('stg_tiktok__campaigns') }}

),

final as (

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

)

select * from final
