-- First-party orders (finance.orders: CSV files or a query on the shop database), loaded by
-- socialwh.finance.orders. One row per order; the source (a file, or query:<name>) is the
-- replace scope. Attributed once to a platform and campaign downstream (int_orders_attributed).
create table if not exists raw.finance_orders (
    source_file    text not null,         -- file name, or query:<name> for a database source
    line_number    integer not null,      -- line in the file, or row number in the query result
    order_id       text not null,
    ordered_at     timestamptz not null,  -- given with its UTC offset
    customer_id    text not null,
    new_customer   boolean not null,      -- the shop's flag: the customer's first order
    revenue        numeric not null check (revenue >= 0),
    currency       text not null,
    utm_source     text,                  -- lower case; null with utm_campaign null = direct
    utm_medium     text,
    utm_campaign   text,                  -- campaign id or exact campaign name on the platform
    utm_content    text,
    status         text not null check (status in ('completed', 'refunded', 'cancelled')),
    file_sha256    text not null,
    batch_id       uuid not null,
    loaded_at      timestamptz not null default now(),
    primary key (source_file, line_number)
);
create unique index if not exists finance_orders_order_id on raw.finance_orders (order_id);
