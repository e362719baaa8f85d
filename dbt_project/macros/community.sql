{#
    Community (issue #14): the author key and business-hours arithmetic, from the project vars
    community_author_salt, community_timezone, community_business_hours_start / _end and
    community_business_days (ISO weekdays, 1 = Monday).
#}

{% macro community_author_key(platform, author_id) -%}
    {#- A salted sha256 of platform and author id: counts distinct people, names nobody. The salt
        is a var (config/warehouse.yml community.author_salt, passed by the nightly run). -#}
    case when {{ author_id }} is not null then
        encode(sha256(convert_to({{ "'" ~ (var('community_author_salt') | string | replace("'", "''")) ~ "'" }}
            || '|' || {{ platform }} || '|' || {{ author_id }}, 'UTF8')), 'hex')
    end
{%- endmacro %}


{% macro community_timezone() -%}
    {%- set zone = var('community_timezone') | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z_]+(/[A-Za-z0-9_+-]+)*', zone) -%}
        {{ exceptions.raise_compiler_error("community_timezone must be an IANA zone like Europe/Berlin, got '" ~ zone ~ "'") }}
    {%- endif -%}
    '{{ zone }}'
{%- endmacro %}


{% macro community_business_interval(name) -%}
    {%- set text = var(name) | string -%}
    {%- if not modules.re.fullmatch('([01][0-9]|2[0-4]):[0-5][0-9]', text) -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a time like 09:00, got '" ~ text ~ "'") }}
    {%- endif -%}
    interval '{{ text }}'
{%- endmacro %}


{% macro community_business_days() -%}
    {%- set days = var('community_business_days') -%}
    {%- for d in days -%}
        {%- if (d | string) not in ['1', '2', '3', '4', '5', '6', '7'] -%}
            {{ exceptions.raise_compiler_error("community_business_days must list ISO weekdays 1-7, got " ~ days) }}
        {%- endif -%}
    {%- endfor -%}
    ({{ days | join(', ') }})
{%- endmacro %}


{% macro community_business_minutes(start_at, end_at) -%}
    {#- Minutes of business hours (community_business_hours_start..end on community_business_days,
        in community_timezone) between two timestamptz; null when either is null. -#}
    case when {{ start_at }} is not null and {{ end_at }} is not null then (
        select coalesce(sum(greatest(0, extract(epoch from
            least(({{ end_at }}) at time zone {{ community_timezone() }}, d + {{ community_business_interval('community_business_hours_end') }})
            - greatest(({{ start_at }}) at time zone {{ community_timezone() }}, d + {{ community_business_interval('community_business_hours_start') }})
        ) / 60.0)), 0)
        from generate_series(
            date_trunc('day', ({{ start_at }}) at time zone {{ community_timezone() }}),
            date_trunc('day', ({{ end_at }}) at time zone {{ community_timezone() }}),
            interval '1 day'
        ) as business_day (d)
        where extract(isodow from d) in {{ community_business_days() }}
    ) end
{%- endmacro %}
