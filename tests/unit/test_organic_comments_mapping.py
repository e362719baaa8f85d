"""Community comments (issue #14) of LinkedIn, TikTok and X: mapping of their comment records to
raw.<platform>_comments rows, brand recognition, clear record errors, X's 7-day reach and the first
night's reach back over the extraction window."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from socialwh import registry
from socialwh.connectors import comments as community
from socialwh.connectors import linkedin_organic as li
from socialwh.connectors import tiktok_organic as tt
from socialwh.connectors import x_organic as xo

ORG, BUSINESS, USER = "80000001", "acme-tiktok-business-01", "1600000000000000001"
POST_URN = "urn:li:share:7200000000000000001"
TOP_URN = "urn:li:comment:(urn:li:activity:7200000000000000001,7300000000000000001)"


def _columns(platform: str) -> set[str]:
    table = registry.platform(platform).table("comments")
    return {c.name for c in table.data_columns} | {"record"}


def test_linkedin_comment_reply_edit_and_brand_actor():
    top = {"actor": "urn:li:person:abc", "commentUrn": TOP_URN, "id": "7300000000000000001",
           "created": {"actor": "urn:li:person:abc", "time": 1_763_654_400_000},
           "lastModified": {"actor": "urn:li:person:abc", "time": 1_763_661_600_000},
           "message": {"text": "Great read (edited)", "attributes": []},
           "likesSummary": {"totalLikes": 2}, "commentsSummary": {"totalFirstLevelComments": 1}}
    reply = {"actor": f"urn:li:organization:{ORG}", "agent": "urn:li:person:admin",
             "commentUrn": "urn:li:comment:(urn:li:activity:7200000000000000001,7300000000000000002)",
             "parentComment": TOP_URN, "created": {"time": 1_763_665_200_000},
             "lastModified": {"time": 1_763_665_200_000}, "message": {"text": "Thank you!"}}
    a, b = li.comment_row(top, ORG, POST_URN), li.comment_row(reply, ORG, POST_URN)
    assert set(a) == _columns("linkedin_organic")
    assert (a["comment_id"], a["parent_comment_id"], a["is_brand"], a["author_name"]) == (TOP_URN, None, False, None)
    assert a["created_at"] == datetime(2025, 11, 20, 16, tzinfo=UTC)
    assert a["updated_at"] == datetime(2025, 11, 20, 18, tzinfo=UTC)  # lastModified after created: an edit
    assert (a["like_count"], a["reply_count"]) == (2, 1)
    assert (b["is_brand"], b["parent_comment_id"], b["updated_at"]) == (True, TOP_URN, None)
    assert b["author_id"] == f"urn:li:organization:{ORG}"
    with pytest.raises(community.CommentRecordError, match=f"linkedin_organic account {ORG}: .*created.time"):
        li.comment_row({"commentUrn": TOP_URN, "actor": "urn:li:person:abc"}, ORG, POST_URN)
    with pytest.raises(ValueError, match="created.time' is not epoch milliseconds"):
        li.comment_row({"commentUrn": TOP_URN, "created": {"time": "yesterday"}}, ORG, POST_URN)


def test_tiktok_comment_reply_and_owner_flag():
    top = {"comment_id": "7400000000000000001", "video_id": "v1", "user_id": "hash1", "username": "fan_1",
           "text": "nice", "likes": 3, "replies": 2, "create_time": "1763654400", "owner": False}
    reply = {"comment_id": "7400000000000000002", "video_id": "v1", "user_id": "hash-acme", "username": "acme",
             "text": "thanks", "likes": 0, "create_time": 1763658000, "owner": True,
             "parent_comment_id": "7400000000000000001"}
    a, b = tt.comment_row(top, BUSINESS, "v1"), tt.comment_row(reply, BUSINESS, "v1")
    assert set(a) == _columns("tiktok_organic")
    assert (a["is_brand"], a["reply_count"], a["author_name"], a["updated_at"]) == (False, 2, "fan_1", None)
    assert a["created_at"] == datetime(2025, 11, 20, 16, tzinfo=UTC)
    assert (b["is_brand"], b["parent_comment_id"], b["created_date"]) == (True, "7400000000000000001", date(2025, 11, 20))
    with pytest.raises(community.CommentRecordError, match=f"tiktok_organic account {BUSINESS}: .* create_time"):
        tt.comment_row({"comment_id": "1"}, BUSINESS, "v1")
    with pytest.raises(ValueError, match="field 'likes' is not a whole number"):
        tt.comment_row({**top, "likes": "many"}, BUSINESS, "v1")


def test_x_reply_parent_and_brand_author():
    users = {"42": {"id": "42", "username": "fan42"}, USER: {"id": USER, "username": "acme"}}
    top = {"id": "2001", "text": "@acme when?", "author_id": "42", "created_at": "2026-11-20T16:00:00.000Z",
           "conversation_id": "1000", "in_reply_to_user_id": USER,
           "referenced_tweets": [{"type": "replied_to", "id": "1000"}],
           "public_metrics": {"like_count": 1, "reply_count": 1}}
    brand = {"id": "2002", "text": "@fan42 Friday!", "author_id": USER, "created_at": "2026-11-20T17:00:00.000Z",
             "conversation_id": "1000", "referenced_tweets": [{"type": "replied_to", "id": "2001"}]}
    a, b = xo.reply_row(top, users, USER, "1000"), xo.reply_row(brand, users, USER, "1000")
    assert set(a) == _columns("x_organic")
    assert (a["parent_comment_id"], a["is_brand"], a["author_name"], a["like_count"]) == (None, False, "fan42", 1)
    assert (b["parent_comment_id"], b["is_brand"], b["author_id"]) == ("2001", True, USER)
    with pytest.raises(community.CommentRecordError, match=f"x_organic account {USER}: .*created_at"):
        xo.reply_row({"id": "2003"}, users, USER, "1000")


def test_x_recent_search_reaches_back_seven_days():
    window = (date(2026, 11, 13), date(2026, 11, 20))
    # the sandbox's "now": midnight after the night; recent search reaches exactly 7 days back
    assert xo.recent_search_window(window, datetime(2026, 11, 21, tzinfo=UTC)) == (date(2026, 11, 14), date(2026, 11, 20))
    # a real run a few hours into the next day loses one more (partial) day
    assert xo.recent_search_window(window, datetime(2026, 11, 21, 3, tzinfo=UTC)) == (date(2026, 11, 15), date(2026, 11, 20))
    assert xo.recent_search_window((date(2026, 11, 18), date(2026, 11, 20)), datetime(2026, 11, 21, 3, tzinfo=UTC)) \
        == (date(2026, 11, 18), date(2026, 11, 20))
    assert xo.recent_search_window(window, datetime(2026, 11, 29, tzinfo=UTC)) is None


def test_first_night_reaches_back_over_the_extraction_window():
    class Client:
        comments = True
        comment_restatement_days = 3

    client = Client()
    since, until = date(2026, 9, 1), date(2026, 11, 20)
    assert community.reach_back_on_first_night(client, since, until) is True
    assert community.comment_window(since, until, client.comment_restatement_days) == (since, until)
    off = Client()
    off.comments = False
    assert community.reach_back_on_first_night(off, since, until) is False and off.comment_restatement_days == 3
    assert community.reach_back_on_first_night(object(), since, until) is False  # no comments at all
