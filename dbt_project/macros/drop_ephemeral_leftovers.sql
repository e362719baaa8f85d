{#
    A model that became ephemeral leaves its old view behind: nothing rebuilds it, it still reads
    raw (and would block a change to a raw column), and a reader could take it for current.
    After a build or run, drop the views in this project's schemas that carry the name of a model
    that is now ephemeral. Only those: any other relation in the schemas is left alone. CASCADE
    only reaches leftovers too, since every current model has been rebuilt by then.
#}
{% macro drop_ephemeral_leftovers() %}
    {% if not execute or flags.WHICH not in ('build', 'run') %}
        {{ return('') }}
    {% endif %}
    {% set ephemeral = {} %}
    {% for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'ephemeral'
            and node.package_name == project_name %}
        {% do ephemeral.update({node.name: true}) %}
    {% endfor %}
    {% if not ephemeral %}
        {{ return('') }}
    {% endif %}
    {% set schemas = [] %}
    {% for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') %}
        {% if node.schema not in schemas %}{% do schemas.append(node.schema) %}{% endif %}
    {% endfor %}
    {% set found = run_query(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        ~ " where c.relkind = 'v' and n.nspname in ('" ~ schemas | join("', '") ~ "')"
        ~ " and c.relname in ('" ~ ephemeral.keys() | list | join("', '") ~ "')") %}
    {% for row in found.rows %}
        {% do log("dropping " ~ row[0] ~ "." ~ row[1] ~ ": the model is ephemeral now", info=true) %}
        {% do run_query("drop view if exists " ~ adapter.quote(row[0]) ~ "." ~ adapter.quote(row[1]) ~ " cascade") %}
    {% endfor %}
{% endmacro %}
