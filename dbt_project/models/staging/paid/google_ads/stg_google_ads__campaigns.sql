with

source as (

    select * from {{ source('google_ads', 'campaigns') }}

),

renamed as (

    select
        account_id::text as account_id,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        status::text as campaign_status,
        advertising_channel_type::text as campaign_objective,
        budget_id::text as budget_id,
        budget_amount::numeric as budget_amount,
        budget_total_amount::numeric as budget_total_amount,
        budget_period::text as budget_period,
        upper(trim(budget_currency))::text as budget_currency_code,
        extracted_at,
        as_of_date as extracted_as_of_date

    from source

)

select * from renamed
