{#
    Sum of the "value" of the entries of a Meta actions / action_values jsonb array whose
    action_type is one of action_types, as exact numeric (Meta sends the values as strings).
    0 when the array is missing, not an array, or holds none of the types.
#}
{% macro sum_action_values(column, action_types) -%}
    {%- if action_types is string -%}
        {%- set action_types = [action_types] -%}
    {%- endif -%}
    {%- if action_types | length == 0 -%}
        0::numeric
    {%- else -%}
    coalesce((
        select sum((action ->> 'value')::numeric)
        from jsonb_array_elements(
            case when jsonb_typeof({{ column }}) = 'array' then {{ column }} else '[]'::jsonb end
        ) as action
        where action ->> 'action_type' in (
            {%- for action_type in action_types %}
            '{{ action_type | replace("'", "''") }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
    ), 0)
    {%- endif -%}
{%- endmacro %}
