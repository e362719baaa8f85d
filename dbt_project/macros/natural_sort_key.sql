{#
    An ordering key that compares the digit runs of a text as numbers: 'v10' > 'v9' > 'v2',
    '2024-q1-v10' > '2024-q1-v9'. Texts without digits get an empty key (they sort first, then by
    the text itself when the caller adds it as a tie-breaker).
#}
{% macro natural_sort_key(column) -%}
    coalesce(array(
        select digits[1]::numeric
        from regexp_matches({{ column }}, '([0-9]+)', 'g') with ordinality as match(digits, position)
        order by match.position
    ), '{}'::numeric[])
{%- endmacro %}
