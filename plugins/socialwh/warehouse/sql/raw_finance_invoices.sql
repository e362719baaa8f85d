-- Invoices, credit notes and adjustments of the ad platforms, one row per line of a finance
-- CSV file (socialwh.finance.invoices). A corrected file replaces its own rows; the folder is
-- the truth (files removed from it lose their rows).
create table if not exists raw.finance_invoices (
    source_file    text not null,         -- file name; a corrected file replaces its rows
    line_number    integer not null,
    document_id    text not null,         -- invoice / credit note number, unique per platform
    document_type  text not null,         -- invoice | credit_note | adjustment
    platform       text not null,
    account_id     text not null,
    billing_month  date not null,         -- first day of the billed month
    issue_date     date not null,
    amount         numeric not null,      -- > 0; document_type gives the sign
    currency       text not null,         -- ISO 4217, may differ from the account's currency
    description    text,
    file_sha256    text not null,
    batch_id       uuid not null,
    loaded_at      timestamptz not null default now(),
    primary key (source_file, line_number),
    check (document_type in ('invoice', 'credit_note', 'adjustment')),
    check (amount > 0)
);
