{#
    Sum of the "value" of the entries of a Meta actions / action_values list whose action_type
    is one of action_types, as exact numeric (Meta sends the values as strings).
    0 when the list is missing, not a list, or holds none of the types.

    The column is a compact action-list text (socialwh.warehouse.action_lists):
    'link_click=25,purchase=1' (type=value entries; '' is the empty list), or, for a list with
    other keys or values, its JSON text (starts with [ { or ", or has no '='), read as jsonb.
#}
{% macro sum_action_values(column, action_types) -%}
    {%- if action_types is string -%}
        {%- set action_types = [action_types] -%}
    {%- endif -%}
    {%- if action_types | length == 0 -%}
        0::numeric
    {%- else -%}
    {%- set types -%}
        {%- for action_type in action_types %}
            '{{ action_type | replace("'", "''") }}'{{ "," if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    coalesce(case
        when {{ column }} is null or {{ column }} = '' then null
        when left({{ column }}, 1) in ('[', '{', '"') or strpos({{ column }}, '=') = 0 then (
            select sum((action ->> 'value')::numeric)
            from jsonb_array_elements(
                case when jsonb_typeof({{ column }}::jsonb) = 'array' then {{ column }}::jsonb else '[]'::jsonb end
            ) as action
            where action ->> 'action_type' in ({{ types }}))
        else (
            select sum(split_part(action, '=', 2)::numeric)
            from string_to_table({{ column }}, ',') as action
            where split_part(action, '=', 1) in ({{ types }}))
    end, 0)
    {%- endif -%}
{%- endmacro %}
