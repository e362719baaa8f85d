{# Counts and amounts that cannot be below zero. Nulls pass (pair with not_null where needed). #}
{% test non_negative(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
