with

source as (

    select * from {{ source('meta', 'ad_accounts') }}

),

renamed as (

    select
        account_id::text as account_id,
        account_name::text as account_name,
        upper(trim(currency))::text as currency_code,
        timezone_name::text as account_timezone,
        extracted_at

    from source

)

select * from renamed
