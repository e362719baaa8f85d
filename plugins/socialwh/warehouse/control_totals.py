"""Control totals of the raw fact tables, kept as the data is written (issue #10, item 3).

``raw.control_totals`` holds, per windowed raw table (registry: ``windowed=True`` with a ``date``),
account and day: the row count, the sum of the table's ``spend`` column (paid facts) and the sums
of its ``impressions`` / ``clicks`` count columns where it declares them. The gate compares them,
over the whole history, with the monthly mart (``marts.fct_campaign_kpis_monthly``): an exact
whole-table invariant that reads a few thousand rows instead of scanning raw.

- :func:`refresh` recomputes the days of one account's replaced window, in the loader's
  transaction (``quarantine.load_account_tables`` calls it right after ``loader.replace_rows``):
  work proportional to the window (a range scan of the raw primary key, which starts with
  account and day), and the totals can never disagree with committed raw rows.
- :func:`rebuild` recomputes a table (or every one) from scratch: used once when the table is
  created on a warehouse that already holds raw rows, and by tools that write raw in bulk
  without the loader (``make bench``'s synthetic history); tests compare it with what
  :func:`refresh` kept.

Day grain (not month): months are a ``group by`` of it, and it also gives the gate each
account's days, its newest day and its daily volume without reading raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from psycopg import sql

from socialwh import registry

if TYPE_CHECKING:
    import psycopg

TABLE = "raw.control_totals"

DDL = f"""
create table if not exists {TABLE} (
    target_table  text not null,     -- raw.<table>
    account_id    text not null,
    day           date not null,     -- the table's fact day (registry Table.date)
    row_count     bigint not null,
    spend         numeric,           -- sum of the table's spend column (null: it has none)
    impressions   bigint,            -- sum of its impressions column (null: it has none)
    clicks        bigint,            -- sum of its clicks column (null: it has none)
    primary key (target_table, account_id, day)
);
comment on table {TABLE} is 'Per windowed raw table, account and day: row count and spend / impressions / clicks sums, kept in the transaction that replaces the rows (socialwh.warehouse.control_totals).';
"""


@dataclass(frozen=True)
class Spec:
    """What is summed for one raw table."""

    table: str                  # raw.<name>
    date: str
    spend: str | None
    impressions: str | None
    clicks: str | None
    account: str = "account_id"


def specs() -> dict[str, Spec]:
    """Every windowed, dated raw table of the declared platforms."""
    out = {}
    for _, t in registry.tables():
        if not (t.windowed and t.date):
            continue
        counts = set(t.counts)
        out[f"raw.{t.name}"] = Spec(
            f"raw.{t.name}", t.date, t.spend,
            "impressions" if "impressions" in counts else None,
            "clicks" if "clicks" in counts else None,
        )
    return out


def _aggregate(spec: Spec) -> sql.Composed:
    """select target_table, account_id, day, sums ... from the raw table (no where yet)."""
    def total(column: str | None) -> sql.Composable:
        return sql.SQL("sum({})").format(sql.Identifier(column)) if column else sql.SQL("null")

    return sql.SQL(
        "select {name}, {account}, {day}, count(*), {spend}, {impressions}, {clicks} from {table}"
    ).format(
        name=sql.Literal(spec.table), account=sql.Identifier(spec.account), day=sql.Identifier(spec.date),
        spend=total(spec.spend), impressions=total(spec.impressions), clicks=total(spec.clicks),
        table=sql.Identifier(*spec.table.split(".")),
    )


_INSERT = sql.SQL(
    "insert into {} (target_table, account_id, day, row_count, spend, impressions, clicks) "
).format(sql.Identifier(*TABLE.split(".")))


def refresh(conn: psycopg.Connection, table: str, account_id: str, since: date, until: date) -> None:
    """Recompute `table`'s totals of one account for the days since..until (the window a load
    just replaced), in the caller's transaction. A table without a spec (not windowed) is
    ignored."""
    spec = specs().get(table)
    if spec is None or conn.execute("select to_regclass(%s)", [TABLE]).fetchone()[0] is None:
        return  # no table yet: ensure() computes every total when it creates it
    conn.execute(f"delete from {TABLE} where target_table = %s and account_id = %s"  # noqa: S608
                 " and day between %s and %s", [table, account_id, since, until])
    conn.execute(
        _INSERT + _aggregate(spec)
        + sql.SQL(" where {} = %s and {} between %s and %s group by 2, 3").format(
            sql.Identifier(spec.account), sql.Identifier(spec.date)),
        [account_id, since, until],
    )


def rebuild(conn: psycopg.Connection, tables: list[str] | None = None) -> None:
    """Recompute the totals of `tables` (default every spec'd table) from scratch."""
    all_specs = specs()
    for table in tables or sorted(all_specs):
        spec = all_specs[table]
        if conn.execute("select to_regclass(%s)", [table]).fetchone()[0] is None:
            continue
        conn.execute(f"delete from {TABLE} where target_table = %s", [table])  # noqa: S608
        conn.execute(_INSERT + _aggregate(spec) + sql.SQL(" group by 2, 3"))


def ensure(conn: psycopg.Connection) -> None:
    """Create the table when missing; a warehouse that already had raw rows gets its totals
    computed once (in the caller's transaction)."""
    existed = conn.execute("select to_regclass(%s)", [TABLE]).fetchone()[0] is not None
    if not existed:
        conn.execute(DDL)
        rebuild(conn)


def recompute(conn: psycopg.Connection, table: str) -> list[tuple]:
    """The totals of `table` as a from-scratch recompute would give them (sorted rows), for
    comparison with what is stored (tests, diagnostics)."""
    spec = specs()[table]
    return conn.execute(_aggregate(spec) + sql.SQL(" group by 2, 3 order by 2, 3")).fetchall()


def stored(conn: psycopg.Connection, table: str) -> list[tuple]:
    return conn.execute(
        f"select target_table, account_id, day, row_count, spend, impressions, clicks from {TABLE}"  # noqa: S608
        " where target_table = %s order by 2, 3", [table]).fetchall()
