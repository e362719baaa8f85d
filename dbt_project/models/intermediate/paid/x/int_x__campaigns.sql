{#
    X campaigns in the union's shape: the daily budget ('daily') when set, else the total budget
    ('lifetime'); X campaigns always carry a daily budget, so a total budget alongside it is not
    represented here (see stg_x__campaigns.total_budget_amount).
    Columns: those of int_campaigns_unioned but campaign_key.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

x_campaigns as (

    select * from {{ ref('stg_x__campaigns') }}

),

final as (

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

)

select * from final
