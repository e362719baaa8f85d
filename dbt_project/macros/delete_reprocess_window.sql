{#
    Pre-hook of the incremental fact: inside the model's transaction, delete the last `days` days
    before (and including) the newest date the table holds. The model then inserts every source
    row after the newest date left, so restated rows are replaced and rows that disappeared from
    raw within the window are gone. Nothing happens on the first run or a full refresh.
#}
{% macro delete_reprocess_window(relation, date_column, days) -%}
    {%- if is_incremental() -%}
        delete from {{ relation }}
        where {{ date_column }} > (select max({{ date_column }}) from {{ relation }}) - {{ days }}
    {%- endif -%}
{%- endmacro %}
