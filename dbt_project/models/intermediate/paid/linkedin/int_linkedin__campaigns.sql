{#
    LinkedIn campaign groups in the union's shape. The campaign in our marts is the LinkedIn
    *campaign group*, as in stg_linkedin__ad_stats (campaign group > campaign > creative =
    campaign > ad set > ad). Staging only holds LinkedIn campaigns, so a group row is derived
    from its campaigns: name = campaign_group_name; status = ACTIVE when any of its campaigns is
    ACTIVE, else the status they share, else null; objective = the objective they share, else
    null; budget = the sum of the campaigns' daily budgets when every campaign has one in one
    currency, else the sum of their total budgets on the same condition ('lifetime'), else null
    (the group's own budget is not extracted).
    Columns: those of int_campaigns_unioned but campaign_key.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

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

final as (

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

)

select * from final
