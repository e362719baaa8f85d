{#
  on-run-end: keep what every dbt invocation did in ops.dbt_results (one row per node), so the
  run summary reports the models built and tests passed by the run itself, not what the manifest
  declares. Cosmos runs the nightly `dbt build` in a temporary copy of the project, where
  target/run_results.json does not outlive the task; this table does.
#}
{% macro record_run_results(results) %}
  {% if execute and results %}
    {% set rows = [] %}
    {% for res in results %}
      {% do rows.append(
        "(" ~ [
          "'" ~ invocation_id ~ "'",
          "'" ~ res.node.unique_id | replace("'", "''") ~ "'",
          "'" ~ res.node.resource_type ~ "'",
          "'" ~ res.status ~ "'",
          (res.failures if res.failures is not none else "null"),
          (res.execution_time | round(3)),
          ("'" ~ as_of_date_text() ~ "'::date" if as_of_date_text() else "null"),
        ] | join(", ") ~ ")"
      ) %}
    {% endfor %}
    create schema if not exists ops;
    create table if not exists ops.dbt_results (
        invocation_id   text not null,
        unique_id       text not null,
        resource_type   text not null,
        status          text not null,      -- success, error, skipped, pass, fail, warn
        failures        integer,            -- failing rows of a test
        execution_time  numeric not null,   -- seconds
        as_of_date      date,               -- the run's as_of_date (the Airflow logical date)
        recorded_at     timestamptz not null default now(),
        primary key (invocation_id, unique_id)
    );
    insert into ops.dbt_results
        (invocation_id, unique_id, resource_type, status, failures, execution_time, as_of_date)
    values {{ rows | join(",\n") }};
  {% endif %}
{% endmacro %}
