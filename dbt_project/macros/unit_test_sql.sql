{#
    dbt compares unit-test results as text, so an exact numeric 1.0000000000000000 differs from
    the expected 1. This override (picked up by dispatch before dbt's default) compares numerics
    by value: every column is rendered as text, numerics first through trim_scale(). Nothing else
    changes: it only shapes the result set the `unit` materialization diffs.
#}
{% macro postgres__get_unit_test_sql(main_sql, expected_fixture_sql, expected_column_names) -%}
-- Build actual result given inputs
with dbt_internal_unit_test_actual as (
  select
    {% for column_name in expected_column_names -%}
    {{ _unit_test_comparable(column_name) }},
    {% endfor -%}
    {{ dbt.string_literal("actual") }} as {{ adapter.quote("actual_or_expected") }}
  from (
    {{ main_sql }}
  ) _dbt_internal_unit_test_actual
),
-- Build expected result
dbt_internal_unit_test_expected as (
  select
    {% for column_name in expected_column_names -%}
    {{ _unit_test_comparable(column_name) }},
    {% endfor -%}
    {{ dbt.string_literal("expected") }} as {{ adapter.quote("actual_or_expected") }}
  from (
    {{ expected_fixture_sql }}
  ) _dbt_internal_unit_test_expected
)
-- Union actual and expected results
select * from dbt_internal_unit_test_actual
union all
select * from dbt_internal_unit_test_expected
{%- endmacro %}


{% macro _unit_test_comparable(column_name) -%}
    case
        when pg_typeof({{ column_name }}) = 'numeric'::regtype
            then trim_scale({{ column_name }}::text::numeric)::text
        else {{ column_name }}::text
    end as {{ column_name }}
{%- endmacro %}
