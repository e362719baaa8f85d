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

What changed, for the incremental marts (a night costs what changed): each day's totals also
carry a ``fingerprint`` of its rows' content (the declared columns without the load metadata), and
:func:`refresh` appends to ``raw.day_changes`` the first day of the replaced window whose totals
or fingerprint differ from what was stored (a day that appeared or vanished included). A table
without totals (a platform's dimension: campaigns, ad accounts) is fingerprinted per account
around its replacement (:func:`scope_fingerprint`, :func:`note_change`): a change records the
account with no day. dbt's incremental marts (macros/incremental_window.sql) read the records
newer than their last build and rewrite only those accounts, from those days on; a row with no
platform (``*``: the table was first created, FX rates changed, rows written in bulk outside the
loader) makes every account change.
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
    fingerprint   numeric,           -- sum of hashtextextended(row content) (null: not yet computed)
    primary key (target_table, account_id, day)
);
comment on table {TABLE} is 'Per windowed raw table, account and day: row count and spend / impressions / clicks sums, kept in the transaction that replaces the rows (socialwh.warehouse.control_totals).';
"""

CHANGES = "raw.day_changes"
ALL = "*"  # platform / account_id of a change that concerns every account

CHANGES_DDL = f"""
create table if not exists {CHANGES} (
    platform      text not null,     -- registry key; '*': every platform (FX rates, a bulk write)
    target_table  text not null,     -- raw.<table> that changed
    account_id    text not null,     -- '*': every account
    day           date,              -- first day whose rows changed; null: the account's rows as a whole
    changed_at    timestamptz not null default now()  -- the loading transaction's start
);
create index if not exists day_changes_changed_at on {CHANGES} (changed_at);
comment on table {CHANGES} is 'What a load changed: per raw table and account, the first day whose rows differ from the stored ones (null: a dimension table changed). The incremental marts rebuild only these accounts from these days on (socialwh.warehouse.control_totals).';
"""

#: Load metadata: not part of a row's content (a reload of the same rows changes nothing).
METADATA_COLUMNS = frozenset({"batch_id", "extracted_at", "as_of_date"})


@dataclass(frozen=True)
class Spec:
    """What is summed for one raw table."""

    table: str                  # raw.<name>
    date: str
    spend: str | None
    impressions: str | None
    clicks: str | None
    account: str = "account_id"
    content: tuple[str, ...] = ()   # the columns a row's fingerprint hashes
    platform: str = ALL


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
            content=content_columns(t), platform=_.key,
        )
    return out


def content_columns(t: registry.Table) -> tuple[str, ...]:
    return tuple(c.name for c in t.columns if c.name not in METADATA_COLUMNS)


def _fingerprint(columns: tuple[str, ...]) -> sql.Composable:
    """Order-independent hash of the rows' content (sum of one 64-bit hash per row)."""
    if not columns:
        return sql.SQL("null::numeric")
    return sql.SQL("sum(hashtextextended(row({})::text, 0)::numeric)").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns))


def _aggregate(spec: Spec) -> sql.Composed:
    """select target_table, account_id, day, sums ... from the raw table (no where yet)."""
    def total(column: str | None) -> sql.Composable:
        return sql.SQL("sum({})").format(sql.Identifier(column)) if column else sql.SQL("null")

    return sql.SQL(
        "select {name}, {account}, {day}, count(*), {spend}, {impressions}, {clicks}, {fingerprint} from {table}"
    ).format(
        name=sql.Literal(spec.table), account=sql.Identifier(spec.account), day=sql.Identifier(spec.date),
        spend=total(spec.spend), impressions=total(spec.impressions), clicks=total(spec.clicks),
        fingerprint=_fingerprint(spec.content), table=sql.Identifier(*spec.table.split(".")),
    )


_INSERT = sql.SQL(
    "insert into {} (target_table, account_id, day, row_count, spend, impressions, clicks, fingerprint) "
).format(sql.Identifier(*TABLE.split(".")))


