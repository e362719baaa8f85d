-- Google Ads raw tables (socialwh.connectors.google_ads). Typed columns for what dbt reads, the
-- original GoogleAdsRow (lowerCamelCase, int64 as strings) as jsonb, and load metadata.
-- Run after raw.sql (which creates the schema) by db.ensure_raw_schema.

create table if not exists raw.google_ads_ad_stats (
    account_id         text not null,         -- customer id, 10 digits without dashes
    account_name       text,                  -- customer.descriptive_name
    date_day           date not null,         -- segments.date: the day in the customer's time zone
    campaign_id        text not null,
    campaign_name      text,                  -- name at extraction time
    ad_group_id        text not null,
    ad_group_name      text,
    ad_id              text not null,         -- ad_group_ad.ad.id
    ad_name            text,                  -- only some ad types have one (image, video ads)
    currency_code      text not null,         -- customer.currency_code (ISO 4217)
    account_timezone   text not null,         -- customer.time_zone (IANA)
    cost_micros        bigint not null,       -- metrics.cost_micros exactly as returned
    spend              numeric not null,      -- cost_micros / 10^6, exact, account currency
    impressions        bigint not null,
    clicks             bigint not null,
    conversions        numeric not null,      -- metrics.conversions (fractional with data-driven attribution)
    conversions_value  numeric not null,      -- metrics.conversions_value, account currency
    record             jsonb not null,
    batch_id           uuid not null,
    extracted_at       timestamptz not null,
    as_of_date         date not null,         -- logical date of the run that extracted it
    primary key (account_id, date_day, ad_group_id, ad_id)
);

create table if not exists raw.google_ads_campaigns (
    account_id                text not null,
    campaign_id               text not null,
    campaign_name             text,
    status                    text,           -- ENABLED, PAUSED, REMOVED
    advertising_channel_type  text,           -- SEARCH, DISPLAY, VIDEO, SHOPPING, ...: the objective
    budget_id                 text,           -- campaign_budget.id (budgets can be shared)
    budget_amount             numeric,        -- campaign_budget.amount_micros / 10^6 (per period)
    budget_total_amount       numeric,        -- campaign_budget.total_amount_micros / 10^6 (custom period)
    budget_period             text,           -- DAILY, CUSTOM_PERIOD
    budget_currency           text,           -- the customer's currency (budgets have no own)
    record                    jsonb not null,
    batch_id                  uuid not null,
    extracted_at              timestamptz not null,
    as_of_date                date not null,
    primary key (account_id, campaign_id)
);
