{#
    Pinterest campaigns. A campaign's budget is its spend cap: daily_spend_cap (daily) or
    lifetime_spend_cap (lifetime), both already in major units of the account's currency; a
    campaign without either has its budgets on the ad groups (budget_period null).
#}

with

source as (

    select * from {{ source('pinterest', 'campaigns') }}

),

renamed as (

    select
        'pinterest'::text as platform,
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        status::text as status,
        objective_type::text as objective,
        coalesce(daily_spend_cap, lifetime_spend_cap)::numeric as budget_amount,
        case
            when daily_spend_cap is not null or lifetime_spend_cap is not null
                then upper(trim(budget_currency))
        end::text as budget_currency,
        case
            when daily_spend_cap is not null then 'daily'
            when lifetime_spend_cap is not null then 'lifetime'
        end::text as budget_period,
        start_time,
        end_time,
        extracted_at

    from source

)

select * from renamed