def tracks(table: str) -> bool:
    """True when `table` has day totals (refresh() records its changes by day)."""
    return table in specs()


def refresh(conn: psycopg.Connection, table: str, account_id: str, since: date, until: date) -> date | None:
    """Recompute `table`'s totals of one account for the days since..until (the window a load
    just replaced), in the caller's transaction, and record in raw.day_changes the first of
    those days whose rows differ from before (returned; None when nothing changed). A table
    without a spec (not windowed) is ignored."""
    spec = specs().get(table)
    if spec is None or conn.execute("select to_regclass(%s)", [TABLE]).fetchone()[0] is None:
        return None  # no table yet: ensure() computes every total when it creates it
    new = conn.execute(
        _aggregate(spec) + sql.SQL(" where {} = %s and {} between %s and %s group by 2, 3").format(
            sql.Identifier(spec.account), sql.Identifier(spec.date)),
        [account_id, since, until],
    ).fetchall()
    old = conn.execute(
        f"delete from {TABLE} where target_table = %s and account_id = %s"  # noqa: S608
        " and day between %s and %s"
        " returning target_table, account_id, day, row_count, spend, impressions, clicks, fingerprint",
        [table, account_id, since, until]).fetchall()
    if new:
        with conn.cursor() as cur:
            cur.executemany(_INSERT + sql.SQL("values (%s, %s, %s, %s, %s, %s, %s, %s)"), new)
    before = {row[2]: row[3:] for row in old}
    after = {row[2]: row[3:] for row in new}
    changed = [day for day in before.keys() | after.keys() if before.get(day) != after.get(day)]
    first = min(changed) if changed else None
    if first is not None:
        note_change(conn, spec.platform, table, account_id, first)
    return first


def note_change(conn: psycopg.Connection, platform: str, table: str, account_id: str,
                day: date | None) -> None:
    """Record that `table`'s rows of `account_id` changed from `day` on (None: as a whole)."""
    if conn.execute("select to_regclass(%s)", [CHANGES]).fetchone()[0] is None:
        return
    conn.execute(f"insert into {CHANGES} (platform, target_table, account_id, day)"  # noqa: S608
                 " values (%s, %s, %s, %s)", [platform, table, account_id, day])


def scope_fingerprint(conn: psycopg.Connection, table: str, where: str, params: list) -> tuple | None:
    """(row count, fingerprint) of the rows of a declared raw table that `where` selects: taken
    before and after a replacement of a table without day totals, to know whether it changed."""
    found = registry.find_table(table)
    if found is None:
        return None
    query = sql.SQL("select count(*), {} from {} where ").format(
        _fingerprint(content_columns(found[1])), sql.Identifier(*table.split(".")))
    return tuple(conn.execute(query + sql.SQL(where), params).fetchone())  # noqa: S608


def note_replaced(conn: psycopg.Connection, table: str, account_id: str, before: tuple | None,
                  after: tuple | None) -> None:
    """Record an account-wide change of `table` when its fingerprint moved (scope_fingerprint)."""
    found = registry.find_table(table)
    if found is not None and before != after:
        note_change(conn, found[0].key, table, account_id, None)


def resync(conn: psycopg.Connection, tables: list[str] | None = None) -> dict[tuple[str, str], date]:
    """After raw rows were written without the loader (SQL, a restore, tests): refresh every
    account's days of `tables` (default every spec'd table), so the totals match raw again and
    raw.day_changes says exactly which accounts changed from which day (unlike :func:`rebuild`,
    which marks everything changed). Returns {(table, account): first changed day}."""
    changed = {}
    all_specs = specs()
    for table in tables or sorted(all_specs):
        spec = all_specs[table]
        if conn.execute("select to_regclass(%s)", [table]).fetchone()[0] is None:
            continue
        ranges = conn.execute(sql.SQL(
            "select account_id, min(day), max(day) from ("
            " select {account} as account_id, {day} as day from {table}"
            " union all select account_id, day from {totals} where target_table = %s"
            ") as days group by 1 order by 1").format(
                account=sql.Identifier(spec.account), day=sql.Identifier(spec.date),
                table=sql.Identifier(*table.split(".")), totals=sql.Identifier(*TABLE.split("."))),
            [table]).fetchall()
        for account_id, lo, hi in ranges:
            first = refresh(conn, table, account_id, lo, hi)
            if first is not None:
                changed[(table, account_id)] = first
    return changed


