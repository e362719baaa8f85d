"""Folded records (socialwh.warehouse.folding): a key leaves the stored record only when its typed
column gives back exactly what the API sent; declarations that cannot fold exactly are refused."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from socialwh import registry
from socialwh.connectors.meta import insight_row
from socialwh.warehouse import folding

ACCOUNT = {"id": "act_1000000001", "currency": "EUR", "timezone_name": "Europe/Berlin"}


@pytest.mark.parametrize(("sql_type", "original", "typed", "expected"), [
    ("text", "abc", "abc", True),
    ("text", "", "", True),
    ("text", "act_1", "1", False),
    ("text", 7, "7", False),                       # a JSON number is not the text column's string
    ("date", "2026-11-01", date(2026, 11, 1), True),
    ("date", "2026-11-1", date(2026, 11, 1), False),
    ("date", "2026-11-01", datetime(2026, 11, 1), False),
    ("bigint", "185", 185, True),
    ("bigint", "0185", 185, False),
    ("bigint", " 185", 185, False),
    ("bigint", 185, 185, False),                   # JSON number: stays in the record
    ("bigint", "1", True, False),
    ("numeric", "14.35", Decimal("14.35"), True),
    ("numeric", "14.350", Decimal("14.350"), True),  # numeric keeps the scale
    ("numeric", "0.10", Decimal("0.10"), True),
    ("numeric", "1e3", Decimal("1E+3"), False),
    ("numeric", "1E+3", Decimal("1E+3"), False),   # PostgreSQL prints 1000
    ("numeric", ".5", Decimal("0.5"), False),
    ("numeric", "-0.00", Decimal("-0.00"), False),  # PostgreSQL has no negative zero
    ("numeric", "12", 12, True),
    ("numeric", 14.35, Decimal("14.35"), False),
    ("jsonb", [{"action_type": "x", "value": "1"}], [{"value": "1", "action_type": "x"}], True),
    ("jsonb", [{"value": "1"}], [{"value": 1}], False),
    ("jsonb", [1], [1.0], False),
    ("jsonb", [], [], True),
    ("text", None, None, False),
])
def test_a_key_folds_only_when_the_typed_column_gives_it_back_exactly(sql_type, original, typed, expected):
    assert folding.reproduces(sql_type, original, typed) is expected


def test_a_meta_insight_keeps_only_what_its_columns_do_not_hold():
    _, table = registry.find_table("raw.meta_ad_insights")
    record = {"date_start": "2026-11-01", "date_stop": "2026-11-01", "account_id": "1000000001",
              "campaign_id": "c1", "ad_id": "a1", "ad_name": "Café \"🎉\"", "spend": "14.35",
              "impressions": 185, "clicks": "9", "actions": [{"action_type": "purchase", "value": "1"}],
              "unknown_field": {"nested": [1, 2.5, None]}}
    row = insight_row(record, ACCOUNT)
    stored, mask = folding.Folder(table).fold(row)
    assert stored == {"impressions": 185, "unknown_field": {"nested": [1, 2.5, None]}}
    keys = {k for i, (k, _) in enumerate(table.folds) if mask & (1 << i)}
    assert keys == set(record) - set(stored)
    assert row["record"] == record  # the mapped row is not changed


def test_declarations_that_cannot_fold_exactly_are_refused():
    cols = (registry.col("a", required=True), registry.col("n", "double precision"),
            *registry.record_columns(folded=True))
    cases = [((("a", "zz"),), "names no data column 'zz'"), ((("a", "n"),), "cannot be folded"),
             ((("a", "a"), ("a", "a")), "folded twice")]
    for folds, problem in cases:
        t = registry.Table("t_stats", "stats", cols, grain=("a",), folds=folds)
        with pytest.raises(registry.RegistryError, match=f"platform 'demo', table t_stats: .*{problem}"):
            registry.validate(registry.Platform("demo", "paid", "Demo", "demo", "demo", (t,)))
    t = registry.Table("t_stats", "stats", (registry.col("a", required=True), *registry.record_columns()),
                       grain=("a",), folds=(("a", "a"),))
    with pytest.raises(registry.RegistryError, match="record_folded"):
        registry.validate(registry.Platform("demo", "paid", "Demo", "demo", "demo", (t,)))


@pytest.mark.parametrize(("text", "compact"), [
    (b'[{"action_type":"link_click","value":"25"},{"action_type":"purchase","value":"1.50"}]',
     "link_click=25,purchase=1.50"),                                   # Graph's spelling
    (b'[{"action_type": "link_click", "value": "25"}, {"action_type": "purchase", "value": "1"}]',
     "link_click=25,purchase=1"),                                      # json.dumps' spelling
    (b'[ {"value" : "3", "action_type":"like"} ]', "like=3"),          # any other: decoded
    (b"[]", ""),
    (b'[{"action_type":"a,b","value":"1"}]', None),                   # separators in a type: JSON
    (b'[{"action_type":"a=b","value":"1"}]', None),
    (b'[{"action_type":"x[","value":"1"}]', None),
    (b'[{"action_type":"{","value":"1"},{"action_type":"y","value":"2"}]', None),
])
def test_action_lists_are_stored_compact_or_as_their_json_text(text, compact):
    import json

    from socialwh.connectors.numbers import PlainActionList
    from socialwh.warehouse import action_lists

    plain = PlainActionList.of(text)
    assert plain is not None
    stored = action_lists.text_of(plain, json.dumps)
    assert stored == (compact if compact is not None else text.decode())
    assert action_lists.text_of(json.loads(text), json.dumps) == (compact if compact is not None
                                                                  else json.dumps(json.loads(text)))
    assert action_lists.text_of(None, json.dumps) is None
