{#
    The campaign naming convention (dim_campaigns, rpt_campaign_naming_issues), from the vars
    campaign_naming_separator, campaign_naming_fields and campaign_naming_pattern (Airflow passes
    them from config/warehouse.yml `campaign_naming:`). Validated here so a bad value fails at
    compile time with a message naming the var.
#}

{% macro campaign_naming_separator() -%}
    {#- The separator between the name's parts, as an SQL literal. -#}
    {%- set value = var('campaign_naming_separator', '_') | string -%}
    {%- if value | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'campaign_naming_separator' must not be empty") }}
    {%- endif -%}
    '{{ value | replace("'", "''") }}'::text
{%- endmacro %}


{% macro campaign_naming_pattern() -%}
    {#- The regular expression (PostgreSQL ARE) a well-formed name matches, as an SQL literal. -#}
    {%- set value = var('campaign_naming_pattern', '^[0-9]{4}Q[1-4]_[A-Za-z]+_[A-Z]{2,4}_[A-Za-z]+$') | string -%}
    {%- if value | trim | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'campaign_naming_pattern' must not be empty") }}
    {%- endif -%}
    '{{ value | replace("'", "''") }}'::text
{%- endmacro %}


{% macro campaign_naming_fields() -%}
    {#- The names of the name's parts in order (a list); each becomes a column name_<field>. -#}
    {%- set value = var('campaign_naming_fields', ['period', 'objective', 'market', 'format']) -%}
    {%- if value is string -%}
        {%- set value = value.split(',') | map('trim') | list -%}
    {%- endif -%}
    {%- set fields = value | map('string') | map('trim') | map('lower') | list -%}
    {%- if fields | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'campaign_naming_fields' must list at least one field") }}
    {%- endif -%}
    {%- for field in fields -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', field) -%}
            {{ exceptions.raise_compiler_error(
                "var 'campaign_naming_fields' entries must be lower-case identifiers, got '" ~ field ~ "'"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if fields | unique | list | length != fields | length -%}
        {{ exceptions.raise_compiler_error("var 'campaign_naming_fields' has duplicate fields") }}
    {%- endif -%}
    {{ return(fields) }}
{%- endmacro %}
