"""Folded records against a real PostgreSQL: raw.meta_ad_insights stores the API record without what
its typed columns hold, and raw.api_record(t) gives back exactly (as jsonb) what the API sent,
through the nightly load path (meta.insight_row + quarantine.load_account_tables), for ordinary
records and for every shape that must stay in the stored record. Rows of a warehouse loaded
before the table folded keep their whole record and read back unchanged."""

from __future__ import annotations

import json
from datetime import date

import psycopg
import pytest

from socialwh.connectors.base import TableLoad
from socialwh.connectors.meta import InsightRecord, decode_insights_page, insight_row, insight_rows
from socialwh.warehouse import db
from socialwh.warehouse.quarantine import load_account_tables

pytestmark = pytest.mark.integration

ACCT = "1000000001"
ACCOUNT = {"id": ACCT, "currency": "EUR", "timezone_name": "Europe/Berlin"}
DAY = date(2026, 11, 1)
ACTIONS = [{"action_type": "link_click", "value": "22"}, {"action_type": "purchase", "value": "2"}]


def api(ad_id: str, **changes) -> dict:
    record = {"account_id": ACCT, "date_start": "2026-11-01", "date_stop": "2026-11-01",
              "campaign_id": "c1", "campaign_name": "Q4 Prospecting", "adset_id": "s1", "adset_name": "s",
              "ad_id": ad_id, "ad_name": "a", "account_currency": "EUR", "spend": "26.47",
              "impressions": "1931", "clicks": "37", "reach": "1626", "actions": ACTIONS,
              "action_values": [{"action_type": "purchase", "value": "74.57"}]}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}  # ... drops a key


RECORDS = [
    api("1"),                                                   # every key folds
    api("2", spend="1e1", impressions=1931, clicks=" 37"),      # number shapes PostgreSQL would not print
    api("3", spend="-0.00", reach=None, actions=...),           # negative zero, a null, an absent list
    api("4", spend="0.10", date_stop="2026-11-02", account_currency=...),  # date_stop differs; absent key
    api("5", account_id="act_" + ACCT, campaign_name="", ad_name='Café "🎉" \\ \t\n'),
    api("6", spend=12.5, unknown={"nested": [1, 2.50, None, {"x": "y"}]}, action_values=[]),
]


@pytest.fixture(scope="module")
def url(module_database) -> str:
    with db.connect(module_database) as conn:
        db.ensure_raw_schema(conn)
    return module_database


def load(conn, records) -> None:
    rows = [insight_row(r, ACCOUNT) for r in records]
    counts, quarantined = load_account_tables(
        conn, "meta", ACCT, [TableLoad("raw.meta_ad_insights", rows, date_column="date_start")], DAY, DAY, DAY)
    conn.commit()
    assert counts["raw.meta_ad_insights"] == len(records) and not any(quarantined.values())


def test_api_record_gives_back_exactly_what_the_api_sent(url):
    with psycopg.connect(url) as conn:
        load(conn, RECORDS)
        for original in RECORDS:
            stored, same, folded = conn.execute(
                "select t.record, raw.api_record(t) = %s::jsonb, record_folded from raw.meta_ad_insights t"
                " where account_id = %s and date_start = %s and ad_id = %s",
                [json.dumps(original), ACCT, DAY, original["ad_id"]]).fetchone()
            assert same, (original["ad_id"], stored)
            assert folded is not None and len(stored) < len(original)
        # an ordinary record keeps nothing; the odd shapes keep exactly their own values
        stored = dict(conn.execute("select ad_id, record from raw.meta_ad_insights").fetchall())
        assert stored["1"] == {}
        assert stored["2"] == {"spend": "1e1", "impressions": 1931, "clicks": " 37"}
        assert stored["3"] == {"spend": "-0.00", "reach": None}
        assert stored["4"] == {"date_stop": "2026-11-02"}
        assert stored["5"] == {"account_id": "act_" + ACCT}
        assert stored["6"] == {"spend": 12.5, "unknown": {"nested": [1, 2.5, None, {"x": "y"}]}}


def test_a_warehouse_loaded_before_folding_keeps_its_rows_and_folds_the_next_load(url):
    with psycopg.connect(url) as conn:
        conn.execute("delete from raw.meta_ad_insights")
        conn.execute("alter table raw.meta_ad_insights drop column record_folded")  # the old DDL
        conn.execute("drop function raw.api_record(raw.meta_ad_insights)")
        conn.execute(
            "insert into raw.meta_ad_insights (account_id, date_start, ad_id, account_currency, account_timezone,"
            " spend, impressions, clicks, record, batch_id, extracted_at, as_of_date) values"
            " (%s, %s, 'old', 'EUR', 'Europe/Berlin', 26.47, 1931, 37, %s, gen_random_uuid(), now(), %s)",
            [ACCT, date(2026, 10, 1), json.dumps(api("old")), date(2026, 10, 1)])
        conn.commit()
        db.ensure_raw_schema(conn)  # what every task runs: adds record_folded and raw.api_record
        load(conn, RECORDS[:1])
        rows = conn.execute("select ad_id, record_folded, raw.api_record(t) from raw.meta_ad_insights t"
                            " order by ad_id").fetchall()
    assert rows == [("1", 2**16 - 1, RECORDS[0]), ("old", None, api("old"))]


