-- TikTok API for Business (ads), loaded by socialwh.connectors.tiktok. Same shape as the shared
-- raw tables: typed columns for what dbt reads, the original record as jsonb, load metadata.
-- The schema `raw` is created by raw.sql, which runs first.

create table if not exists raw.tiktok_ad_stats (
    account_id          text not null,      -- advertiser_id
    account_name        text,               -- advertiser name (/advertiser/info/)
    date_day            date not null,      -- stat_time_day: the day in the advertiser's time zone
    campaign_id         text,
    campaign_name       text,
    adgroup_id          text,
    adgroup_name        text,
    ad_id               text not null,
    ad_name             text,
    currency            text not null,      -- the advertiser's currency: every money column
    account_timezone    text not null,      -- the advertiser's time zone: date_day is a day there
    spend               numeric not null,   -- exact, account currency
    impressions         bigint not null,
    clicks              bigint not null,
    reach               bigint,             -- null where TikTok reports "-"
    conversions         numeric,            -- `conversion`: the campaign's optimization events
    purchases           numeric,            -- `complete_payment`: Complete Payment events
    conversion_value    numeric,            -- `total_complete_payment_rate`: their value
    record              jsonb not null,     -- {"dimensions": {..}, "metrics": {..}} as returned
    batch_id            uuid not null,
    extracted_at        timestamptz not null,
    as_of_date          date not null,      -- logical date of the run that extracted it
    primary key (account_id, date_day, ad_id)
);

create table if not exists raw.tiktok_campaigns (
    account_id          text not null,
    campaign_id         text not null,
    campaign_name       text,
    operation_status    text,               -- ENABLE / DISABLE
    secondary_status    text,               -- e.g. CAMPAIGN_STATUS_ENABLE
    objective_type      text,
    budget              numeric,            -- major units of budget_currency; null: no budget
    budget_mode         text,               -- BUDGET_MODE_DAY / _TOTAL / _INFINITE / ...
    budget_period       text,               -- daily / lifetime, from budget_mode
    budget_currency     text,               -- the advertiser's currency when there is a budget
    record              jsonb not null,
    batch_id            uuid not null,
    extracted_at        timestamptz not null,
    as_of_date          date not null,
    primary key (account_id, campaign_id)
);
