with

source as (

    select * from {{ source('x', 'campaigns') }}

),

renamed as (

    select
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        entity_status::text as campaign_status,
        objective::text as campaign_objective,
        daily_budget::numeric as daily_budget_amount,
        total_budget::numeric as total_budget_amount,
        upper(trim(budget_currency))::text as budget_currency_code,
        funding_instrument_id::text as funding_instrument_id,
        start_time::timestamptz as campaign_start_at,
        end_time::timestamptz as campaign_end_at,
        deleted::boolean as is_deleted,
        line_items as line_items,
        extracted_at,
        as_of_date as extracted_as_of_date

    from source

)

select * from renamed
