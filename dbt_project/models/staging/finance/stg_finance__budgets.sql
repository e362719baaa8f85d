with

source as (

    select * from {{ source('finance', 'budgets') }}

),

renamed as (

    select
        source_file::text as source_file,
        line_number::integer as line_number,
        date_trunc('month', budget_month)::date as budget_month,
        lower(trim(platform))::text as platform,
        trim(account_id)::text as account_id,
        nullif(trim(campaign_id), '')::text as campaign_id,
        amount::numeric as budget_amount,
        upper(trim(currency))::text as budget_currency,
        trim(plan_version)::text as plan_version,
        lower(trim(plan_status))::text as plan_status,
        file_sha256::text as file_sha256,
        loaded_at

    from source

)

select * from renamed
