with

source as (

    select * from {{ source('meta', 'campaigns') }}

),

renamed as (

    select
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        status::text as campaign_status,
        objective::text as campaign_objective,
        daily_budget::numeric as daily_budget_minor_units,
        lifetime_budget::numeric as lifetime_budget_minor_units,
        extracted_at

    from source

)

select * from renamed