def test_copy_text_stores_what_psycopg_write_row_stored(url):
    """loader.copy_rows builds COPY text itself (no dumper per value): every type and character
    that needs escaping lands exactly as psycopg's write_row with json.dumps put it."""
    import uuid
    from datetime import datetime, timezone
    from decimal import Decimal

    from psycopg import sql

    from socialwh.warehouse import loader

    def old_adapt(v):
        if isinstance(v, (dict, list)):
            return json.dumps(v, default=loader._json_default, separators=(",", ":"))
        return v

    cols = ("id int, t text, n numeric, b bigint, d date, ts timestamptz, u uuid, f boolean, x float8,"
            " j jsonb, a text[]")
    utc = datetime(2026, 11, 1, 10, 30, 0, 123456, tzinfo=timezone.utc)
    rows = [
        (1, "plain", Decimal("14.35"), 7, DAY, utc, uuid.UUID(int=1), True, 1.5,
         {"k": [1, 2.5, None, "é", {"t": utc}], "d": Decimal("0.10"), "day": DAY}, "{a,b}"),
        (2, "tab\there\nnew\rline\\back\bbs\vvt\fff \\N", Decimal("-0.00"), -1, None, None, None, False,
         float("inf"), [{"value": "1", "action_type": 'q"uote\\'}], None),
        (3, None, Decimal("NaN"), None, DAY, utc.replace(tzinfo=None).astimezone(timezone.utc), None, None,
         None, [], '{"x\\ty"}'),
        (4, "émoji 🎉 ünï", Decimal("1E+3"), 2**62, DAY, utc, uuid.uuid4(), None, -0.0,
         {"nested": {"deep": ["\t", "\n", "\\"]}, "big": 2**70, "1": {"2": 3}}, "{}"),
        # JSON msgspec writes (no null, no UTC time): non-ASCII unescaped, escapes, floats, Decimal
        (5, "x", Decimal("0"), 0, DAY, utc, None, True, 1e16,
         {"name": 'Café "🎉"\t\\', "v": [1, 2.5, 1e16, "x", True], "m": Decimal("14.350"), "day": DAY}, "{}"),
    ]
    assert loader._FAST_JSON is not None  # msgspec is installed with Airflow: row 5 takes it
    with psycopg.connect(url) as conn:
        for name in ("copy_new", "copy_old"):
            conn.execute(sql.SQL("create temp table {} ({})").format(sql.Identifier(name), sql.SQL(cols)))
        names = [c.split()[0] for c in cols.split(", ")]
        assert loader.copy_rows(conn, "copy_new", names, rows) == len(rows)
        with conn.cursor().copy(sql.SQL("copy copy_old ({}) from stdin").format(
                sql.SQL(", ").join(map(sql.Identifier, names)))) as copy:
            for row in rows:
                copy.write_row([old_adapt(v) for v in row])
        new = conn.execute("select * from copy_new order by id").fetchall()
        old = conn.execute("select * from copy_old order by id").fetchall()
        differ = conn.execute("select count(*) from (select * from copy_new except all select * from copy_old"
                              " union all select * from copy_old except all select * from copy_new) d").fetchone()[0]
    assert len(new) == len(rows) and differ == 0
    assert [repr(r) for r in new] == [repr(r) for r in old]  # repr: Decimal('NaN') != itself


