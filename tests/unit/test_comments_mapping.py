"""Community comments (issue #14): mapping of Facebook, Instagram and YouTube comment records to
raw.<platform>_comments rows, brand recognition, the restatement window and clear record errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from socialwh import registry
from socialwh.connectors import comments as community
from socialwh.connectors import facebook_pages as fb
from socialwh.connectors import instagram as ig
from socialwh.connectors import youtube as yt
from socialwh.warehouse import quarantine

PAGE, IG_USER, CHANNEL = "104000000000001", "17841400000000001", "UCacme"


def _columns(platform: str) -> set[str]:
    table = registry.platform(platform).table("comments")
    return {c.name for c in table.data_columns} | {"record"}


def test_facebook_comment_and_brand_reply():
    fan = {"id": "111_1", "message": "Love it", "created_time": "2026-11-20T16:00:00+0000",
           "from": {"id": "999", "name": "Jane Fan"}, "like_count": 3, "comment_count": 1}
    brand = {"id": "111_2", "message": "Thanks!", "created_time": "2026-11-20T17:30:00+0000",
             "from": {"id": PAGE, "name": "Acme"}, "parent": {"id": "111_1"}, "like_count": 0,
             "comment_count": 0}
    a, b = fb.comment_row(fan, PAGE, f"{PAGE}_111"), fb.comment_row(brand, PAGE, f"{PAGE}_111")
    assert set(a) == _columns("facebook_pages")
    assert (a["is_brand"], a["parent_comment_id"], a["author_name"], a["reply_count"]) == (False, None, "Jane Fan", 1)
    assert (b["is_brand"], b["parent_comment_id"]) == (True, "111_1")
    assert a["created_at"] == datetime(2026, 11, 20, 16, tzinfo=UTC) and a["created_date"] == date(2026, 11, 20)
    assert a["updated_at"] is None  # Graph reports no edit time


def test_instagram_comment_with_embedded_replies_and_brand_by_id_or_username():
    comment = {"id": "c1", "text": "Where can I buy?", "timestamp": "2026-11-20T23:30:00+0000",
               "username": "fan_1", "from": {"id": "555", "username": "fan_1"}, "like_count": 2,
               "replies": {"data": [{"id": "r1", "text": "DM us", "timestamp": "2026-11-21T08:00:00+0000",
                                     "username": "acme", "from": {"id": IG_USER, "username": "acme"}}]}}
    top = ig.comment_row(comment, IG_USER, "acme", "m1")
    reply = ig.comment_row(comment["replies"]["data"][0], IG_USER, "acme", "m1", parent_id="c1")
    assert set(top) == _columns("instagram")
    assert (top["is_brand"], top["reply_count"], top["parent_comment_id"]) == (False, 1, None)
    assert "replies" not in top["record"]  # each reply is its own row
    assert (reply["is_brand"], reply["parent_comment_id"], reply["created_date"]) == (True, "c1", date(2026, 11, 21))
    by_name = ig.comment_row({"id": "r2", "timestamp": "2026-11-21T08:00:00+0000", "username": "acme"},
                             IG_USER, "acme", "m1", parent_id="c1")
    assert by_name["is_brand"] is True


def test_youtube_comment_edit_time_and_channel_author():
    comment = {"id": "Ug1", "snippet": {
        "videoId": "v1", "textOriginal": "Nice (edited)", "authorDisplayName": "@fan",
        "authorChannelId": {"value": "UCfan"}, "likeCount": 4,
        "publishedAt": "2026-11-20T10:00:00Z", "updatedAt": "2026-11-21T09:00:00Z"}}
    reply = {"id": "Ug1.r1", "snippet": {
        "videoId": "v1", "textOriginal": "Thanks", "authorChannelId": {"value": CHANNEL},
        "parentId": "Ug1", "likeCount": 0, "publishedAt": "2026-11-20T12:00:00Z",
        "updatedAt": "2026-11-20T12:00:00Z"}}
    a, b = yt.comment_row(comment, CHANNEL, "v1", 1), yt.comment_row(reply, CHANNEL, "v1")
    assert set(a) == _columns("youtube")
    assert a["updated_at"] == datetime(2026, 11, 21, 9, tzinfo=UTC) and a["message"] == "Nice (edited)"
    assert (a["is_brand"], a["reply_count"], a["like_count"]) == (False, 1, 4)
    assert (b["is_brand"], b["parent_comment_id"]) == (True, "Ug1")


@pytest.mark.parametrize("record, field", [
    ({"message": "no id", "created_time": "2026-11-20T16:00:00+0000"}, "id"),
    ({"id": "111_9", "message": "no time"}, "created_time"),
])
def test_a_record_without_id_or_time_names_account_record_and_field(record, field):
    with pytest.raises(community.CommentRecordError) as err:
        fb.comment_row(record, PAGE, f"{PAGE}_111")
    assert PAGE in str(err.value) and field in str(err.value) and "facebook_pages" in str(err.value)


def test_window_is_the_restatement_days_inside_the_extraction_window():
    night = date(2026, 11, 20)
    assert community.comment_window(date(2026, 11, 13), night, 3) == (date(2026, 11, 17), night)
    assert community.comment_window(date(2026, 11, 19), night, 3) == (date(2026, 11, 19), night)
    assert community.comment_window(date(2026, 11, 13), night, 0) == (night, night)
    assert community.restatement_days({}) == community.DEFAULT_RESTATEMENT_DAYS
    with pytest.raises(ValueError, match="comment_restatement_days"):
        community.restatement_days({"comment_restatement_days": "three"})
    assert community.window_start((date(2026, 11, 17), night)) == datetime(2026, 11, 17, tzinfo=UTC)
    assert community.in_window(datetime(2026, 11, 17, 0, 0, tzinfo=UTC), (date(2026, 11, 17), night))
    assert not community.in_window(datetime(2026, 11, 21, 0, 0, tzinfo=UTC), (date(2026, 11, 17), night))


def test_only_posts_that_may_have_comments_cost_a_call():
    snaps = [{"post_id": "a", "comments": 0}, {"post_id": "b", "comments": 4}, {"post_id": "c", "comments": None}]
    assert community.posts_with_comments(snaps) == ["b", "c"]


def test_load_replaces_the_window_and_keeps_one_row_per_comment():
    row = fb.comment_row({"id": "1_1", "created_time": "2026-11-20T16:00:00+0000"}, PAGE, f"{PAGE}_1")
    load = community.comments_load("facebook_pages", [row, dict(row)], (date(2026, 11, 17), date(2026, 11, 20)))
    assert load.table == "raw.facebook_pages_comments" and load.date_column == "created_date"
    assert load.window == (date(2026, 11, 17), date(2026, 11, 20)) and len(load.rows) == 1


def test_quarantine_rules_come_from_the_declaration():
    rules = {r.name for r in quarantine.rules_for("raw.instagram_comments")}
    assert {"required:comment_id", "required:post_id", "required:is_brand", "required:created_at",
            "non_negative:like_count", "date_in_window:created_date"} <= rules
    row = ig.comment_row({"id": "c1", "timestamp": "2026-11-10T10:00:00+0000"}, IG_USER, None, "m1")
    good, bad = quarantine.split("raw.instagram_comments", [row], since=date(2026, 11, 17), until=date(2026, 11, 20))
    assert not good and bad[0].rule == "date_in_window:created_date"
