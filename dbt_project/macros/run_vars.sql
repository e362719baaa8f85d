{#
    Typed accessors for the project vars, validated once here so a bad value fails at compile
    time with a message naming the var, instead of as an SQL error (or an injection) later.
#}

{% macro as_of_date_text() -%}
    {#-
        The reporting date as YYYY-MM-DD text, or '' for today: var('as_of_date') when given
        (tests, the CLI), else the env var SOCIALWH_AS_OF_DATE (the Airflow run sets it to its
        logical date). An env var, not a var, in the nightly run: dbt drops its whole partial-parse
        state when any --vars value changes, and the date changes every night (~3 s of full
        parse per night); a changed env var only re-parses the few files that use this macro.
    -#}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
        {%- set value = env_var('SOCIALWH_AS_OF_DATE', '') -%}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if text in ('', 'None', 'null') -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error(
            "as_of_date (var or SOCIALWH_AS_OF_DATE) must be a date like 2024-03-15 (or empty for today), got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{% macro as_of_date() -%}
    {#- The reporting date as an SQL date: as_of_date_text() or today. -#}
    {%- set text = as_of_date_text() -%}
    {%- if text == '' -%}
        current_date
    {%- else -%}
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
