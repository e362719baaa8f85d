-- TikTok organic (TikTok API for Business, "TikTok Accounts" endpoints /business/get/ and
-- /business/video/list/), loaded by socialwh.connectors.tiktok_organic. The shared organic shape
-- (docs/organic-contract.md). TikTok reports UTC days and UTC publish times: account_timezone is
-- 'UTC' on every row. See docs/tiktok-organic-api.md.
-- The schema `raw` is created by raw.sql, which runs first.

create table if not exists raw.tiktok_organic_account_daily (
    account_id        text not null,
    account_name      text,
    account_timezone  text not null,      -- IANA zone; date_day is a day in it (or UTC where the API reports UTC days: say so)
    date_day          date not null,
    followers         bigint,             -- follower/subscriber count at the end of the day; null = not reported
    followers_gained  bigint,
    followers_lost    bigint,
    views             bigint,             -- 2025 "views" (formerly impressions; page_total_media_view, IG views, ...)
    reach             bigint,             -- unique accounts reached
    engagements       bigint,             -- as the platform counts them for the account-day; null = not reported
    record            jsonb not null,     -- what the API returned for the day (all metrics, original names)
    batch_id          uuid not null,
    extracted_at      timestamptz not null,
    as_of_date        date not null,
    primary key (account_id, date_day)
);
create table if not exists raw.tiktok_organic_post_snapshots (
    account_id        text not null,
    post_id           text not null,
    snapshot_date     date not null,      -- the night this lifetime snapshot was taken
    published_at      timestamptz not null,
    account_timezone  text not null,
    content_type      text not null,      -- video | image | carousel | text | link | reel | story | short | live | other
    content_format    text,               -- platform-native type (media_product_type, ...)
    title             text,               -- caption / text / title, first 500 characters
    permalink         text,
    views             bigint,             -- lifetime counters as of snapshot_date; null = not reported
    reach             bigint,
    likes             bigint,             -- likes / reactions
    comments          bigint,
    shares            bigint,             -- shares / reposts / retweets (+ quotes on X)
    saves             bigint,             -- saves / bookmarks
    clicks            bigint,
    record            jsonb not null,
    batch_id          uuid not null,
    extracted_at      timestamptz not null,
    as_of_date        date not null,
    primary key (account_id, post_id, snapshot_date)
);
