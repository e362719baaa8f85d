{#
    The reprocess window of the incremental marts (issue #10: a night costs what changed).

    An incremental mart keyed by platform x account_id x ... x <date column>:
      pre-hook  window_begin(): in the model's transaction, before its select runs,
                  1. remembers the window start: the newest <date column> it holds minus
                     var('reprocess_days') + 1 day (for a monthly mart: the first day of the
                     month that day falls in, so every month a changed day touches is rebuilt),
                  2. deletes every row from the window start on,
                  3. remembers the accounts it still holds (after the delete);
      the model selects window_filter(): the upstream rows from the window start on, plus every
                  row of an account it does not hold yet (a new account's history, older than
                  the window);
      post-hook window_end(): records in ops.mart_changes the first day it rewrote (the window
                  start, or an older day of a new account's rows; null = the whole table, as on
                  a first build or a --full-refresh), which `publish` reads to replace only
                  that date range of the bi table.

    The window state lives in temporary tables of the model's own session
    (<model>__window_start, <model>__held), so nothing is left behind and runs of different
    models do not meet. A mart downstream of another incremental mart uses its own newest day:
    when both were built on the same nights their windows coincide, and a mart that fell behind
    re-reads everything after its own newest day.
#}

{% macro _window_tables(relation) -%}
    {{ return({
        'start': adapter.quote(relation.identifier ~ '__window_start'),
        'held': adapter.quote(relation.identifier ~ '__held'),
        'rewritten': adapter.quote(relation.identifier ~ '__rewritten'),
    }) }}
{%- endmacro %}


{% macro _quote_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}


{% macro _plan_key() -%}
    {#- The vars a paid mart's rows depend on: a change of any rewrites the whole window. -#}
    {{ return(reporting_currency() ~ '|' ~ (var('meta_conversion_action_types', ['purchase']) | join(',')) ~ '|' ~ reprocess_days()) }}
{%- endmacro %}


{% macro window_plan(relation, date_column, grain='day') -%}
    {#-
        What an incremental run of `relation` rewrites, read from the table as it is before the
        run (the model's select compiles, and its pre-hook renders, before anything is deleted).

        mode 'changes' (the usual night: a night costs what changed): from raw.day_changes, the
        records the loads made since the mart's last build (ops.mart_builds):
          ranges:   [platform, from, [account_id, ...]]: those accounts' rows from `from` on
                    (the first day whose raw rows changed; a dimension table's change (no day):
                    the window start; for a monthly mart from the first day of the month);
          all_from: every account's rows from that day on (FX rates changed from that day).
        Rows are rewritten from the first changed day through the account's newest, so a
        campaign's newest day (its current name) is always among the rebuilt rows.

        mode 'window' (the first incremental run after the change log appeared, a change of the
        vars the rows depend on (_plan_key), or a bulk write that changed everything): every
        account's rows from the window start on (the newest day held minus var('reprocess_days')
        + 1), plus
          extra: [platform, account_id, from] for raw batches of a paid platform loaded since
                 the mart's last build whose window starts before `start` (a backfill);
          held:  [platform, account_id] the table still holds after the delete (an account not
                 in it arrives with its whole history).
    -#}
    {%- set plan = {'start': none, 'mode': 'window', 'extra': [], 'held': [], 'ranges': [], 'all_from': none} -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- if grain == 'month' -%}
        {%- set start_expr = "date_trunc('month', max(" ~ date_column ~ ") - " ~ reprocess_days() ~ " + 1)::date" -%}
    {%- else -%}
        {%- set start_expr = "max(" ~ date_column ~ ") - " ~ reprocess_days() ~ " + 1" -%}
    {%- endif -%}
    {%- set start = run_query("select (" ~ start_expr ~ ")::text from " ~ relation).columns[0].values()[0] -%}
    {%- if start is none -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- do plan.update({'start': start}) -%}
    {%- set paid = [] -%}
    {%- for p in paid_platforms() -%}{%- do paid.append(_quote_text(p.key)) -%}{%- endfor -%}
    {%- if _mart_builds_exists() and _changes_exist() -%}
        {%- set day_expr = "date_trunc('month', c.day)::date" if grain == 'month' else "c.day" -%}
        {%- set changes = run_query(
            "select c.platform, c.account_id, (min(coalesce(" ~ day_expr ~ ", '" ~ start ~ "'::date)))::text,"
            ~ " bool_or(c.day is null)"
            ~ " from raw.day_changes as c join ops.mart_builds as built on built.model = " ~ _quote_text(relation.identifier)
            ~ " where c.changed_at > built.built_at and built.plan_key = " ~ _quote_text(_plan_key())
            ~ " and c.platform in ('*', " ~ paid | join(', ') ~ ")"
            ~ " group by 1, 2 order by 3, 1, 2"
        ) -%}
        {%- set known = run_query(
            "select count(*) from ops.mart_builds where model = " ~ _quote_text(relation.identifier)
            ~ " and plan_key = " ~ _quote_text(_plan_key())).columns[0].values()[0] -%}
        {%- set ns = namespace(everything=(known == 0), groups={}) -%}
        {%- for row in changes.rows -%}
            {%- if row[0] == '*' and row[3] -%}
                {%- set ns.everything = true -%}
            {%- elif row[0] == '*' -%}
                {%- if plan.all_from is none or row[2] < plan.all_from -%}{%- do plan.update({'all_from': row[2]}) -%}{%- endif -%}
            {%- else -%}
                {%- do _add_range(ns.groups, row[0], row[2], row[1]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not ns.everything -%}
            {#- an account raw holds (its control totals) that the mart does not (rows lost, or a
                mart that never had it): its whole history, from its first day in raw -#}
            {%- set facts = [] -%}
            {%- for p in paid_platforms() -%}{%- for f in p.facts -%}
                {%- do facts.append("(" ~ _quote_text(f) ~ ", " ~ _quote_text(p.key) ~ ")") -%}
            {%- endfor -%}{%- endfor -%}
            {%- set first_expr = "date_trunc('month', min(a.first_day))::date" if grain == 'month' else "min(a.first_day)" -%}
            {%- set missing = run_query(
                "with accounts as materialized (select target_table, account_id, min(day) as first_day"
                ~ " from raw.control_totals where row_count > 0 group by 1, 2)"
                ~ " select f.platform, a.account_id, (" ~ first_expr ~ ")::text from accounts as a"
                ~ " join (values " ~ facts | join(', ') ~ ") as f (target_table, platform) using (target_table)"
                ~ " where not exists (select from " ~ relation ~ " as r where r.platform = f.platform"
                ~ " and r.account_id = a.account_id) group by 1, 2"
            ) if facts else none -%}
            {%- for row in (missing.rows if missing is not none else []) -%}
                {%- do _add_range(ns.groups, row[0], row[2], row[1]) -%}
            {%- endfor -%}
            {%- do plan.update({'mode': 'changes'}) -%}
            {%- for key in ns.groups | sort -%}
                {%- do plan.ranges.append(ns.groups[key]) -%}
            {%- endfor -%}
            {{ return(plan) }}
        {%- endif -%}
    {%- endif -%}
    {%- set from_expr = "date_trunc('month', min(b.window_start))::date" if grain == 'month' else "min(b.window_start)" -%}
    {%- set extra = run_query(
        "select b.source, b.scope, (" ~ from_expr ~ ")::text from raw.load_batches as b"
        ~ " join ops.mart_builds as built on built.model = " ~ _quote_text(relation.identifier)
        ~ " where b.source in (" ~ paid | join(', ') ~ ") and b.window_start < '" ~ start ~ "'::date"
        ~ " and b.loaded_at > built.built_at group by 1, 2 order by 1, 2"
    ) if _mart_builds_exists() else none -%}
    {%- if extra is not none -%}
        {%- for row in extra.rows -%}
            {%- do plan.extra.append([row[0], row[1], row[2]]) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set held = run_query(
        "select platform, account_id from " ~ relation ~ " as r where not (" ~ _window_rows(plan, 'r', date_column) ~ ")"
        ~ " group by platform, account_id order by 1, 2"
    ) -%}
    {%- for row in held.rows -%}
        {%- do plan.held.append([row[0], row[1]]) -%}
    {%- endfor -%}
    {{ return(plan) }}
{%- endmacro %}


{% macro _add_range(groups, platform, from, account) -%}
    {#- window_plan's ranges: the accounts of one platform rebuilt from the same day, grouped. -#}
    {%- set key = platform ~ '|' ~ from -%}
    {%- if key not in groups -%}{%- do groups.update({key: [platform, from, []]}) -%}{%- endif -%}
    {%- if account not in groups[key][2] -%}{%- do groups[key][2].append(account) -%}{%- endif -%}
{%- endmacro %}


{% macro _mart_builds_exists() -%}
    {{ return(run_query(
        "select to_regclass('ops.mart_builds') is not null and to_regclass('raw.load_batches') is not null"
    ).columns[0].values()[0]) }}
{%- endmacro %}


{% macro _changes_exist() -%}
    {{ return(run_query(
        "select to_regclass('raw.day_changes') is not null and exists (select 1 from information_schema.columns"
        ~ " where table_schema = 'ops' and table_name = 'mart_builds' and column_name = 'plan_key')"
    ).columns[0].values()[0]) }}
{%- endmacro %}


{% macro _plan_starts(plan) -%}
    {#- The first day each part of the plan rewrites (changed_from is their minimum). -#}
    {%- set starts = [] -%}
    {%- if plan.mode == 'changes' -%}
        {%- for r in plan.ranges -%}{%- do starts.append(r[1]) -%}{%- endfor -%}
        {%- if plan.all_from is not none -%}{%- do starts.append(plan.all_from) -%}{%- endif -%}
    {%- elif plan.start -%}
        {%- do starts.append(plan.start) -%}
        {%- for e in plan.extra -%}{%- do starts.append(e[2]) -%}{%- endfor -%}
    {%- endif -%}
    {{ return(starts) }}
{%- endmacro %}


{% macro _window_rows(plan, alias, date_column) -%}
    {#- The rows rewritten (window and extra account ranges, or the changed accounts), as constants. -#}
    {%- if plan.mode == 'changes' -%}
        (false
        {%- for r in plan.ranges %}
            or ({{ alias }}.platform = {{ _quote_text(r[0]) }} and {{ alias }}.{{ date_column }} >= '{{ r[1] }}'::date
                and {{ alias }}.account_id in ({% for a in r[2] %}{{ _quote_text(a) }}{{ ", " if not loop.last }}{% endfor %}))
        {%- endfor %}
        {%- if plan.all_from is not none %}
            or {{ alias }}.{{ date_column }} >= '{{ plan.all_from }}'::date
        {%- endif -%}
        )
    {%- else -%}
    {{ alias }}.{{ date_column }} >= '{{ plan.start }}'::date
    {%- for e in plan.extra %}
        or ({{ alias }}.platform = {{ _quote_text(e[0]) }} and {{ alias }}.account_id = {{ _quote_text(e[1]) }}
            and {{ alias }}.{{ date_column }} >= '{{ e[2] }}'::date)
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{% macro window_begin(date_column, grain='day', relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if is_incremental() -%}
        {%- set t = _window_tables(relation) -%}
        {%- set plan = window_plan(relation, date_column, grain) -%}
        {%- set starts = _plan_starts(plan) -%}
        drop table if exists pg_temp.{{ t.start }};
        drop table if exists pg_temp.{{ t.held }};
        drop table if exists pg_temp.{{ t.rewritten }};
        create temporary table {{ t.start }} as
            select
                {{ "'" ~ plan.start ~ "'::date" if plan.start else 'null::date' }} as window_start,
                {{ "'" ~ (starts | min) ~ "'::date" if starts else 'null::date' }} as changed_from,
                {{ 'true' if plan.mode == 'changes' else 'false' }} as by_changes;
        {#- what the rename post-hook reads current names from: platform null = every account #}
        create temporary table {{ t.rewritten }} (platform text, account_id text, from_day date);
        {%- if plan.mode == 'changes' %}
        {%- for r in plan.ranges %}
        insert into {{ t.rewritten }} select {{ _quote_text(r[0]) }}, a, '{{ r[1] }}'::date
            from unnest(array[{% for a in r[2] %}{{ _quote_text(a) }}{{ ", " if not loop.last }}{% endfor %}]::text[]) as a;
        {%- endfor %}
        {%- if plan.all_from is not none %}
        insert into {{ t.rewritten }} values (null, null, '{{ plan.all_from }}'::date);
        {%- endif %}
        {%- elif plan.start %}
        insert into {{ t.rewritten }} values (null, null, '{{ plan.start }}'::date);
        {%- for e in plan.extra %}
        insert into {{ t.rewritten }} values ({{ _quote_text(e[0]) }}, {{ _quote_text(e[1]) }}, '{{ e[2] }}'::date);
        {%- endfor %}
        {%- endif %}
        {% if plan.start -%}
        delete from {{ relation }} as r where {{ _window_rows(plan, 'r', date_column) }};
        {%- endif %}
        {%- if plan.mode == 'changes' %}
        {#- an account's first rows arrive as changes too: nobody counts as new #}
        create temporary table {{ t.held }} as
            select null::text as platform, null::text as account_id where false
        {%- else %}
        create temporary table {{ t.held }} as
            select distinct platform, account_id from {{ relation }};
        analyze pg_temp.{{ t.held }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}


{% macro window_filter(source_alias, date_column, relation=none, relation_date_column=none, grain='day') -%}
    {#-
        The upstream rows an incremental run inserts (in the model's where clause): the rows of
        the plan (window_plan: the changed accounts from their first changed day, or the window
        and its extra account ranges plus every row of an account the mart does not hold after
        the window's delete). Rendered as constants (the plan is read when the model compiles,
        before its pre-hook deletes, from the same table state): Postgres pushes constant
        filters down through the union of the platforms' views into the raw scans, so rows
        outside them are dropped before their JSON is unpacked and converted (a filter with a
        subquery would be applied only after all of raw went through the views).
    -#}
    {%- set relation = relation if relation is not none else this -%}
    {%- set plan = window_plan(relation, relation_date_column or date_column, grain) -%}
    {%- if plan.start is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- if plan.mode == 'changes' -%}
        {{ return(_window_rows(plan, source_alias, date_column)) }}
    {%- endif -%}
    {%- set pairs = [] -%}
    {%- for row in plan.held -%}
        {%- do pairs.append("(" ~ _quote_text(row[0]) ~ ", " ~ _quote_text(row[1]) ~ ")") -%}
    {%- endfor -%}
    (
        {{ _window_rows(plan, source_alias, date_column) }}
        {%- if pairs %}
        or ({{ source_alias }}.platform, {{ source_alias }}.account_id) not in ({{ pairs | join(', ') }})
        {%- else %}
        or true
        {%- endif %}
    )
{%- endmacro %}


{% macro window_start(relation=none) -%}
    {#- The window start of this run, as an SQL expression (inside the model's transaction). -#}
    {%- set relation = relation if relation is not none else this -%}
    (select window_start from pg_temp.{{ _window_tables(relation).start }})
{%- endmacro %}


{% macro ensure_mart_changes() -%}
    create schema if not exists ops;
    create table if not exists ops.mart_changes (
        model         text not null,         -- the mart (table in schema marts)
        date_column   text not null,         -- the column changed_from is a value of
        changed_from  date,                  -- first day rewritten; null = the whole table
        recorded_at   timestamptz not null default clock_timestamp(),
        platform      text,                  -- with account_id: only that account's rows from
        account_id    text                   -- changed_from on; null: every account's
    );
    create table if not exists ops.mart_builds (
        model         text primary key,      -- the incremental mart
        built_at      timestamptz not null,  -- start of its last build's transaction: raw batches
                                             -- loaded after it are new to it (window_plan)
        plan_key      text                   -- the vars its rows depend on (_plan_key)
    );
    {#- a warehouse from before these columns; checked first: ALTER would lock the tables in every model #}
    do $$ begin
        if not exists (select from information_schema.columns where table_schema = 'ops'
                       and table_name = 'mart_builds' and column_name = 'plan_key') then
            alter table ops.mart_builds add column plan_key text;
        end if;
        if not exists (select from information_schema.columns where table_schema = 'ops'
                       and table_name = 'mart_changes' and column_name = 'account_id') then
            alter table ops.mart_changes add column platform text, add column account_id text;
        end if;
    end $$
{%- endmacro %}


{% macro window_end(date_column, relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {{ ensure_mart_changes() }};
    {%- if is_incremental() %}
        {%- set t = _window_tables(relation) %}
        insert into ops.mart_changes (model, date_column, changed_from)
        select model, date_column, changed_from from (
            select
                '{{ relation.identifier }}' as model,
                '{{ date_column }}' as date_column,
                case when (select window_start from pg_temp.{{ t.start }}) is not null then least(
                    (select changed_from from pg_temp.{{ t.start }}),
                    (
                        select min(mart.{{ date_column }}) from {{ relation }} as mart
                        where not (select by_changes from pg_temp.{{ t.start }}) and not exists (
                            select 1 from pg_temp.{{ t.held }} as held
                            where held.platform = mart.platform and held.account_id = mart.account_id
                        )
                    )
                ) end as changed_from  /* null (the whole table) when it held nothing before this run */
        ) as change
        where not (select by_changes from pg_temp.{{ t.start }});
        {#- by changes: each rewritten account from its first day (publish replaces only those rows);
            nothing when nothing changed (a null changed_from would mean the whole table) #}
        insert into ops.mart_changes (model, date_column, changed_from, platform, account_id)
        select '{{ relation.identifier }}', '{{ date_column }}', min(from_day), platform, account_id
        from pg_temp.{{ t.rewritten }}
        where (select by_changes from pg_temp.{{ t.start }})
        group by platform, account_id
    {%- else %}
        insert into ops.mart_changes (model, date_column, changed_from)
        values ('{{ relation.identifier }}', '{{ date_column }}', null)
    {%- endif %};
    insert into ops.mart_builds (model, built_at, plan_key)
    values ('{{ relation.identifier }}', now(), {{ _quote_text(_plan_key()) }})
    on conflict (model) do update set built_at = excluded.built_at, plan_key = excluded.plan_key
{%- endmacro %}


{% macro window_rename(date_column, name_columns, key_columns, relation=none) -%}
    {#-
        Post-hook of a mart that carries each key's CURRENT names (those of its newest day) on
        every row: the rows rebuilt in this run have them (every rebuilt account's rows run
        through its newest day); other rows of the same keys get them too when they changed (a
        renamed campaign), and the oldest day touched is recorded in ops.mart_changes like the
        window (so publish replaces those rows as well).
    -#}
    {%- set relation = relation if relation is not none else this -%}
    {%- if is_incremental() -%}
        {%- set t = _window_tables(relation) -%}
        {{ ensure_mart_changes() }};
        with current_names as (
            select distinct {% for k in key_columns %}mart.{{ k }}, {% endfor %}{% for n in name_columns %}mart.{{ n }}{{ ", " if not loop.last }}{% endfor %}
            from pg_temp.{{ t.rewritten }} as r
            join {{ relation }} as mart
                on r.platform = mart.platform and r.account_id = mart.account_id and mart.{{ date_column }} >= r.from_day
            union
            select {% for k in key_columns %}mart.{{ k }}, {% endfor %}{% for n in name_columns %}mart.{{ n }}{{ ", " if not loop.last }}{% endfor %}
            from {{ relation }} as mart
            where mart.{{ date_column }} >= (select min(from_day) from pg_temp.{{ t.rewritten }} where platform is null)
        ),
        renamed as (
            update {{ relation }} as mart
            set {% for n in name_columns %}{{ n }} = current_names.{{ n }}{{ ", " if not loop.last }}{% endfor %}
            from current_names
            where true
                {#- = (not "is not distinct from"): a hash join; the keys are not null (data tests) #}
                {% for k in key_columns %}and mart.{{ k }} = current_names.{{ k }}
                {% endfor %}
                and ({% for n in name_columns %}mart.{{ n }} is distinct from current_names.{{ n }}{{ " or " if not loop.last }}{% endfor %})
            returning mart.platform, mart.account_id, mart.{{ date_column }}
        )
        insert into ops.mart_changes (model, date_column, changed_from, platform, account_id)
        select '{{ relation.identifier }}', '{{ date_column }}', min({{ date_column }}), platform, account_id
        from renamed
        group by platform, account_id
    {%- endif -%}
{%- endmacro %}


{% macro _raw_window() -%}
    {#-
        `__raw_window__` in a data test's `where` (a model with account_id and date_day straight
        from raw: ephemeral staging models, the unions over them): the raw rows the loads changed
        since the last publication (raw.day_changes: each account from its first changed day);
        before a first publication, or after a bulk write, the night's window of the raw
        fact tables as constants, from the control totals the loader keeps (raw.control_totals,
        one row per table, account and day): date_day from the oldest of every windowed raw
        table's newest day minus var('reprocess_days') + 1, for the accounts raw holds. Postgres
        reads those rows through the raw primary keys (account_id, day, ...): a test's own newest
        day would cost a scan of all of raw. `true` (every row) before the loader wrote anything.
    -#}
    {%- if not execute -%}{{ return("true") }}{%- endif -%}
    {%- if not run_query("select to_regclass('raw.control_totals') is not null").columns[0].values()[0] -%}
        {{ return("true") }}
    {%- endif -%}
    {#- what the loads changed since the last publication (raw.day_changes): each account's rows
        from its first changed day; the whole window below when there is no publication yet or
        a bulk write changed everything -#}
    {%- set since = none -%}
    {%- if run_query("select to_regclass('ops.publications') is not null and to_regclass('raw.day_changes') is not null"
                     ).columns[0].values()[0] -%}
        {%- set since = run_query("select max(published_at)::text from ops.publications").columns[0].values()[0] -%}
    {%- endif -%}
    {%- if since is not none and not run_query(
            "select exists (select from raw.day_changes where changed_at > '" ~ since ~ "'::timestamptz"
            ~ " and platform = '*' and day is null)").columns[0].values()[0] -%}
        {%- set changed = run_query(
            "select account_id, min(day)::text from raw.day_changes where changed_at > '" ~ since ~ "'::timestamptz"
            ~ " and platform <> '*' and day is not null group by 1 order by 1") -%}
        {%- set parts = [] -%}
        {%- for row in changed.rows -%}
            {%- do parts.append("(account_id = " ~ _quote_text(row[0]) ~ " and date_day >= '" ~ row[1] ~ "'::date)") -%}
        {%- endfor -%}
        {{ return("(" ~ (parts | join(" or ") if parts else "false") ~ ")") }}
    {%- endif -%}
    {%- set row = run_query(
        "select (select (min(newest) - " ~ reprocess_days() ~ " + 1)::text from (select max(day) as newest"
        ~ " from raw.control_totals group by target_table) as t),"
        ~ " (select string_agg(quote_literal(account_id), ', ' order by account_id)"
        ~ " from (select distinct account_id from raw.control_totals) as a)").rows[0] -%}
    {%- if row[0] is none -%}{{ return("true") }}{%- endif -%}
    {{ return("(date_day >= '" ~ row[0] ~ "'::date and account_id in (" ~ row[1] ~ "))") }}
{%- endmacro %}


{% macro _window_bound(relation, column) -%}
    {#- The first day of the tested table's reprocess window (its newest <column> minus
        var('reprocess_days') + 1), as a constant when the table exists. -#}
    {%- set bound = '(select max(' ~ column ~ ') - ' ~ reprocess_days() ~ ' + 1 from ' ~ relation ~ ')' -%}
    {%- if execute and relation.database is defined and relation.database
           and load_relation(relation) is not none -%}  {#- not an ephemeral CTE #}
        {#- a constant: Postgres pushes it through a union view into the raw scans -#}
        {%- set value = run_query('select ' ~ bound ~ '::text').columns[0].values()[0] -%}
        {%- set bound = "'" ~ value ~ "'::date" if value is not none else "'-infinity'::date" -%}
    {%- endif -%}
    {{ return(bound) }}
{%- endmacro %}


{% macro _rewritten_rows(relation, column) -%}
    {#- The rows of an incremental mart dbt rewrote since the last publication, as ops.mart_changes
        records them (every account from a day, and accounts from their own day), as constants;
        the reprocess window when nothing is recorded by account; every row after a rebuild. -#}
    {%- set window = "(" ~ column ~ " >= " ~ _window_bound(relation, column) ~ ")" -%}
    {%- if not execute or not (relation.database is defined and relation.database) -%}{{ return(window) }}{%- endif -%}
    {%- if not run_query("select exists (select from information_schema.columns where table_schema = 'ops'"
                         ~ " and table_name = 'mart_changes' and column_name = 'account_id')").columns[0].values()[0] -%}
        {{ return(window) }}
    {%- endif -%}
    {%- set records = run_query("select changed_from::text, platform, account_id from ops.mart_changes where model = "
                                ~ _quote_text(relation.identifier) ~ " order by 1, 2, 3") -%}
    {%- if records.rows | length == 0 -%}{{ return(window) }}{%- endif -%}
    {%- set ns = namespace(everyone=none, groups={}) -%}
    {%- for r in records.rows -%}
        {%- if r[0] is none -%}{{ return('true') }}{%- endif -%}
        {%- if r[1] is none or r[2] is none -%}
            {%- if ns.everyone is none or r[0] < ns.everyone -%}{%- set ns.everyone = r[0] -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set parts = [] -%}
    {%- if ns.everyone is not none -%}{%- do parts.append(column ~ " >= '" ~ ns.everyone ~ "'::date") -%}{%- endif -%}
    {%- for r in records.rows if r[1] is not none and r[2] is not none and (ns.everyone is none or r[0] < ns.everyone) -%}
        {%- do parts.append("(platform = " ~ _quote_text(r[1]) ~ " and account_id = " ~ _quote_text(r[2])
                            ~ " and " ~ column ~ " >= '" ~ r[0] ~ "'::date)") -%}
    {%- endfor -%}
    {{ return("(" ~ (parts | join(" or ") if parts else "false") ~ ")") }}
{%- endmacro %}


{% macro get_where_subquery(relation) -%}
    {#-
        The `where` config of a data test, with these additions:
        `__window_start_of_<column>__` stands for the first day of the night's reprocess window
        of the tested table (its newest <column> minus var('reprocess_days') + 1):
        where: "date_day >= __window_start_of_date_day__";
        `__rewritten_rows_of_<column>__` for the rows of an incremental mart dbt rewrote since
        the last publication (ops.mart_changes: the changed accounts from their day; the window
        when nothing is recorded by account), so a test that only needs the rows a night
        rewrote reads them, not every account's window; `__raw_window__` (_raw_window) likewise
        for models straight from raw.
        var('data_tests_window') false (e.g. after a --full-refresh or a backfill:
        `dbt test --vars '{data_tests_window: false}'`) tests the whole table instead. The
        whole-table invariants stay exact elsewhere (unique indexes, monthly control totals).
    -#}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set whole = var('data_tests_window', true) | string | lower in ('false', 'no', '0') -%}
        {%- set pattern = '__window_start_of_([A-Za-z_][A-Za-z0-9_]*)__' -%}
        {%- set rewritten = '__rewritten_rows_of_([A-Za-z_][A-Za-z0-9_]*)__' -%}
        {%- if whole -%}
            {%- set where = modules.re.sub(pattern, "'-infinity'::date", where) -%}
            {%- set where = modules.re.sub(rewritten, "true", where) -%}
            {%- set where = where | replace('__raw_window__', 'true') -%}
        {%- else -%}
            {%- if '__raw_window__' in where -%}
                {%- set where = where | replace('__raw_window__', _raw_window()) -%}
            {%- endif -%}
            {%- set ns = namespace(where=where) -%}  {#- a loop's own sets do not outlive it -#}
            {%- for column in modules.re.findall(pattern, where) | unique -%}
                {%- set ns.where = ns.where | replace('__window_start_of_' ~ column ~ '__', _window_bound(relation, column)) -%}
            {%- endfor -%}
            {%- for column in modules.re.findall(rewritten, where) | unique -%}
                {%- set ns.where = ns.where | replace('__rewritten_rows_of_' ~ column ~ '__', _rewritten_rows(relation, column)) -%}
            {%- endfor -%}
            {%- set where = ns.where -%}
        {%- endif -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
