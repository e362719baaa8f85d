-- X (Twitter) Ads: written by socialwh.connectors.x, replaced per account (and per window for
-- the dated table) in one transaction. Money is exact numeric in the account's currency:
-- X sends *_local_micro integers, the connector divides by 10^6 without rounding.

create table if not exists raw.x_ad_stats (
    account_id         text not null,          -- ads account id, e.g. 18ce54d4x5t
    date_day           date not null,          -- the day in the account's time zone (account_timezone)
    promoted_tweet_id  text not null,          -- the ad (entity=PROMOTED_TWEET)
    tweet_id           text,
    line_item_id       text,                   -- X's ad group
    line_item_name     text,
    campaign_id        text,
    campaign_name      text,
    account_name       text,
    currency           text not null,          -- ISO 4217, from the account's funding instruments
    account_timezone   text not null,          -- IANA zone of the account (GET accounts/:id timezone)
    placement          text not null,          -- ALL_ON_TWITTER
    spend              numeric not null,       -- billed_charge_local_micro / 10^6
    impressions        bigint not null,
    clicks             bigint not null,
    url_clicks         bigint,
    engagements        bigint,
    conversions        numeric not null,       -- sum of the configured WEB_CONVERSION metrics' metric
    conversion_value   numeric not null,       -- their sale_amount / 10^6
    record             jsonb not null,         -- the day's slice of the original id_data entry
    batch_id           uuid not null,
    extracted_at       timestamptz not null,
    as_of_date         date not null,          -- logical date of the run that extracted it
    primary key (account_id, date_day, promoted_tweet_id)
);

create table if not exists raw.x_campaigns (
    account_id             text not null,
    campaign_id            text not null,
    campaign_name          text,
    entity_status          text,               -- ACTIVE, PAUSED, DRAFT
    objective              text,               -- the line items' objective when they share one
    daily_budget           numeric,            -- daily_budget_amount_local_micro / 10^6
    total_budget           numeric,            -- total_budget_amount_local_micro / 10^6 (lifetime)
    budget_currency        text,
    funding_instrument_id  text,
    start_time             timestamptz,
    end_time               timestamptz,
    deleted                boolean not null,
    line_items             jsonb not null,     -- [{id, name, objective, entity_status, deleted}]
    record                 jsonb not null,     -- the campaign object as returned
    batch_id               uuid not null,
    extracted_at           timestamptz not null,
    as_of_date             date not null,
    primary key (account_id, campaign_id)
);
