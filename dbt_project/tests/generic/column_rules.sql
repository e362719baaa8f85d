{#
    Column rules of one model in ONE scan: not_null_columns must never be null,
    non_negative_columns never below zero (nulls pass; list a column in both to forbid both).
    One query per model instead of one per column and rule: the nightly build runs ~40 tests
    instead of ~200, and dbt's per-test overhead (~0.1 s) was most of the build's time.
    A failure returns one row per broken rule, e.g. ('non_negative:spend_local', 3).
#}
{% test column_rules(model, not_null_columns=[], non_negative_columns=[]) %}

{%- set checks = [] %}
{%- for column in not_null_columns %}
    {%- do checks.append(('not_null:' ~ column, column ~ ' is null')) %}
{%- endfor %}
{%- for column in non_negative_columns %}
    {%- do checks.append(('non_negative:' ~ column, column ~ ' < 0')) %}
{%- endfor %}
{%- if not checks %}
    {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": no columns given") }}
{%- endif %}

select rule, failing_rows
from (
    select
    {%- for rule, condition in checks %}
        count(*) filter (where {{ condition }}) as rule_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
) as counts
cross join lateral (
    values
    {%- for rule, condition in checks %}
        ('{{ rule }}', rule_{{ loop.index }}){{ "," if not loop.last }}
    {%- endfor %}
) as broken (rule, failing_rows)
where failing_rows > 0

{% endtest %}
