{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}

with

source as (

    select * from {{ source('finance_billing', 'invoices') }}

),

renamed as (

    select
        source_file::text as source_file,
        line_number::integer as line_number,
        trim(document_id)::text as document_id,
        lower(trim(document_type))::text as document_type,
        lower(trim(platform))::text as platform,
        trim(account_id)::text as account_id,
        date_trunc('month', billing_month)::date as billing_month,
        issue_date::date as issue_date,
        amount::numeric as amount,
        -- the document's effect on what was billed: credit notes reduce it
        case
            when lower(trim(document_type)) = 'credit_note' then -amount::numeric
            else amount::numeric
        end as signed_amount,
        upper(trim(currency))::text as invoice_currency,
        nullif(trim(description), '')::text as description,
        file_sha256::text as file_sha256,
        loaded_at

    from source

)

select * from renamed
