with

source as (

    select * from {{ source('linkedin', 'campaigns') }}

),

renamed as (

    select
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        campaign_group_id::text as campaign_group_id,
        campaign_group_name::text as campaign_group_name,
        status::text as campaign_status,
        objective_type::text as campaign_objective,
        campaign_type::text as campaign_type,
        cost_type::text as cost_type,
        daily_budget_amount::numeric as daily_budget,
        upper(trim(daily_budget_currency))::text as daily_budget_currency_code,
        total_budget_amount::numeric as total_budget,
        upper(trim(total_budget_currency))::text as total_budget_currency_code,
        run_schedule_start::timestamptz as run_schedule_start_at,
        run_schedule_end::timestamptz as run_schedule_end_at,
        extracted_at

    from source

)

select * from renamed
