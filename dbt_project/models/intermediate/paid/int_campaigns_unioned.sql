{#
    Every paid platform's campaigns in one column set, one row per platform x account_id x
    campaign_id, with the campaign's current attributes and its budget in one shape:
    budget_amount (major units of budget_currency), budget_period ('daily' | 'lifetime' | null).
    Each platform's model (default stg_<key>__campaigns; the existing platforms' int_<key>__campaigns
    next to this file) turns its own budget conventions into that shape; the platform list comes
    from the registry (macros/_platforms.sql), so adding a platform edits nothing here.
#}
{%- set common_columns = [
    'campaign_key',
    'platform',
    'account_id',
    'campaign_id',
    'campaign_name',
    'status',
    'objective',
    'budget_amount',
    'budget_currency',
    'budget_period',
] -%}
with

unioned as (

    {% for p in paid_platforms() %}
    select
        platform || ':' || account_id || ':' || campaign_id as campaign_key,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        status,
        objective,
        budget_amount::numeric as budget_amount,
        budget_currency::text as budget_currency,
        budget_period::text as budget_period
    from {{ ref(p.campaigns) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    {{ common_columns | join(',\n    ') }}
from unioned
