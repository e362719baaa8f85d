"""The community_spike webhook message (issue #14): one bi.rpt_community_alerts row in, a message
naming the account, the metric(s), the value vs the baseline and the posts driving it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from socialwh.pipeline import alerts


def row(**over):
    base = {
        "platform": "instagram", "account_id": "17841400000000001", "alert_date": date(2026, 11, 20),
        "metrics": "negative_share", "volume_spike": False, "negative_spike": True, "comments": 41,
        "baseline_median_comments": Decimal("16.00"), "baseline_mad_comments": Decimal("8.00"),
        "volume_z": Decimal("3.16"), "negative_comments": 25, "comments_scored": 40,
        "negative_share": Decimal("0.6250"), "baseline_median_negative_share": Decimal("0.1727"),
        "baseline_mad_negative_share": Decimal("0.0727"), "negative_share_z": Decimal("4.20"), "baseline_days": 28,
        "z_threshold": Decimal("3.5"), "driving_post_ids": "p1,p2",
        "driving_posts": "p1 (20 comments, 14 negative); p2 (12 comments, 9 negative)"}
    return {**base, **over}


def test_names_account_metric_value_vs_baseline_and_posts():
    alert = alerts.build_community_alert(row(), dag_id="social_nightly", task_id="community_alerts",
                                         logical_date=date(2026, 11, 20), run_id="scheduled__x")
    text = alert.text()
    lines = text.splitlines()
    assert lines[0] == (":rotating_light: Community spike on instagram account 17841400000000001 on "
                        "2026-11-20: negative-sentiment share")
    assert "Negative share: 62% (25 of 40 scored comments) vs a baseline median of 17% (robust z 4.2 > 3.5)" in lines
    assert not any(line.startswith("Comment volume") for line in lines)  # not flagged: not claimed
    assert "Baseline: the previous 28 days" in lines
    assert lines[-3:] == ["Posts driving it (2):", "  - p1 (20 comments, 14 negative)",
                          "  - p2 (12 comments, 9 negative)"]


def test_volume_and_both_metrics():
    alert = alerts.build_community_alert(row(metrics="comment_volume,negative_share", volume_spike=True,
                                             comments=83, volume_z=Decimal("5.65")),
                                         dag_id=None, task_id=None)
    text = alert.text()
    assert text.splitlines()[0].endswith(": comment volume and negative-sentiment share")
    assert "Comment volume: 83 customer comments vs a baseline median of 16 (MAD 8, robust z 5.65 > 3.5)" in text


def test_no_driving_post_says_so():
    text = alerts.build_community_alert(row(driving_post_ids=None, driving_posts=None), dag_id=None,
                                        task_id=None).text()
    assert "none stands out" in text


def test_payload_is_json_with_the_row_and_redacted():
    payload = alerts.build_community_alert(row(), dag_id="d", task_id="t").payload()
    body = json.loads(json.dumps(payload))  # decimals and dates made JSON-safe
    assert body["socialwh"]["kind"] == "community_spike"
    assert body["socialwh"]["community"]["alert_date"] == "2026-11-20"
    assert body["socialwh"]["community"]["negative_share"] == pytest.approx(0.625)
    assert body["socialwh"]["community"]["driving_post_ids"] == "p1,p2"
    assert body["text"].startswith(":rotating_light:")


def test_community_spike_is_a_known_kind():
    assert "community_spike" in alerts.KINDS
