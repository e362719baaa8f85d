{#
    The paid-media ratios of metrics.md, computed from the summed components of the row's own
    grain (never averaged across rows), null when the denominator is 0. Money ratios exist in the
    account currency (_local) and the reporting currency (_reporting). Expects the columns
    impressions, clicks, conversions, spend_local, spend_reporting, conversion_value_local and
    conversion_value_reporting in scope.
#}
{% macro paid_media_ratios() -%}
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('spend_local', 'clicks') }} as cpc_local,
        {{ safe_divide('spend_reporting', 'clicks') }} as cpc_reporting,
        {{ safe_divide('spend_local * 1000', 'impressions') }} as cpm_local,
        {{ safe_divide('spend_reporting * 1000', 'impressions') }} as cpm_reporting,
        {{ safe_divide('spend_local', 'conversions') }} as cpa_local,
        {{ safe_divide('spend_reporting', 'conversions') }} as cpa_reporting,
        {{ safe_divide('conversions', 'clicks') }} as conversion_rate,
        {{ safe_divide('conversion_value_local', 'spend_local') }} as roas_platform_local,
        {{ safe_divide('conversion_value_reporting', 'spend_reporting') }} as roas_platform_reporting
{%- endmacro %}
