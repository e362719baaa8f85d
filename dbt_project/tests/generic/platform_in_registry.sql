{#
    Every value of the column is a platform declared in the platform registry (socialwh.platforms,
    generated into macros/_platforms.sql: the same list as the `platforms` seed), optionally of
    one kind (paid / organic). Replaces hand-kept accepted_values lists, which drifted apart as
    platforms were added. `field` = key (the default) or mart_platform (organic marts name the
    network). The list is compiled in, so the test needs no relation and works under any --select.
#}
{% test platform_in_registry(model, column_name, kind=none, field='key') %}

{%- set allowed = [] -%}
{%- for p in registry_platforms() if kind is none or p.kind == kind -%}
    {%- do allowed.append(p[field]) -%}
{%- endfor %}

select
    {{ column_name }} as platform,
    count(*) as n_rows

from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in ('{{ allowed | unique | join("', '") }}')
group by 1

{% endtest %}
