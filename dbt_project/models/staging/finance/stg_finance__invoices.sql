{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}

{#- the select is a macro: the reconciliation mart's change check (macros/finance_month_changes.sql)
    reads the same typed rows, and an ephemeral model cannot be queried on its own -#}
{{ stg_finance_invoices_select(source('finance_billing', 'invoices')) }}
