-- Facebook Page insights (organic), loaded by socialwh.connectors.facebook_pages (Graph API).
-- date_day is a day in account_timezone (Graph's Page insights day, America/Los_Angeles unless the
-- platform option timezone says otherwise), taken from end_time - 1 day. followers = page_follows,
-- followers_gained/lost = page_daily_follows_unique / page_daily_unfollows_unique, views =
-- page_media_view, reach = page_total_media_view_unique, engagements = page_post_engagements.
-- Post snapshots: views = post_media_view, reach = post_total_media_view_unique, likes = reactions
-- (all types), comments/shares from the post's fields, clicks = post_clicks; saves not reported.

create table if not exists raw.facebook_pages_account_daily (
    account_id        text not null,
    account_name      text,
    account_timezone  text not null,      -- IANA zone; date_day is a day in it
    date_day          date not null,
    followers         bigint,             -- follower count at the end of the day; null = not reported
    followers_gained  bigint,
    followers_lost    bigint,
    views             bigint,             -- 2025 "views" (formerly impressions)
    reach             bigint,             -- unique accounts reached
    engagements       bigint,             -- as the platform counts them for the account-day; null = not reported
    record            jsonb not null,     -- what the API returned for the day (all metrics, original names)
    batch_id          uuid not null,
    extracted_at      timestamptz not null,
    as_of_date        date not null,
    primary key (account_id, date_day)
);

create table if not exists raw.facebook_pages_post_snapshots (
    account_id        text not null,
    post_id           text not null,
    snapshot_date     date not null,      -- the night this lifetime snapshot was taken
    published_at      timestamptz not null,
    account_timezone  text not null,
    content_type      text not null,      -- video | image | carousel | text | link | reel | story | short | live | other
    content_format    text,               -- platform-native type
    title             text,               -- caption / text / title, first 500 characters
    permalink         text,
    views             bigint,             -- lifetime counters as of snapshot_date; null = not reported
    reach             bigint,
    likes             bigint,             -- likes / reactions
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
