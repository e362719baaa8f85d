{#
    Monthly marts rebuilt from a month on (issue #10: a night costs what changed).

    A monthly finance mart (fct_roi_monthly, fct_spend_reconciliation_monthly) sums the ad fact
    by month and joins finance inputs (orders, invoices, FX rates) that change as whole files, so
    "what changed" is read from two places, when the model compiles (before anything is deleted):
      1. the ad side: the months of the ad fact's reprocess window (its newest day minus
         var('reprocess_days'), one day earlier for the month-edge days reconciliation reads),
         and the months of paid raw batches loaded since the mart's last build (ops.mart_builds:
         a backfill, a new account's history), from the day before their window start;
      2. the finance side: the model's own `changed_sql`, a query comparing what the mart holds
         with what its inputs say now (cheap: per month x account, not per ad-day) and returning
         the first month that differs, or the text 'all' for "everything" (a var that changes
         every row, like the margin or the reporting currency).
    The earliest of those is the month the run rebuilds from:
      pre-hook  months_begin(): deletes the mart's rows from that month on (every row: nothing
                  changed before it), in the model's transaction;
      the model selects its rows from that month on (months_from() is a constant, so it reaches
                  the index / raw scans);
      post-hook months_end(): records the month in ops.mart_changes (publish replaces only that
                  range of bi; null = the whole table) and the build in ops.mart_builds.
    A first build or --full-refresh builds everything (months_from() is none).
#}

{% macro months_from(month_column, changed_sql=none, relation=none) -%}
    {#- The first month (text 'YYYY-MM-01') an incremental run rebuilds; none = everything. -#}
    {%- set relation = relation if relation is not none else this -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set ad = ref('fct_ad_performance_daily') -%}
    {%- set paid = [] -%}
    {%- for p in paid_platforms() -%}{%- do paid.append(_quote_text(p.key)) -%}{%- endfor -%}
    {%- set candidates = [
        "select date_trunc('month', max(date_day) - " ~ reprocess_days() ~ ")::date from " ~ ad
    ] -%}
    {%- if _mart_builds_exists() -%}
        {%- do candidates.append(
            "select date_trunc('month', min(b.window_start) - 1)::date from raw.load_batches as b"
            ~ " join ops.mart_builds as built on built.model = " ~ _quote_text(relation.identifier)
            ~ " where b.source in (" ~ paid | join(', ') ~ ") and b.loaded_at > built.built_at"
        ) -%}
    {%- endif -%}
    {%- set ns = namespace(everything=false) -%}
    {%- if changed_sql -%}
        {%- set changed = run_query("select (" ~ changed_sql ~ ")::text").columns[0].values()[0] -%}
        {%- if changed == 'all' -%}
            {%- set ns.everything = true -%}
        {%- elif changed is not none -%}
            {%- do candidates.append("select date_trunc('month', '" ~ changed ~ "'::date)::date") -%}
        {%- endif -%}
    {%- endif -%}
    {%- if ns.everything -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set first = run_query(
        "select least((" ~ candidates | join('), (') ~ "))::text"
    ).columns[0].values()[0] -%}
    {%- if first is none -%}
        {#- an empty ad fact and no difference: nothing before the mart's own newest month -#}
        {%- set first = run_query(
            "select coalesce(max(" ~ month_column ~ "), '-infinity'::date)::text from " ~ relation
        ).columns[0].values()[0] -%}
    {%- endif -%}
    {{ return(first) }}
{%- endmacro %}


{% macro months_begin(month_column, changed_sql=none, relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if is_incremental() -%}
        {%- set first = months_from(month_column, changed_sql, relation) -%}
        {%- set t = _window_tables(relation) -%}
        drop table if exists pg_temp.{{ t.start }};
        create temporary table {{ t.start }} as
            select {{ "'" ~ first ~ "'::date" if first else 'null::date' }} as window_start;
        delete from {{ relation }}
        {%- if first %} where {{ month_column }} >= '{{ first }}'::date{% endif %}
    {%- endif -%}
{%- endmacro %}


{% macro months_end(month_column, relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {{ ensure_mart_changes() }};
    insert into ops.mart_changes (model, date_column, changed_from)
    {%- if is_incremental() %}
    select '{{ relation.identifier }}', '{{ month_column }}',
        (select window_start from pg_temp.{{ _window_tables(relation).start }})
    {%- else %}
    values ('{{ relation.identifier }}', '{{ month_column }}', null)
    {%- endif %};
    insert into ops.mart_builds (model, built_at) values ('{{ relation.identifier }}', now())
    on conflict (model) do update set built_at = excluded.built_at
{%- endmacro %}
