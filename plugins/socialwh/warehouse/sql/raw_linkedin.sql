-- LinkedIn Marketing API (ads), loaded by socialwh.connectors.linkedin. Same shape as raw.sql:
-- typed columns for what dbt reads, the original record as jsonb, load metadata. Ids are the
-- digits of LinkedIn's URNs (urn:li:sponsoredCreative:123 -> '123').

create table if not exists raw.linkedin_ad_stats (
    account_id                          text not null,   -- sponsored account id, digits
    date_day                            date not null,   -- the day, in UTC (adAnalytics reports UTC days)
    account_name                        text,
    currency                            text not null,   -- the ad account's currency (ISO 4217)
    account_timezone                    text not null,   -- time zone date_day is in: always 'UTC'
    campaign_group_id                   text,
    campaign_group_name                 text,
    campaign_id                         text,            -- null when the creative was not listed
    campaign_name                       text,
    creative_id                         text not null,
    creative_name                       text,
    impressions                         bigint not null,
    clicks                              bigint not null,
    landing_page_clicks                 bigint,
    cost_in_local_currency              numeric not null, -- spend, exact (costInLocalCurrency)
    cost_in_usd                         numeric,
    external_website_conversions        numeric not null,
    conversion_value_in_local_currency  numeric not null,
    one_click_leads                     bigint not null,  -- lead gen form submissions
    record                              jsonb not null,   -- the merged adAnalytics element
    batch_id                            uuid not null,
    extracted_at                        timestamptz not null,
    as_of_date                          date not null,    -- logical date of the run that extracted it
    primary key (account_id, date_day, creative_id)
);

create table if not exists raw.linkedin_campaigns (
    account_id             text not null,
    campaign_id            text not null,
    campaign_name          text,
    status                 text,
    objective_type         text,
    campaign_type          text,
    cost_type              text,
    daily_budget_amount    numeric,             -- major units of daily_budget_currency, as sent
    daily_budget_currency  text,
    total_budget_amount    numeric,             -- lifetime budget, major units
    total_budget_currency  text,
    campaign_group_id      text,
    campaign_group_name    text,
    run_schedule_start     timestamptz,
    run_schedule_end       timestamptz,
    record                 jsonb not null,
    batch_id               uuid not null,
    extracted_at           timestamptz not null,
    as_of_date             date not null,
    primary key (account_id, campaign_id)
);
