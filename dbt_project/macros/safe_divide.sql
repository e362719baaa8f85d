{#
    numerator / denominator as exact numeric, null when the denominator is 0 or null
    (metrics.md: a ratio is undefined, not 0, when its denominator is 0). The cast keeps integer
    counts (clicks / impressions) from integer division.
#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}
