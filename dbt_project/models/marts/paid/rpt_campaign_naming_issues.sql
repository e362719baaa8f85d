{#
    Every campaign whose current name does not follow the naming convention, with the reason:
    no name, the wrong number of parts (by var campaign_naming_separator against the number of
    var campaign_naming_fields), or the right number of parts that still fails the pattern
    (var campaign_naming_pattern), e.g. a quarter Q5 or a lower-case market.
#}
{%- set n_fields = campaign_naming_fields() | length -%}

with

campaigns as (

    select * from {{ ref('dim_campaigns') }}
    where naming_status = 'does_not_match'

),

parts as (

    select
        campaigns.*,
        coalesce(
            array_length(string_to_array(campaign_name, {{ campaign_naming_separator() }}), 1), 0
        ) as n_parts

    from campaigns

)

select
    platform,
    account_id,
    campaign_id,
    campaign_name,
    case
        when campaign_name is null or trim(campaign_name) = '' then 'missing name'
        when n_parts <> {{ n_fields }}
            then 'expected {{ n_fields }} parts separated by ' || quote_literal({{ campaign_naming_separator() }})
                || ', found ' || n_parts
        else 'does not match the naming pattern ' || {{ campaign_naming_pattern() }}
    end as reason

from parts
