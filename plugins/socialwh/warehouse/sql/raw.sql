-- Raw layer: typed columns for what dbt reads, the original record as jsonb for what it may read
-- later, and load metadata. Replaced per account and extraction window, never appended blindly.
create schema if not exists raw;

create table if not exists raw.load_batches (
    batch_id      uuid not null,
    target_table  text not null,          -- one batch (an account's night) may fill several tables
    source        text not null,          -- e.g. meta, finance_budgets, fx_ecb
    scope         text not null,          -- account id, file name, ...
    window_start  date,
    window_end    date,
    as_of_date    date,
    row_count     bigint not null,
    extracted_at  timestamptz not null,
    loaded_at     timestamptz not null default now(),
    primary key (batch_id, target_table)
);

create table if not exists raw.meta_ad_accounts (
    account_id     text primary key,      -- digits, without the act_ prefix
    account_name   text,
    currency       text not null,
    timezone_name  text not null,
    record         jsonb not null,
    batch_id       uuid not null,
    extracted_at   timestamptz not null
);

create table if not exists raw.meta_ad_insights (
    account_id        text not null,
    date_start        date not null,      -- the day, in the ad account's time zone
    campaign_id       text,
    campaign_name     text,
    adset_id          text,
    adset_name        text,
    ad_id             text not null,
    ad_name           text,
    account_currency  text not null,
    account_timezone  text not null,
    spend             numeric not null,
    impressions       bigint not null,
    clicks            bigint not null,
    reach             bigint,
    actions           jsonb,              -- [{"action_type":..,"value":".."}] as returned
    action_values     jsonb,
    record            jsonb not null,
    batch_id          uuid not null,
    extracted_at      timestamptz not null,
    as_of_date        date not null,      -- logical date of the run that extracted it
    primary key (account_id, date_start, ad_id)
);

create table if not exists raw.meta_campaigns (
    account_id       text not null,
    campaign_id      text not null,
    campaign_name    text,
    status           text,
    objective        text,
    daily_budget     numeric,             -- in the account currency's minor units, as Meta returns
    lifetime_budget  numeric,
    record           jsonb not null,
    batch_id         uuid not null,
    extracted_at     timestamptz not null,
    as_of_date       date not null,
    primary key (account_id, campaign_id)
);

create table if not exists raw.finance_budgets (
    source_file    text not null,         -- file name; a corrected file replaces its rows
    line_number    integer not null,
    budget_month   date not null,         -- first day of the month
    platform       text not null,
    account_id     text not null,
    campaign_id    text,                  -- null: the line budgets the whole account
    amount         numeric not null,
    currency       text not null,
    plan_version   text not null,
    file_sha256    text not null,
    batch_id       uuid not null,
    loaded_at      timestamptz not null default now(),
    primary key (source_file, line_number)
);
-- draft | approved (added after the first release: existing warehouses get the column here)
alter table raw.finance_budgets add column if not exists plan_status text not null default 'approved';


create table if not exists raw.fx_rates (
    rate_date      date not null,
    base_currency  text not null default 'EUR',
    currency       text not null,
    rate           numeric not null,      -- units of currency per 1 base_currency (ECB convention)
    source         text not null,
    batch_id       uuid not null,
    loaded_at      timestamptz not null default now(),
    primary key (rate_date, base_currency, currency)
);
