{#
    Typed accessors for the project vars, validated once here so a bad value fails at compile
    time with a message naming the var, instead of as an SQL error (or an injection) later.
#}

{% macro as_of_date() -%}
    {#- The reporting date: var('as_of_date') (the Airflow logical date) or today. -#}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
        current_date
    {%- else -%}
        {%- set text = value | string | trim -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of_date' must be a date like 2024-03-15 (or null for today), got '" ~ text ~ "'"
            ) }}
        {%- endif -%}
        '{{ text }}'::date
    {%- endif -%}
{%- endmacro %}


{% macro reporting_currency() -%}
    {#- The ISO 4217 code every *_reporting column is expressed in, as an SQL literal. -#}
    {%- set code = var('reporting_currency', 'EUR') | string | trim | upper -%}
    {%- if not modules.re.fullmatch('[A-Z]{3}', code) -%}
        {{ exceptions.raise_compiler_error(
            "var 'reporting_currency' must be an ISO 4217 code like EUR, got '" ~ code ~ "'"
        ) }}
    {%- endif -%}
    '{{ code }}'::text
{%- endmacro %}


{% macro pacing_tolerance() -%}
    {%- set value = var('pacing_tolerance', 0.10) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+(\.[0-9]+)?', value) -%}
        {{ exceptions.raise_compiler_error(
            "var 'pacing_tolerance' must be a non-negative number like 0.10, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ value }}::numeric
{%- endmacro %}


{% macro reprocess_days() -%}
    {%- set value = var('reprocess_days', 35) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+', value) or value | int < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var 'reprocess_days' must be a positive whole number of days, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- value | int -}}
{%- endmacro %}
