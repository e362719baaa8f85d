with

source as (

    select * from {{ source('finance', 'fx_rates') }}

),

renamed as (

    select
        rate_date::date as rate_date,
        upper(trim(base_currency))::text as base_currency,
        upper(trim(currency))::text as currency_code,
        rate::numeric as rate,
        source::text as rate_source,
        loaded_at

    from source

)

select * from renamed
