-- X API v2 (organic), loaded by socialwh.connectors.x_organic (docs/organic-contract.md).
-- account_daily: X keeps no follower history, so each night writes only its own day (date_day =
-- the night, a UTC day) with today's followers_count; earlier days keep what earlier nights stored.
-- post_snapshots: lifetime public_metrics (+ non_public_metrics clicks for posts < 30 days old).

create table if not exists raw.x_organic_account_daily (
    account_id        text not null,
    account_name      text,
    account_timezone  text not null,      -- IANA zone; date_day is a day in it (here: UTC)
    date_day          date not null,
    followers         bigint,             -- follower count at the end of the day; null = not reported
    followers_gained  bigint,
    followers_lost    bigint,
    views             bigint,
    reach             bigint,             -- unique accounts reached
    engagements       bigint,             -- null = not reported
    record            jsonb not null,     -- what the API returned for the day (original names)
    batch_id          uuid not null,
    extracted_at      timestamptz not null,
    as_of_date        date not null,
    primary key (account_id, date_day)
);

create table if not exists raw.x_organic_post_snapshots (
    account_id        text not null,
    post_id           text not null,
    snapshot_date     date not null,      -- the night this lifetime snapshot was taken
    published_at      timestamptz not null,
    account_timezone  text not null,
    content_type      text not null,      -- video | image | carousel | text | link | reel | story | short | live | other
    content_format    text,               -- platform-native type
    title             text,               -- text of the post, first 500 characters
    permalink         text,
    views             bigint,             -- lifetime counters as of snapshot_date; null = not reported
    reach             bigint,
    likes             bigint,
    comments          bigint,
    shares            bigint,
    saves             bigint,
    clicks            bigint,
    record            jsonb not null,
    batch_id          uuid not null,
    extracted_at      timestamptz not null,
    as_of_date        date not null,
    primary key (account_id, post_id, snapshot_date)
);
