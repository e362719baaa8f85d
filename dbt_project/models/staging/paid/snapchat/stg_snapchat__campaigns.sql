{#
    Snapchat campaigns in the column set the campaign union shares. A campaign has a daily
    budget or a lifetime spend cap (or neither: budgets on its ad squads); the connector already
    converted both from micro-currency to major units of the ad account's currency.
#}

with

source as (

    select * from {{ source('snapchat', 'campaigns') }}

),

renamed as (

    select
        'snapchat'::text as platform,
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        status::text as status,
        objective::text as objective,
        case budget_period
            when 'daily' then daily_budget
            when 'lifetime' then lifetime_spend_cap
        end::numeric as budget_amount,
        case
            when budget_period in ('daily', 'lifetime') then upper(trim(budget_currency))
        end::text as budget_currency,
        case
            when budget_period in ('daily', 'lifetime') then budget_period
        end::text as budget_period,
        start_time,
        end_time,
        extracted_at

    from source

)

select * from renamed