def test_typed_pages_load_exactly_the_rows_the_dict_pages_load(url):
    """The nightly decodes insights pages typed (meta.decode_insights_page): the same raw rows,
    folds and raw.api_record as the dict decoding, for plain pages and pages with odd values."""
    extra = [api("7", ad_name="Caf\u00e9 \U0001f389", actions=[{"value": "3", "action_type": "like"}]),
             api("8", actions=[{"action_type": "x", "value": "1", "1d_click": "1"}])]  # an extra key: kept
    bodies = [json.dumps({"data": [r]}, indent=i % 2 or None).encode() for i, r in enumerate(RECORDS + extra)]
    bodies.append(json.dumps({"data": [api("9"), api("10", clicks=37)]}).encode())  # one odd record: dicts
    originals = [r for body in bodies for r in json.loads(body)["data"]]
    decoded = [r for body in bodies for r in decode_insights_page(body)["data"]]
    # typed where every value is a string (5: odd strings; 8: an odd list, judged from its dict)
    assert [type(r) is InsightRecord for r in decoded] == [
        True, False, False, True, True, False, True, True, False, False]
    select = ("select ad_id, date_start, campaign_id, campaign_name, adset_id, adset_name, account_currency,"
              " account_timezone, spend, impressions, clicks, reach, actions, action_values, record, record_folded,"
              " raw.api_record(t) from raw.meta_ad_insights t where account_id = %s order by ad_id")
    with psycopg.connect(url) as conn:
        stored = []
        for records in (originals, decoded):
            conn.execute("delete from raw.meta_ad_insights")
            rows = insight_rows(records, ACCOUNT)
            load_account_tables(
                conn, "meta", ACCT, [TableLoad("raw.meta_ad_insights", rows, date_column="date_start")], DAY, DAY, DAY)
            conn.commit()
            stored.append(conn.execute(select, [ACCT]).fetchall())
    assert stored[0] == stored[1] and len(stored[1]) == len(originals)
    assert {r[0]: r[-1] for r in stored[1]} == {r["ad_id"]: r for r in originals}


# --- compact action lists (warehouse.action_lists): the two lists stored as short text ------------

ODD_LISTS = [
    ACTIONS,                                                            # the usual: compact
    [],                                                                 # empty: ''
    [{"value": "3", "action_type": "like"}, {"action_type": "like", "value": "3"}],  # value first, repeated
    [{"action_type": "offsite conversion.fb pixel", "value": "0.50"}, {"action_type": "", "value": "007"}],
    [{"action_type": "Caf\u00e9 \U0001f389", "value": "1"}],               # non-ASCII
    [{"action_type": "a,b", "value": "1"}],                             # separators in a type: JSON
    [{"action_type": "a=b", "value": "1"}],
    [{"action_type": "[x", "value": "1"}, {"action_type": "y", "value": "2"}],
    [{"action_type": '{"x', "value": "1"}],
    [{"action_type": "purchase", "value": "2", "1d_click": "1", "7d_view": "1"}],  # attribution windows
    [{"action_type": "purchase", "value": 2}, {"action_type": "x", "value": "1e3"}],  # not plain values
    [{"action_type": "purchase", "value": "2.5 "}],
]


def test_action_lists_are_compact_and_give_back_exactly_what_the_api_sent(url):
    from socialwh.warehouse.action_lists import text_of
    from socialwh.warehouse.loader import _json_text

    records = [api(f"L{i}", actions=lst, action_values=lst[:1]) for i, lst in enumerate(ODD_LISTS)]
    records.append(api("Lnone", actions=..., action_values=...))      # Graph omits empty lists
    bodies = [json.dumps({"data": [r]}, separators=(",", ":") if i % 2 else None).encode()
              for i, r in enumerate(records)]
    with psycopg.connect(url) as conn:
        conn.execute("delete from raw.meta_ad_insights")
        rows = insight_rows([r for body in bodies for r in decode_insights_page(body)["data"]], ACCOUNT)
        load_account_tables(conn, "meta", ACCT, [TableLoad("raw.meta_ad_insights", rows, date_column="date_start")],
                            DAY, DAY, DAY)
        conn.commit()
        got = {r[0]: r[1:] for r in conn.execute(
            "select ad_id, actions, action_values, raw.api_record(t), record ? 'actions',"
            " raw.action_list_json(actions), raw.action_list_text(raw.action_list_json(actions))"
            " from raw.meta_ad_insights t where account_id = %s", [ACCT])}
        for original in records:
            actions, values, record, kept, as_json, again = got[original["ad_id"]]
            assert record == original, original["ad_id"]
            assert not kept  # the typed column holds every list, however odd
            assert as_json == original.get("actions", [])
            # a compact list: the loader writes what the SQL encoding (the upgrade's) gives, so the
            # fingerprints agree; a list kept as JSON text is the same jsonb (its text may differ)
            expected = text_of(original.get("actions", []), _json_text)
            assert (json.loads(actions) == json.loads(expected)) if expected.startswith("[") else actions == expected
            sql_text = conn.execute("select raw.action_list_text(%s::jsonb)",
                                    [json.dumps(original.get("action_values", []))]).fetchone()[0]
            if actions.startswith("["):
                assert json.loads(again) == json.loads(actions)
            else:
                assert actions == again and values == sql_text
    compact = {k: v[0] for k, v in got.items()}
    assert compact["L0"] == "link_click=22,purchase=2" and compact["L1"] == "" and compact["Lnone"] == ""
    assert compact["L2"] == "like=3,like=3" and compact["L3"] == "offsite conversion.fb pixel=0.50,=007"
    assert compact["L4"] == "Caf\u00e9 \U0001f389=1"
    assert all(compact[f"L{i}"].startswith("[") for i in range(5, len(ODD_LISTS)))


