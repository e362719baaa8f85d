{#
    Custom schema names are used verbatim (staging, intermediate, marts) instead of dbt's default
    <target_schema>_<custom_schema>: the schemas are part of the warehouse contract (grants, the
    publish step and BI read them by name). Models without a custom schema land in target.schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