def rebuild(conn: psycopg.Connection, tables: list[str] | None = None) -> None:
    """Recompute the totals of `tables` (default every spec'd table) from scratch."""
    all_specs = specs()
    for table in tables or sorted(all_specs):
        spec = all_specs[table]
        if conn.execute("select to_regclass(%s)", [table]).fetchone()[0] is None:
            continue
        conn.execute(f"delete from {TABLE} where target_table = %s", [table])  # noqa: S608
        conn.execute(_INSERT + _aggregate(spec) + sql.SQL(" group by 2, 3"))
        note_all_changed(conn, table)


def refingerprint(conn: psycopg.Connection, table: str) -> None:
    """Recompute the stored fingerprints of `table` after its rows' representation changed but not
    their content (e.g. warehouse.action_lists.upgrade): records no change, so no mart rebuilds."""
    spec = specs().get(table)
    if spec is None or conn.execute("select to_regclass(%s)", [TABLE]).fetchone()[0] is None:
        return
    conn.execute(sql.SQL(
        "update {totals} as c set fingerprint = n.fingerprint"
        " from (select {account} as account_id, {day} as day, {fingerprint} as fingerprint from {table}"
        " group by 1, 2) as n where c.target_table = %s and c.account_id = n.account_id and c.day = n.day").format(
            totals=sql.Identifier(*TABLE.split(".")), account=sql.Identifier(spec.account),
            day=sql.Identifier(spec.date), fingerprint=_fingerprint(spec.content),
            table=sql.Identifier(*table.split("."))), [table])


def ensure(conn: psycopg.Connection) -> None:
    """Create the table when missing; a warehouse that already had raw rows gets its totals
    computed once (in the caller's transaction)."""
    existed = conn.execute("select to_regclass(%s)", [TABLE]).fetchone()[0] is not None
    if not existed:
        conn.execute(DDL)
        rebuild(conn)
    elif conn.execute("select 1 from information_schema.columns where table_schema = 'raw'"
                      " and table_name = 'control_totals' and column_name = 'fingerprint'").fetchone() is None:
        # a warehouse from before the fingerprints: computed once (later loads compare with them)
        conn.execute(f"alter table {TABLE} add column fingerprint numeric")  # noqa: S608
        rebuild(conn)
    if conn.execute("select to_regclass(%s)", [CHANGES]).fetchone()[0] is None:
        conn.execute(CHANGES_DDL)
        # no history of changes before now: every mart built before this treats everything as changed
        note_all_changed(conn, "created")


def note_all_changed(conn: psycopg.Connection, what: str) -> None:
    """Record a change of every account of every platform (e.g. raw rows written in bulk outside
    the loader): the next incremental run of each mart falls back to its whole reprocess window
    (and a new account's history)."""
    note_change(conn, ALL, what, ALL, None)


def recompute(conn: psycopg.Connection, table: str) -> list[tuple]:
    """The totals of `table` as a from-scratch recompute would give them (sorted rows), for
    comparison with what is stored (tests, diagnostics)."""
    spec = specs()[table]
    return conn.execute(_aggregate(spec) + sql.SQL(" group by 2, 3 order by 2, 3")).fetchall()


def stored(conn: psycopg.Connection, table: str) -> list[tuple]:
    return conn.execute(
        f"select target_table, account_id, day, row_count, spend, impressions, clicks, fingerprint from {TABLE}"  # noqa: S608
        " where target_table = %s order by 2, 3", [table]).fetchall()
