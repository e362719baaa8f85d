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

-- Platform tables are declared in socialwh.platforms.<key> and created from there
-- (socialwh.registry.migration, run by warehouse.db.ensure_raw_schema).

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
