with

source as (

    select * from {{ source('tiktok', 'campaigns') }}

),

renamed as (

    select
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        operation_status::text as campaign_status,
        secondary_status::text as campaign_secondary_status,
        objective_type::text as campaign_objective,
        budget::numeric as budget_amount,
        budget_mode::text as budget_mode,
        budget_period::text as budget_period,
        upper(trim(budget_currency))::text as budget_currency_code,
        extracted_at

    from source

)

select * from renamed
