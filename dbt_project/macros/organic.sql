{#
    The organic platforms and how the marts name them. Every one loads the same two raw tables
    (docs/organic-contract.md): raw.<key>_account_daily and raw.<key>_post_snapshots.
#}
{% macro organic_platforms() -%}
    {{ return({
        'facebook_pages': 'facebook',
        'instagram': 'instagram',
        'tiktok_organic': 'tiktok',
        'x_organic': 'x',
        'linkedin_organic': 'linkedin',
        'youtube': 'youtube',
    }) }}
{%- endmacro %}
