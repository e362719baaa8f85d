{#
    One row per platform x account_id x campaign_id: the campaign's current attributes, its name
    parsed by the naming convention (macros/campaign_naming.sql: vars campaign_naming_separator,
    campaign_naming_fields, campaign_naming_pattern) and its name history from snap_campaigns.
    A name that does not match the pattern keeps its row with null name_* columns and
    naming_status 'does_not_match' (listed with a reason in rpt_campaign_naming_issues).
    The snapshot is a parent: `dbt build` runs it first, so on a first build the history is the
    current version only.
#}
{%- set fields = campaign_naming_fields() -%}

with

campaigns as (

    select * from {{ ref('int_campaigns_unioned') }}

),

history as (

    select
        campaign_key,
        min(dbt_valid_from) as first_seen_at,
        count(distinct campaign_name) as n_names

    from {{ ref('snap_campaigns') }}
    group by campaign_key

),

named as (

    select
        campaigns.*,
        coalesce(campaigns.campaign_name ~ {{ campaign_naming_pattern() }}, false) as name_matches

    from campaigns

),

final as (

    select
        named.platform,
        named.account_id,
        named.campaign_id,
        named.campaign_name,
        named.status,
        named.objective,
        named.budget_amount,
        named.budget_currency,
        named.budget_period,
        {%- for field in fields %}
        case
            when named.name_matches
                then nullif(split_part(named.campaign_name, {{ campaign_naming_separator() }}, {{ loop.index }}), '')
        end as name_{{ field }},
        {%- endfor %}
        case when named.name_matches then 'matches' else 'does_not_match' end as naming_status,
        history.first_seen_at,
        greatest(coalesce(history.n_names, 1) - 1, 0)::integer as name_changed_count

    from named
    left join history
        on named.campaign_key = history.campaign_key

)

select * from final