def test_a_warehouse_with_jsonb_action_lists_is_converted_once_in_place(url):
    """The layout before the compact form (jsonb columns, dbt views reading them, control totals
    fingerprinted over jsonb): ensure_raw_schema converts the columns in one transaction, keeps
    every record and total, records no change, and a reload of the same rows changes nothing."""
    from socialwh.warehouse import control_totals

    records = [api(f"U{i}", actions=lst) for i, lst in enumerate(ODD_LISTS[:5])]  # the compact ones
    odd = ODD_LISTS[5:]  # kept as JSON text: loaded by SQL for another account
    table = "raw.meta_ad_insights"
    read = ("select account_id, ad_id, actions, action_values, record, record_folded, raw.api_record(t)"
            " from raw.meta_ad_insights t order by 1, 2")
    with psycopg.connect(url) as conn:
        conn.execute("delete from raw.meta_ad_insights")
        load(conn, records)
        # back to the old layout (bits 13, 14 = 24576: the two lists folded): jsonb lists, an api_record over them, views reading them
        conn.execute("alter table raw.meta_ad_insights"
                     " alter column actions type jsonb using raw.action_list_json(actions),"
                     " alter column action_values type jsonb using raw.action_list_json(action_values)")
        conn.execute("create or replace function raw.api_record(r raw.meta_ad_insights) returns jsonb language sql"
                     " as $$ select r.record || jsonb_build_object('actions', r.actions) $$")
        for i, lst in enumerate(odd):
            conn.execute(
                "insert into raw.meta_ad_insights (account_id, date_start, ad_id, account_currency, account_timezone,"
                " spend, impressions, clicks, actions, action_values, record, record_folded, batch_id, extracted_at,"
                " as_of_date) values ('2', %s, %s, 'EUR', 'Europe/Berlin', 1, 1, 1, %s, %s, '{}', 24576,"
                " gen_random_uuid(), now(), %s)", [DAY, f"O{i}", json.dumps(lst), json.dumps(lst), DAY])
        conn.execute("create schema if not exists staging")
        conn.execute("create view staging.stg_old as select ad_id, actions from raw.meta_ad_insights")
        conn.execute("create view staging.stg_old_2 as select * from staging.stg_old")
        conn.execute("create view staging.stg_other as select ad_id, spend from raw.meta_ad_insights")
        control_totals.resync(conn, [table])
        control_totals.refingerprint(conn, table)
        conn.commit()
        old = conn.execute("select account_id, ad_id, actions, action_values, record, record_folded"
                           " from raw.meta_ad_insights order by 1, 2").fetchall()
        totals = control_totals.stored(conn, table)
        changes = conn.execute("select count(*) from raw.day_changes").fetchone()[0]

        db.ensure_raw_schema(conn)  # what every task runs
        assert conn.execute("select pg_typeof(actions)::text, pg_typeof(action_values)::text"
                            " from raw.meta_ad_insights limit 1").fetchone() == ("text", "text")
        assert conn.execute("select to_regclass('staging.stg_old')").fetchone()[0] is None  # dbt makes it again
        assert conn.execute("select to_regclass('staging.stg_old_2')").fetchone()[0] is None
        assert conn.execute("select to_regclass('staging.stg_other')").fetchone()[0] is not None  # reads no list
        after = conn.execute(read).fetchall()
        assert [(a, ad, json.loads(x) if x.startswith("[") else x, rec, f, api_rec)
                for a, ad, x, _, rec, f, api_rec in after if a == "2"] == \
            [("2", f"O{i}", lst, {}, 24576, {"actions": lst, "action_values": lst}) for i, lst in enumerate(odd)]
        assert [r[6] for r in after if r[0] == ACCT] == records
        assert [r[2] for r in after if r[0] == ACCT] == ["link_click=22,purchase=2", "", "like=3,like=3",
                                                          "offsite conversion.fb pixel=0.50,=007", "Caf\u00e9 \U0001f389=1"]
        assert [(a, ad, x, y, rec, f) for a, ad, x, y, rec, f, _ in after] != old  # converted...
        assert control_totals.stored(conn, table) == control_totals.recompute(conn, table)
        assert [r[:7] for r in control_totals.stored(conn, table)] == [r[:7] for r in totals]  # ...same totals
        assert conn.execute("select count(*) from raw.day_changes").fetchone()[0] == changes  # nothing changed
        db.ensure_raw_schema(conn)  # once: nothing left to convert
        load(conn, records)         # the same rows again through the loader: no day changed
        assert conn.execute("select count(*) from raw.day_changes").fetchone()[0] == changes
        assert conn.execute(read).fetchall()[:len(records)] == after[:len(records)]
