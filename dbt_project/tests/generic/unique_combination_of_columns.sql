{#
    The grain test: no two rows share the same values in combination_of_columns. Nulls compare
    equal here (group by), so a null campaign_id still takes part in the key.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as n_rows
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
