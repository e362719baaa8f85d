{#
    Every value of the column is a platform key declared in the platform registry (the generated
    `platforms` seed; socialwh.platforms), optionally of one kind (paid / organic). Replaces
    hand-kept accepted_values lists, which drifted apart as platforms were added.
    `field` = key (the default) or mart_platform (organic marts name the network).
#}
{% test platform_in_registry(model, column_name, kind=none, field='key') %}

select
    {{ column_name }} as platform,
    count(*) as n_rows

from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in (
        select {{ field }} from {{ ref('platforms') }}
        {% if kind %}where kind = '{{ kind }}'{% endif %}
    )
group by 1

{% endtest %}
