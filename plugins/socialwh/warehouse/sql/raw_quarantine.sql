-- Quarantine: raw rows that broke a record-level rule (socialwh.warehouse.quarantine), kept with
-- the rules they broke and the batch that brought them instead of being dropped or loaded.
-- One row per quarantined record; `rules` lists every rule it broke. Replaced like raw: per
-- target table and account, inside the extraction window (all of the account for undated tables),
-- in the same transaction as the account's raw load. Needs only the schema (raw.sql runs first).

create table if not exists raw.quarantine (
    quarantine_id   bigserial primary key,
    target_table    text not null,          -- the raw table the record was meant for, e.g. raw.meta_ad_insights
    source          text not null,          -- platform, e.g. meta
    scope           text not null,          -- account id (as in raw.load_batches.scope)
    record_date     date,                   -- the record's day (dated tables); null when missing/undated
    rules           text[] not null check (cardinality(rules) > 0),  -- e.g. {non_negative:spend}
    details         jsonb not null,         -- {"<rule>": {"field": .., "value": .., "message": ..}}
    record          jsonb not null,         -- the whole typed row (money as exact strings, dates ISO)
    batch_id        uuid not null,          -- the batch (raw.load_batches) of the load that held it back
    window_start    date,                   -- that batch's extraction window
    window_end      date,
    as_of_date      date,                   -- logical date of the run
    quarantined_at  timestamptz not null default now()
);

create index if not exists quarantine_scope_idx on raw.quarantine (target_table, scope, record_date);
create index if not exists quarantine_batch_idx on raw.quarantine (batch_id);
create index if not exists quarantine_as_of_idx on raw.quarantine (as_of_date);
