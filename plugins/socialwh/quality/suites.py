"""The marts gate as code: expectation suites, validation definitions and the checkpoint.

`python -m socialwh.quality.suites` writes them into the Great Expectations file data context
(`expectations/`) as reviewable, deterministic files (stable ids, sorted keys): edit this module,
regenerate, review the diff, commit both. `--check` exits 1 when the committed files differ from
what this module generates (tests/unit/test_gx_suites.py fails the same way); the gate runs the
committed files. Tolerances and the campaign naming pattern come from config/warehouse.yml
(`quality:`), read when the files are generated.

Suites are named `<source>.<asset>.<severity>`: `blocking` suites stop publication to `bi`,
`warning` suites are reported only. Every expectation carries a stable check id in
`meta.check` (what the gate names when it fails) and a one-line description.

Run-time suite parameters (passed by `socialwh.quality.gate.run_gate`):
- `min_fresh_date`: the newest fact day must be on or after it.
- `min_fresh_month`: the first day of `min_fresh_date`'s month (monthly marts).
- `min_fresh_fx_date`: two days before `min_fresh_date` (ECB publishes on TARGET business days).

Suites cover every raw table (`raw.<table>.blocking`: grain, required fields, non-negative money
and counts, ISO 4217 codes, dates inside the batch's extraction window; `raw.<table>.warning`:
freshness per source and the newest day's row volume against the trailing 28 days) and every
mart (`marts.<mart>.*`: grain, money, ratios, raw-to-mart totals and days, freshness).

A night's checks cost the night's window, not the history (issue #10): row-level checks of the
incremental marts read the rows from `ops.gate_window`'s first day on, and those of the windowed
raw tables the rows of batches loaded since the last publication (the gate records both before GX
runs: `socialwh.quality.gate.record_window`). Whole-table invariants stay exact and cheap: raw
grain is the primary key Postgres enforces; the raw-to-mart totals of every month compare the
control totals the loader keeps (`raw.control_totals`) with `fct_campaign_kpis_monthly`.

A whole-table window (a full refresh, `socialwh gate --full`) costs one sequential read per check,
not more: the scoped reads are gated on the recorded day (`scoped_rows`), raw-to-mart checks take
raw's per-day spend and days from the control totals, a mart's unique index on the grain stands in
for grouping every key (`grain_rows`), and column rules aggregate only the rows breaking one.

This module imports no Great Expectations at import time (it is imported while DAGs parse);
only `verify()` loads GX, to prove the written files deserialize.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from socialwh import registry
from socialwh.paths import GX_DIR
from socialwh.quality.currencies import ISO_4217

DATASOURCE = "warehouse"
CONNECTION_ENV = "SOCIALWH_GX_CONNECTION_STRING"
CHECKPOINT = "marts_gate"
BATCH_DEFINITION = "whole_table"
SUITES_DIR = "suites"
VALIDATION_DEFINITIONS_DIR = "validation_definitions"
CHECKPOINTS_DIR = "checkpoints"
DATA_DOCS_SITE = "local_site"
DATA_DOCS_DIR = "uncommitted/data_docs/local_site"
# GX's own failure severity per expectation, aligned with the suite's severity in its name.
SEVERITIES = {"blocking": "critical", "warning": "warning"}

# Defaults when config/warehouse.yml does not set them (quality.spend_tolerance,
# quality.campaign_name_pattern).
DEFAULT_SPEND_TOLERANCE = "0.005"
# <year>Q<quarter>_<Audience>_<Country>_<Format>, e.g. "2026Q4_Prospecting_US_Video". Warning only.
DEFAULT_CAMPAIGN_NAME_PATTERN = r"^[0-9]{4}Q[1-4]_[A-Z][A-Za-z]+_[A-Z]{2}_[A-Z][A-Za-z]+$"

@dataclass(frozen=True)
class RawTable:
    """What the gate checks in one raw table; the columns are the table's own (warehouse/sql)."""

    name: str  # table in schema raw
    grain: tuple[str, ...]  # its primary key
    required: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    currency: tuple[str, ...] = ()
    date: str | None = None  # the fact day: freshness, volume and window checks
    windowed: bool = False  # replaced per extraction window recorded in raw.load_batches
    platform: str | None = None
    spend: str | None = None  # the column the marts' spend_local comes from
    positive: tuple[str, ...] = ()
    fresh_parameter: str = "min_fresh_date"


def from_declaration(p: registry.Platform, t: registry.Table) -> RawTable:
    """A declared platform table's checks: the same column rules quarantine applies per record."""
    return RawTable(
        t.name, t.grain, required=t.required, money=t.money, counts=t.counts, currency=t.currency,
        date=t.date, windowed=t.windowed, platform=p.key, spend=t.spend,
    )


# Every raw table the nightly job loads: the declared platforms' (socialwh.platforms) and the
# finance inputs' (warehouse/sql/raw*.sql). A platform's suites follow from its declaration.
FINANCE_TABLES = (
    RawTable("finance_budgets", ("source_file", "line_number"),
             required=("budget_month", "platform", "account_id", "amount", "currency", "plan_version"),
             money=("amount",), currency=("currency",)),
    RawTable("finance_invoices", ("source_file", "line_number"),
             required=("document_id", "document_type", "platform", "account_id", "billing_month",
                       "issue_date", "amount", "currency"),
             currency=("currency",), positive=("amount",)),
    RawTable("finance_orders", ("source_file", "line_number"),
             required=("order_id", "ordered_at", "customer_id", "revenue", "currency", "status"),
             money=("revenue",), currency=("currency",)),
    RawTable("fx_rates", ("rate_date", "base_currency", "currency"),
             required=("rate_date", "base_currency", "currency", "rate"),
             currency=("base_currency", "currency"), positive=("rate",), date="rate_date",
             fresh_parameter="min_fresh_fx_date"),
)
RAW_TABLES = (*(from_declaration(p, t) for p, t in registry.tables()), *FINANCE_TABLES)

# Raw source of each platform's spend, for the raw-vs-mart reconciliation:
# platform -> (raw table, spend column, account column, day column).
RAW_SPEND = {
    t.platform: (f"raw.{t.name}", t.spend, "account_id", t.date) for t in RAW_TABLES if t.spend
}

# A raw table's newest day holding less than half or more than twice its trailing 28-day mean of
# rows is reported (quality.volume_low / quality.volume_high); the sandbox varies within 0.7-1.2.
DEFAULT_VOLUME_LOW = "0.5"
DEFAULT_VOLUME_HIGH = "2.0"

_ID_NAMESPACE = uuid.UUID("6f1c2a5e-0b7d-5c53-9d8e-5f0c7a1e2b90")


def stable_id(*parts: str) -> str:
    """A UUID that only depends on what it names: regenerating never churns ids."""
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Check:
    check: str  # stable id the gate reports, e.g. "not_null:date_day"
    type: str  # GX expectation type, snake_case
    kwargs: dict[str, Any]
    description: str
    # A rules query (see `column_rules`): each offending row is (rule, rows, example_key) and the
    # gate reports one failed check per rule, e.g. "non_negative:spend_local".
    per_rule: bool = False


@dataclass(frozen=True)
class Suite:
    source: str
    asset: str
    severity: str
    checks: tuple[Check, ...]
    # marts only: which configured part of the warehouse the mart belongs to (MART_DOMAIN_NAMES);
    # the gate skips the suite when nothing of it is configured (socialwh.quality.gate.GateScope)
    domain: str | None = None

    @property
    def name(self) -> str:
        return f"{self.source}.{self.asset}.{self.severity}"

    @property
    def asset_name(self) -> str:
        return f"{self.source}.{self.asset}"


@dataclass(frozen=True)
class Settings:
    spend_tolerance: str = DEFAULT_SPEND_TOLERANCE  # a SQL numeric literal
    campaign_name_pattern: str = DEFAULT_CAMPAIGN_NAME_PATTERN
    # Volume anomaly (warning): the newest day's row count against the mean of the 28 days before.
    volume_low: str = DEFAULT_VOLUME_LOW
    volume_high: str = DEFAULT_VOLUME_HIGH


def settings_from_config() -> Settings:
    from socialwh.config import ConfigError, load_config  # noqa: PLC0415

    config = load_config()
    tolerance = str(config.quality.get("spend_tolerance", DEFAULT_SPEND_TOLERANCE))
    try:
        valid = Decimal(tolerance) >= 0
    except InvalidOperation:
        valid = False
    if not valid:
        raise ConfigError(
            f"{config.path}: quality.spend_tolerance must be a non-negative number of currency "
            f"units like 0.005, got {tolerance!r}"
        )
    volume = {}
    for key, default in (("volume_low", DEFAULT_VOLUME_LOW), ("volume_high", DEFAULT_VOLUME_HIGH)):
        value = str(config.quality.get(key, default))
        try:
            volume[key] = format(Decimal(value), "f")
            if Decimal(value) <= 0:
                raise InvalidOperation
        except InvalidOperation:
            raise ConfigError(
                f"{config.path}: quality.{key} must be a positive ratio like {default}, got {value!r}"
            ) from None
    return Settings(
        **volume,
        spend_tolerance=format(Decimal(tolerance), "f"),
        campaign_name_pattern=str(
            config.quality.get("campaign_name_pattern", DEFAULT_CAMPAIGN_NAME_PATTERN)
        ),
    )


# --- check builders -------------------------------------------------------------------------


def rows_present() -> Check:
    # not a count(*): the first row answers it, whatever the table's size
    return Check(
        "rows_present",
        "unexpected_rows_expectation",
        {"unexpected_rows_query": "select 'no rows' as problem\nwhere not exists (select 1 from {batch})"},
        "The mart has at least one row.",
    )


def grain_rows(columns: list[str], table: str | None = None) -> Check:
    """One row per grain as a SQL check (windowed on incremental marts).

    With `table` (the mart): when it has a valid, unique, non-partial index on the grain's
    columns (or on some of them), Postgres guarantees one row per non-null key on every write, so
    only rows with a null key column can still repeat a key: the check reads those (a cheap
    filter, no sort or hash of every key; at 10M rows ~50 s -> a few seconds). Without such an
    index it groups every row, as before."""
    keys = ", ".join(columns)
    where = ""
    if table is not None:
        names = ", ".join(f"'{c}'" for c in columns)
        where = (
            "\nwhere not exists (\n"
            "    select 1\n"
            "    from pg_index as i\n"
            f"    where i.indrelid = to_regclass('{table}') and i.indisunique and i.indisvalid\n"
            "        and i.indpred is null and i.indexprs is null\n"
            "        and array(\n"
            "            select a.attname::text from pg_attribute as a\n"
            "            where a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[])\n"
            f"        ) <@ array[{names}]::text[]\n"
            ")\n"
            "    or " + " or ".join(f"{c} is null" for c in columns)
        )
    query = f"select {keys}, count(*) as row_count\nfrom {{batch}}{where}\ngroup by {keys}\nhaving count(*) > 1"
    return Check("grain_unique", "unexpected_rows_expectation", {"unexpected_rows_query": query},
                 f"One row per ({keys}).")


def name_convention(pattern: str, keys: list[str], day: str = "date_day") -> Check:
    """campaign_name matches the configured pattern (a null name is name_present's business).

    One offending row per campaign (`keys`) and name, with its row count and first and last
    `day`: every row's name is checked, in one pass, and the pattern is matched once per
    campaign name, not once per row. (A row per ad day: at the 10M-row bench, 2.65M offending rows
    for GX to count and then fetch.)"""
    # GX formats the query ({batch}): a regex quantifier's braces are doubled to stay literal
    literal = "'" + pattern.replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"
    group = ", ".join([*keys, "campaign_name"])
    query = (f"select {group}, count(*) as rows, min({day}) as first_day, max({day}) as last_day\n"
             f"from {{batch}}\nwhere campaign_name is not null\ngroup by {group}\n"
             f"having campaign_name !~ {literal}")
    return Check("campaign_name_convention", "unexpected_rows_expectation",
                 {"unexpected_rows_query": query},
                 "Campaign names follow <year>Q<quarter>_<Audience>_<Country>_<Format> "
                 "(one row per campaign and name).")


def grain_unique(columns: list[str]) -> Check:
    if len(columns) == 1:
        return Check(
            "grain_unique",
            "expect_column_values_to_be_unique",
            {"column": columns[0]},
            f"One row per {columns[0]}.",
        )
    return Check(
        "grain_unique",
        "expect_compound_columns_to_be_unique",
        {"column_list": columns},
        f"One row per ({', '.join(columns)}).",
    )


ISO_4217_REGEX = "^(" + "|".join(sorted(ISO_4217)) + ")$"


def not_null(columns: list[str] | tuple[str, ...], prefix: str = "not_null") -> list[tuple[str, str]]:
    return [(f"{prefix}:{c}", f"{c} is null") for c in columns]


def fx_rate_found(columns: list[str]) -> list[tuple[str, str]]:
    """Null here means no FX rate to the reporting currency was found for the day."""
    return not_null(columns, "fx_rate_found")


def non_negative(columns: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return [(f"non_negative:{c}", f"{c} < 0") for c in columns]


def positive(columns: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return [(f"positive:{c}", f"{c} <= 0") for c in columns]


# array[...], not '{...}': GX formats the query, braces would be placeholders
ISO_4217_ARRAY = "array[" + ",".join(f"'{c}'" for c in sorted(ISO_4217)) + "]::text[]"


def currency_code(columns: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """An active ISO 4217 code (socialwh.quality.currencies): 'XYZ' has the right shape, no rate.
    `= any` of a constant array is a hash lookup per row (Postgres 14+); the equivalent regex
    of ~180 alternatives was most of a full scan's time."""
    return [(f"currency_code:{c}", f"not ({c} = any({ISO_4217_ARRAY}))") for c in columns]


def column_rules(rules: list[tuple[str, str]], key: list[str] | tuple[str, ...],
                 check: str = "column_rules") -> Check:
    """Many column rules in ONE scan and one expectation: GX costs ~40 ms per expectation, so
    one per column and rule made the gate several times slower. `rules` are (rule id, SQL
    condition that is true for an offending row). The query returns one row per broken rule;
    the gate reports each as its own failed check with its row count and an example key."""
    ids = [rule for rule, _ in rules]
    duplicates = sorted({r for r in ids if ids.count(r) > 1})
    if duplicates:
        raise ValueError(f"duplicate rules {duplicates}")
    groups: dict[str, list[str]] = {}
    for rule in ids:
        kind, _, column = rule.partition(":")
        groups.setdefault(kind, []).append(column)
    # One pass of filtered aggregates (a count, an example value and key per rule), then one row
    # per rule: ~3x faster than a row per rule and table row (a lateral VALUES with every value
    # cast to text) on a full scan.
    keys = ", ".join(f"t.{k}" for k in key)
    found = ",\n    ".join(
        f"count(*) filter (where {condition}) as n{i},\n"
        + (f"    min({rule.partition(':')[2]}::text) filter (where {condition}) as v{i},\n"
           if rule.partition(':')[2] else f"    null::text as v{i},\n")  # a rule over several columns
        + f"    min(concat_ws('/', {keys})) filter (where {condition}) as k{i}"
        for i, (rule, condition) in enumerate(rules)
    )
    values = ",\n        ".join(f"('{rule}', found.n{i}, found.v{i}, found.k{i})" for i, (rule, _) in enumerate(rules))
    # The aggregates run over the rows that break at least one rule (none, normally): each row's
    # conditions are evaluated once, in one OR, instead of three filtered aggregates per rule per
    # row (at 10M mart rows: ~3.5x faster; same counts and examples).
    broken = "\n    or ".join(f"({condition})" for _, condition in rules)
    return Check(
        check,
        "unexpected_rows_expectation",
        {
            "unexpected_rows_query": (
                f"select checked.rule, checked.rows, checked.example_value, checked.example_key\n"
                f"from (\nselect\n    {found}\nfrom {{batch}} as t\nwhere {broken}\n) as found\n"
                f"cross join lateral (\n    values\n        {values}\n"
                f") as checked (rule, rows, example_value, example_key)\n"
                f"where checked.rows > 0"
            )
        },
        "; ".join(f"{kind}: {', '.join(columns)}" if any(columns) else kind
                  for kind, columns in groups.items()) + ".",
        per_rule=True,
    )


# What each kind of column rule means, for the gate's report of a broken one.
RULE_DESCRIPTIONS = {
    "not_null": "{column} is never null.",
    "required": "{column} is filled (a required field).",
    "fx_rate_found": "{column} is not null: an FX rate to the reporting currency was found for the day.",
    "non_negative": "{column} >= 0.",
    "positive": "{column} > 0.",
    "currency_code": "{column} is an active ISO 4217 currency code.",
    "name_present": "{column} is filled (BI shows ids otherwise).",
    "ratio_range": "{column} is within its range (ctr between 0 and 1, conversion_rate >= 0).",
    # row rules over several columns (no {column}): the ad fact's warnings
    "spend_without_impressions": "Rows with spend but zero impressions.",
    "clicks_within_impressions": "Rows with more clicks than impressions.",
    "reach_within_impressions": "Rows whose reach exceeds impressions.",
    "reporting_amounts_use_fx_rate": "spend_reporting and conversion_value_reporting equal the local "
                                     "amount times fx_rate_to_reporting (to the cent).",
}


def fresh(column: str, parameter: str) -> Check:
    return Check(
        f"fresh:{column}",
        "expect_column_max_to_be_between",
        {"column": column, "min_value": {"$PARAMETER": parameter}},
        f"The newest {column} is on or after the run's {parameter}.",
    )


def parameter_value(parameter: str) -> str:
    """SQL: the value of one of the run's suite parameters (min_fresh_date, ...), which
    gate.record_window writes to GATE_WINDOW (asset 'parameter:<name>') before GX runs."""
    return f"(select check_from from {GATE_WINDOW} where asset = 'parameter:{parameter}')"


def fresh_from_totals(table: RawTable) -> Check:
    """fresh:<date> of a windowed raw table from the newest day of its control totals (kept by
    the loader): the same verdict as the newest row's day, without reading the table."""
    return unexpected_rows(
        f"fresh:{table.date}",
        f"The newest {table.date} is on or after the run's {table.fresh_parameter} (the newest day of "
        "the table's control totals, raw.control_totals).",
        """
        select newest, {fresh} as fresh_from
        from (
            select max(day) as newest from raw.control_totals
            where target_table = 'raw.{name}' and exists (select from {{batch}})
        ) as t
        where newest is null or newest < {fresh}
        """,
        fresh=parameter_value(table.fresh_parameter),
        name=table.name,
    )


def unexpected_rows(check: str, description: str, template: str, **params: str) -> Check:
    """A SQL check: the query returns the offending rows; any row fails it.

    `template` is dedented, then `{name}` placeholders are filled from `params`; `{{batch}}`
    becomes GX's `{batch}`, the validated mart.
    """
    query = textwrap.dedent(template).strip().format(**params)
    return Check(
        check, "unexpected_rows_expectation", {"unexpected_rows_query": query}, description
    )


#: The gate's window (issue #10): before GX runs, `socialwh.quality.gate.record_window` writes here,
#: per incremental mart (WINDOWED_MARTS), the first day whose rows tonight's checks read
#: (check_from: the first day dbt rewrote since the last publication, per ops.mart_changes, and at
#: least the last `reprocess_days` days; '-infinity' for a full gate), and in the row 'raw' since
#: when raw batches count as new (loaded_since: the last publication; null = every row).
GATE_WINDOW = "ops.gate_window"
#: The incremental marts whose row-level checks are windowed: asset -> (date column, grain).
WINDOWED_MARTS = {
    "fct_ad_performance_daily": ("date_day", "day"),
    "fct_campaign_kpis_daily": ("date_day", "day"),
    "fct_campaign_kpis_monthly": ("month_start", "month"),
    "fct_platform_kpis_daily": ("date_day", "month"),  # incremental by whole months
}


#: The windowed marts keyed by account: their window may name accounts rewritten from their own
#: day (GATE_WINDOW_ACCOUNTS) besides the day from which every account's rows are read.
BY_ACCOUNT = frozenset({"fct_ad_performance_daily", "fct_campaign_kpis_daily", "fct_campaign_kpis_monthly"})
#: Per BY_ACCOUNT mart: (platform, account_id) -> the first day of that account's rows the night
#: rewrote (ops.mart_changes), when earlier than the mart's global_from in GATE_WINDOW.
GATE_WINDOW_ACCOUNTS = "ops.gate_window_accounts"


def window_start(asset: str) -> str:
    """SQL: the first day of `asset`'s rows the night's checks read, for every account (all of
    them without a record): the earliest day of its window, a conservative single bound."""
    return (f"coalesce((select check_from from {GATE_WINDOW} where asset = '{asset}'),"
            " '-infinity'::date)")


def global_start(asset: str) -> str:
    """SQL: the day from which every account's rows of `asset` are read ('infinity': only the
    accounts GATE_WINDOW_ACCOUNTS names)."""
    return (f"coalesce((select coalesce(global_from, check_from) from {GATE_WINDOW} where asset = '{asset}'),"
            " '-infinity'::date)")


def account_start(asset: str, platform: str, account: str) -> str:
    """SQL: the first day of one account's rows of `asset` the night's checks read (`platform`,
    `account`: SQL expressions)."""
    return (f"least({global_start(asset)}, coalesce((select w.check_from from {GATE_WINDOW_ACCOUNTS} as w"
            f" where w.asset = '{asset}' and w.platform = {platform} and w.account_id = {account}),"
            " 'infinity'::date))")


def scoped_rows(asset: str, table: str, column: str) -> str:
    """SQL: the rows of `table` in `asset`'s window (`column`: its date column): every account's
    from the global day on, and each account GATE_WINDOW_ACCOUNTS names from its own day, through
    the table's index on (platform, account_id, ...), so a night whose changes touch a few
    accounts reads those accounts' rows, not every account's window."""
    start = window_start(asset) if asset not in BY_ACCOUNT else global_start(asset)
    # A whole-table window (a full refresh, `gate --full`) is read by a sequential scan: the
    # branches are gated on the recorded day (one-time filters, decided when the query starts),
    # so the planner cannot pick the date index for an unknown bound that turns out to be
    # '-infinity' (at 10M rows: an index scan over every row, 2-3x slower than a scan).
    rows = (f"(select * from {table} where {start} = '-infinity'::date"
            f" union all select * from {table} where {start} > '-infinity'::date and {column} >= {start}")
    if asset not in BY_ACCOUNT:
        return rows + ")"
    return (f"{rows}"
            f" union all select t.* from {GATE_WINDOW_ACCOUNTS} as w join {table} as t"
            f" on t.platform = w.platform and t.account_id = w.account_id and t.{column} >= w.check_from"
            f" and t.{column} < {start} where w.asset = '{asset}')")


def windowed(check: Check, asset: str, date_column: str = "date_day") -> Check:
    """A row-level SQL check of an incremental mart, scoped to the rows the night rewrote: from
    the gate window's first day of `asset` on (the mart's index on the column makes the rows cheap
    to find). Older rows were checked on the night that wrote them and have not changed since;
    what must hold for the whole table is checked without a window (the monthly control totals
    against raw; grain: the marts' unique index on it)."""
    query = check.kwargs["unexpected_rows_query"]
    scoped = scoped_rows(asset, "{batch}", date_column)
    return Check(check.check, check.type, {**check.kwargs, "unexpected_rows_query":
                                                  query.replace("{batch}", scoped)},
                 check.description + f" (rows of the night's window of {date_column})", check.per_rule)


def raw_window(table: RawTable) -> str:
    """SQL: the rows of a windowed raw table that batches loaded since the last publication
    (every row when the gate window says so): per account, the span of those batches' windows,
    read through the primary key (account_id, <date>, ...), so the work follows the night's loads,
    not the history. A load replaces whole (account, window) scopes, so every row it wrote lies
    in such a span."""
    name, day = f"raw.{table.name}", table.date
    since = f"(select loaded_since from {GATE_WINDOW} where asset = 'raw')"
    return textwrap.dedent(f"""\
        (
            select t.* from {{batch}} as t where {since} is null
            union all
            select t.*
            from (
                select b.scope, min(b.window_start) as window_start, max(b.window_end) as window_end
                from raw.load_batches as b
                where b.target_table = '{name}' and b.loaded_at > {since}
                group by b.scope
            ) as w
            cross join lateral (
                -- offset 0: never flattened into a join the planner may hash over all of raw
                select * from {name} as r
                where r.account_id = w.scope and r.{day} between w.window_start and w.window_end
                offset 0
            ) as t
        )""")


def raw_windowed(check: Check, table: RawTable) -> Check:
    query = check.kwargs["unexpected_rows_query"]
    return Check(check.check, check.type,
                 {**check.kwargs, "unexpected_rows_query": query.replace("{batch}", raw_window(table))},
                 check.description + " (rows loaded since the last publication)", check.per_rule)


def primary_key(table: RawTable) -> Check:
    """Grain of a raw table: its primary key. Postgres enforces it on every write, so one row per
    grain holds for the whole table without scanning it; the check proves the key is there."""
    columns = ", ".join(f"'{c}'" for c in table.grain)
    return unexpected_rows(
        "grain_unique",
        f"One row per ({', '.join(table.grain)}): raw.{table.name} has that primary key, which "
        "Postgres enforces on every write.",
        """
        select 'raw.{name}' as table_name, 'no primary key on ({keys})' as problem
        from (select 1 from {{batch}} limit 1) as any_row  -- no rows: nothing to hold
        right join (select 1) as one on true
        where not exists (
            select 1
            from pg_constraint as c
            where c.conrelid = to_regclass('raw.{name}') and c.contype = 'p'
                and array(
                    select a.attname::text
                    from unnest(c.conkey) with ordinality as k (attnum, position)
                    join pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.attnum
                    order by k.position
                ) = array[{columns}]::text[]
        )
        """,
        name=table.name,
        keys=", ".join(table.grain),
        columns=columns,
    )


def first_of_month(column: str, keys: list[str]) -> Check:
    return unexpected_rows(
        f"first_of_month:{column}",
        f"{column} is the first day of its month.",
        """
        select {keys}
        from {{batch}}
        where {column} <> date_trunc('month', {column})::date
        """,
        keys=", ".join(keys if column in keys else [*keys, column]),
        column=column,
    )


def _date_in_window(table: RawTable) -> Check:
    return unexpected_rows(
        f"date_in_window:{table.date}",
        f"Every row's {table.date} lies inside the extraction window of the batch that loaded it "
        "(raw.load_batches).",
        """
        select t.account_id, t.{date}, t.batch_id, b.window_start, b.window_end
        from {{batch}} as t
        join raw.load_batches as b
            on b.batch_id = t.batch_id and b.target_table = 'raw.{name}'
        where t.{date} not between b.window_start and b.window_end
        """,
        date=table.date,
        name=table.name,
    )


def _loaded_by_a_batch(table: RawTable) -> Check:
    return unexpected_rows(
        "batch_recorded",
        "Every row belongs to a batch recorded in raw.load_batches (no rows loaded around the loader).",
        """
        select t.batch_id, count(*) as rows
        from {{batch}} as t
        left join raw.load_batches as b
            on b.batch_id = t.batch_id and b.target_table = 'raw.{name}'
        where b.batch_id is null
        group by t.batch_id
        """,
        name=table.name,
    )


def _volume_anomaly(table: RawTable, low: str, high: str) -> Check:
    """From the daily row counts the loader keeps (raw.control_totals), not a scan of raw."""
    return unexpected_rows(
        "volume_anomaly",
        f"The newest {table.date} holds between {low} and {high} times the mean daily row count of "
        "the 28 days before it (checked once 7 of them have data; raw.control_totals).",
        """
        with daily as (
            select day, sum(row_count) as row_count
            from raw.control_totals
            where target_table = 'raw.{name}' and exists (select 1 from {{batch}})
            group by 1
        ),

        newest as (
            select day, row_count from daily order by day desc limit 1
        ),

        previous_days as (
            select avg(daily.row_count) as mean_rows, count(*) as days
            from daily, newest
            where daily.day >= newest.day - 28 and daily.day < newest.day
        )

        select newest.day, newest.row_count, round(previous_days.mean_rows, 1) as trailing_mean_rows
        from newest, previous_days
        where previous_days.days >= 7
            and (newest.row_count < {low} * previous_days.mean_rows
                 or newest.row_count > {high} * previous_days.mean_rows)
        """,
        name=table.name,
        low=low,
        high=high,
    )


def _raw_in_window(platform: str, select: str, totals: str) -> str:
    """SQL: `select` (over alias r, grouped by the caller) from the platform's raw spend table, for
    the days of the ad fact's night window, per account through the raw primary key. A whole-table
    window reads the same per account and day from the control totals the loader keeps with every
    raw write (`totals`, over alias c; raw.control_totals holds one row per account and day with
    rows, with their spend): at 10M rows a scan and hash of all of raw per check was ~40 s."""
    table, _, account, day = RAW_SPEND[platform]
    start = window_start("fct_ad_performance_daily")
    mine = account_start("fct_ad_performance_daily", f"'{platform}'", "a.account_id")
    # a full gate reads the control totals; a night's window per account through the primary key
    return (f"select c.account_id, {totals} from raw.control_totals as c"
            f" where c.target_table = '{table}' and {start} = '-infinity'::date"
            f" union all"
            f" select a.account_id, x.* from (select distinct account_id from raw.control_totals"
            f" where target_table = '{table}' and {start} > '-infinity'::date) as a"
            f" cross join lateral ({select} from {table} as r"
            f" where r.{account} = a.account_id and r.{day} >= {mine} group by 1) as x")


def _days_match_raw(platform: str) -> Check:
    table, _, account, day = RAW_SPEND[platform]
    return unexpected_rows(
        f"days_match_raw:{platform}",
        f"Every {platform} account and day in {table} has rows in the mart, and the mart has no "
        "account-day raw does not have (no day lost or invented between raw and BI), over the "
        "night's window (older days: the monthly totals against raw.control_totals).",
        """
        with mart_days as (
            select distinct account_id, date_day
            from {rows} as m
            where platform = '{platform}'
        ),

        raw_days as (
            {raw}
        )

        select
            '{platform}' as platform,
            coalesce(mart_days.account_id, raw_days.account_id) as account_id,
            coalesce(mart_days.date_day, raw_days.date_day) as date_day,
            case when mart_days.date_day is null then 'missing in mart' else 'not in raw' end as problem
        from mart_days
        full outer join raw_days
            on raw_days.account_id = mart_days.account_id and raw_days.date_day = mart_days.date_day
        where mart_days.date_day is null or raw_days.date_day is null
        """,
        platform=platform,
        rows=scoped_rows("fct_ad_performance_daily", "{batch}", "date_day"),
        raw=_raw_in_window(platform, f"select r.{day} as date_day", "c.day as date_day"),
    )


def _record_rules(table: RawTable) -> Check:
    """The loader quarantines records that break these rules: this proves none got in."""
    return column_rules(
        [
            *not_null(table.required, "required"),
            *non_negative((*table.money, *table.counts)),
            *positive(table.positive),
            *currency_code(table.currency),
        ],
        table.grain,
        check="record_rules",
    )


def raw_suites(settings: Settings) -> list[Suite]:
    """Blocking grain and record rules of every raw table; freshness and volume as warnings."""
    suites = []
    for table in RAW_TABLES:
        if table.windowed:  # the night's loads: rows of older loads were checked on their night
            blocking: list[Check] = [primary_key(table), raw_windowed(_record_rules(table), table),
                                     raw_windowed(_date_in_window(table), table),
                                     raw_windowed(_loaded_by_a_batch(table), table)]
        else:
            blocking = [primary_key(table), _record_rules(table)]
        suites.append(Suite("raw", table.name, "blocking", tuple(blocking)))
        if table.name.endswith(("_account_daily", "_comments", "_competitor_daily")):
            # organic: one row per account-day; the source's freshness is its snapshots'. Comments:
            # a quiet night has none, so their newest day says nothing about the source. Competitors:
            # empty where no rival is configured (or the app lacks the feature).
            continue
        if table.date:
            warning: list[Check] = [fresh_from_totals(table) if table.windowed
                                    else fresh(table.date, table.fresh_parameter)]
            if table.windowed:
                warning.append(_volume_anomaly(table, settings.volume_low, settings.volume_high))
            suites.append(Suite("raw", table.name, "warning", tuple(warning)))
    return suites


# --- the suites -----------------------------------------------------------------------------

AD_GRAIN = ["platform", "account_id", "ad_id", "date_day"]
CAMPAIGN_DAILY_GRAIN = ["platform", "account_id", "campaign_id", "date_day"]
CAMPAIGN_MONTHLY_GRAIN = ["platform", "account_id", "campaign_id", "month_start"]
# Values fct_budget_variance_monthly.sql assigns.
BUDGET_SCOPES = ("account", "campaign")
BUDGET_STATUSES = ("not started", "under", "on track", "over")
BUDGET_GRAIN = ["budget_month", "platform", "account_id", "campaign_id", "budget_scope"]

COUNTS = ["impressions", "clicks", "conversions"]
MONEY_KPI = [
    "spend_local",
    "spend_reporting",
    "conversion_value_local",
    "conversion_value_reporting",
]
# ROAS (platform) in both currencies; dbt_project/macros/paid_media_ratios.sql names them.
ROAS = ["roas_platform_local", "roas_platform_reporting"]
MONEY_RATIOS = [
    "cpc_local",
    "cpc_reporting",
    "cpm_local",
    "cpm_reporting",
    "cpa_local",
    "cpa_reporting",
]


def _spend_matches_raw(platform: str, tolerance: str) -> Check:
    table, spend, _, day = RAW_SPEND[platform]
    return unexpected_rows(
        f"spend_matches_raw:{platform}",
        f"Per {platform} account, sum(spend_local) equals sum({table}.{spend}) within {tolerance}, "
        "over the night's window (older months: the monthly totals against raw.control_totals).",
        """
        with mart_totals as (
            select account_id, sum(spend_local) as spend
            from {rows} as m
            where platform = '{platform}'
            group by account_id
        ),

        raw_days as (
            {raw}
        ),

        raw_totals as (
            select account_id, sum(spend) as spend from raw_days group by account_id
        )

        select
            '{platform}' as platform,
            coalesce(mart_totals.account_id, raw_totals.account_id) as account_id,
            mart_totals.spend as mart_spend,
            raw_totals.spend as raw_spend
        from mart_totals
        full outer join raw_totals on raw_totals.account_id = mart_totals.account_id
        where abs(coalesce(mart_totals.spend, 0) - coalesce(raw_totals.spend, 0)) > {tolerance}
        """,
        platform=platform,
        rows=scoped_rows("fct_ad_performance_daily", "{batch}", "date_day"),
        raw=_raw_in_window(platform, f"select r.{day} as date_day, sum(r.{spend}) as spend",
                            "c.day as date_day, c.spend as spend"),
        tolerance=tolerance,
    )


def _totals_match_control(platform: str, tolerance: str) -> Check:
    """The whole-history invariant, exact and cheap: per account and month, the loader's control
    totals (raw.control_totals, kept with every load) against the monthly mart."""
    table, _, _, _ = RAW_SPEND[platform]
    return unexpected_rows(
        f"totals_match_raw:{platform}",
        f"Per {platform} account and month, over the whole history: spend_local, impressions and "
        f"clicks equal the control totals the loader keeps for {table} (raw.control_totals; money "
        f"within {tolerance}; clicks where the raw table has a clicks column).",
        """
        with mart_totals as (
            select account_id, month_start, sum(spend_local) as spend,
                sum(impressions) as impressions, sum(clicks) as clicks
            from {{batch}}
            where platform = '{platform}'
            group by 1, 2
        ),

        control as (
            select account_id, date_trunc('month', day)::date as month_start, sum(spend) as spend,
                sum(impressions) as impressions, sum(clicks) as clicks,
                bool_and(clicks is not null) as has_clicks
            from raw.control_totals
            where target_table = '{table}'
            group by 1, 2
        )

        select
            '{platform}' as platform,
            coalesce(mart_totals.account_id, control.account_id) as account_id,
            coalesce(mart_totals.month_start, control.month_start) as month_start,
            mart_totals.spend as mart_spend, control.spend as raw_spend,
            mart_totals.impressions as mart_impressions, control.impressions as raw_impressions,
            mart_totals.clicks as mart_clicks, control.clicks as raw_clicks
        from mart_totals
        full outer join control
            on control.account_id = mart_totals.account_id and control.month_start = mart_totals.month_start
        where abs(coalesce(mart_totals.spend, 0) - coalesce(control.spend, 0)) > {tolerance}
            or coalesce(mart_totals.impressions, 0) <> coalesce(control.impressions, 0)
            or (coalesce(control.has_clicks, true)
                and coalesce(mart_totals.clicks, 0) <> coalesce(control.clicks, 0))
        """,
        platform=platform,
        table=table,
        tolerance=tolerance,
    )


def _sums(source: str, keys: list[str], key_exprs: list[str] | None = None) -> str:
    """Select the summed additive measures of `source` per `keys` (each computed by its expr)."""
    selected = ",\n    ".join(
        k if expr == k else f"{expr} as {k}"
        for k, expr in zip(keys, key_exprs or keys, strict=True)
    )
    group = ", ".join(str(i) for i in range(1, len(keys) + 1))
    return (
        f"select\n    {selected},\n    sum(spend_local) as spend_local,\n"
        f"    sum(impressions) as impressions,\n    sum(clicks) as clicks,\n"
        f"    sum(conversions) as conversions\nfrom {source}\ngroup by {group}"
    )


def _totals_match(
    check: str, description: str, keys: list[str], this: str, other: str, tolerance: str
) -> Check:
    """`this` (over the mart) and `other` are `_sums` queries with the same keys."""
    return unexpected_rows(
        check,
        description,
        """
        with this_side as (
        {this}
        ),

        other_side as (
        {other}
        )

        select
            {key_columns},
            this_side.spend_local as spend_local,
            other_side.spend_local as expected_spend_local,
            this_side.impressions as impressions,
            other_side.impressions as expected_impressions,
            this_side.clicks as clicks,
            other_side.clicks as expected_clicks,
            this_side.conversions as conversions,
            other_side.conversions as expected_conversions
        from this_side
        full outer join other_side
            on {join_on}
        where
            abs(coalesce(this_side.spend_local, 0) - coalesce(other_side.spend_local, 0))
            > {tolerance}
            or coalesce(this_side.impressions, 0) <> coalesce(other_side.impressions, 0)
            or coalesce(this_side.clicks, 0) <> coalesce(other_side.clicks, 0)
            or abs(coalesce(this_side.conversions, 0) - coalesce(other_side.conversions, 0))
            > {tolerance}
        """,
        this=textwrap.indent(this, "    "),
        other=textwrap.indent(other, "    "),
        key_columns=",\n    ".join(
            f"coalesce(this_side.{k}, other_side.{k}) as {k}" for k in keys
        ),
        join_on="\n    and ".join(f"this_side.{k} = other_side.{k}" for k in keys),
        tolerance=tolerance,
    )


def _ratio_definitions(keys: list[str]) -> Check:
    """metrics.md: ratios from summed components at the row's grain, null on a zero denominator."""
    definitions = [  # column, definition, tolerance (rounding to 4 decimals / to cents)
        ("ctr", "clicks::numeric / nullif(impressions, 0)", "0.0001"),
        ("conversion_rate", "conversions::numeric / nullif(clicks, 0)", "0.0001"),
        ("roas_platform_local", "conversion_value_local / nullif(spend_local, 0)", "0.0001"),
        (
            "roas_platform_reporting",
            "conversion_value_reporting / nullif(spend_reporting, 0)",
            "0.0001",
        ),
        ("cpc_local", "spend_local / nullif(clicks, 0)", "0.005"),
        ("cpc_reporting", "spend_reporting / nullif(clicks, 0)", "0.005"),
        ("cpm_local", "spend_local * 1000 / nullif(impressions, 0)", "0.005"),
        ("cpm_reporting", "spend_reporting * 1000 / nullif(impressions, 0)", "0.005"),
        ("cpa_local", "spend_local / nullif(conversions, 0)", "0.005"),
        ("cpa_reporting", "spend_reporting / nullif(conversions, 0)", "0.005"),
    ]
    # -1 stands for null on both sides: every ratio is >= 0, so null vs a value always differs.
    return unexpected_rows(
        "ratio_definitions",
        "ctr, conversion_rate, roas_platform, cpc, cpm and cpa equal their metrics.md "
        "definitions from the row's summed components (null when the denominator is 0).",
        """
        select {keys}, {columns}
        from {{batch}}
        where {conditions}
        """,
        keys=", ".join(keys),
        columns=", ".join(col for col, _, _ in definitions),
        conditions="\n    or ".join(
            f"abs(coalesce({col}, -1) - coalesce({expr}, -1)) > {tol}"
            for col, expr, tol in definitions
        ),
    )


PLATFORM_DAILY_GRAIN = ["date_day", "platform", "reporting_currency"]
# The rollup's additive measures: each is the sum of the campaign days' column of the same name.
PLATFORM_DAILY_MEASURES = ["impressions", "clicks", "conversions", "spend_reporting",
                           "conversion_value_reporting"]


def _rollup_matches_campaign_days() -> Check:
    """fct_platform_kpis_daily is a rollup of fct_campaign_kpis_daily: per day, platform and
    reporting currency its measures equal the campaign days' sums, exactly (sums of the same
    numerics), with no day or platform missing or invented. Bounded by the night's window: from
    the earlier of both marts' gate windows (a day either rewrote tonight), so a campaign day
    rewritten without its rollup month, or the reverse, is read too."""
    keys = PLATFORM_DAILY_GRAIN
    start = (f"least({window_start('fct_platform_kpis_daily')},"
             f" {window_start('fct_campaign_kpis_daily')})")
    return unexpected_rows(
        "totals_match:fct_campaign_kpis_daily",
        "Per day, platform and reporting currency, impressions, clicks, conversions, spend_reporting "
        "and conversion_value_reporting equal the sums of marts.fct_campaign_kpis_daily exactly, and "
        "every such day is in the rollup and no other, over the night's window of either mart.",
        """
        with checked as (
            select {start} as first_day
        ),

        rollup_days as (
            select {keys}, {measures}
            from {{batch}}
            where date_day >= (select first_day from checked)
        ),

        campaign_days as (
            select {keys}, {sums}
            from marts.fct_campaign_kpis_daily
            where date_day >= (select first_day from checked)
            group by {keys}
        )

        select
            {key_columns},
            case when rollup_days.date_day is null then 'missing in rollup'
                when campaign_days.date_day is null then 'not in fct_campaign_kpis_daily'
                else 'totals differ' end as problem,
            {compared}
        from rollup_days
        full outer join campaign_days
            on {join_on}
        where rollup_days.date_day is null or campaign_days.date_day is null
            or {differs}
        """,
        start=start,
        keys=", ".join(keys),
        measures=", ".join(PLATFORM_DAILY_MEASURES),
        sums=", ".join(f"sum({m}) as {m}" for m in PLATFORM_DAILY_MEASURES),
        key_columns=",\n    ".join(f"coalesce(rollup_days.{k}, campaign_days.{k}) as {k}" for k in keys),
        compared=",\n    ".join(f"rollup_days.{m} as {m}, campaign_days.{m} as expected_{m}"
                                  for m in PLATFORM_DAILY_MEASURES),
        join_on="\n    and ".join(f"campaign_days.{k} = rollup_days.{k}" for k in keys),
        differs="\n    or ".join(f"rollup_days.{m} is distinct from campaign_days.{m}"
                                 for m in PLATFORM_DAILY_MEASURES),
    )


def build_suites(settings: Settings | None = None) -> list[Suite]:
    """The suites; `settings` default to config/warehouse.yml's."""
    s = settings or settings_from_config()
    tol = s.spend_tolerance

    ad_blocking = Suite(
        "marts",
        "fct_ad_performance_daily",
        "blocking",
        (
            rows_present(),
            windowed(grain_rows(AD_GRAIN, "marts.fct_ad_performance_daily"), "fct_ad_performance_daily"),
            windowed(column_rules(
                [
                    *not_null([
                        "date_day", "platform", "account_id", "campaign_id", "ad_id",
                        "currency_code", "account_timezone", "reporting_currency", "impressions",
                        "clicks", "conversions", "spend_local", "conversion_value_local",
                    ]),
                    *fx_rate_found(
                        ["fx_rate_to_reporting", "spend_reporting", "conversion_value_reporting"]
                    ),
                    *positive(["fx_rate_to_reporting"]),
                    *non_negative(["impressions", "clicks", "reach", "conversions", *MONEY_KPI]),
                    *currency_code(["currency_code", "reporting_currency"]),
                ],
                AD_GRAIN,
            ), "fct_ad_performance_daily"),
            fresh("date_day", "min_fresh_date"),
            *(_spend_matches_raw(platform, tol) for platform in RAW_SPEND),
            *(_days_match_raw(platform) for platform in RAW_SPEND),
        ),
    )

    ad_warning = Suite(
        "marts",
        "fct_ad_performance_daily",
        "warning",
        (
            # the row rules in one pass of the window (each was a scan of its own, twice over: GX
            # counts the offending rows, then fetches them); each broken rule is its own failed check
            windowed(column_rules(
                [
                    ("spend_without_impressions", "spend_local > 0 and impressions = 0"),
                    ("clicks_within_impressions", "clicks > impressions"),
                    ("reach_within_impressions", "reach > impressions"),
                    ("reporting_amounts_use_fx_rate",
                     "abs(spend_reporting - spend_local * fx_rate_to_reporting) > 0.01"
                     " or abs(conversion_value_reporting - conversion_value_local * fx_rate_to_reporting) > 0.01"),
                    *not_null(["account_name", "campaign_name", "ad_name"], "name_present"),
                ],
                AD_GRAIN, check="row_rules"), "fct_ad_performance_daily"),
            windowed(name_convention(s.campaign_name_pattern, ["platform", "account_id", "campaign_id"]),
                     "fct_ad_performance_daily"),
        ),
    )

    def campaign_blocking(asset: str, grain: list[str], period: str, parameter: str,
                          totals: Check) -> Suite:
        checks: list[Check] = [
            rows_present(),
            windowed(grain_rows(grain, f"marts.{asset}"), asset, period),
            windowed(column_rules(
                [
                    *not_null([*grain, "currency_code", "reporting_currency", *COUNTS, *MONEY_KPI]),
                    *non_negative([*COUNTS, *MONEY_KPI, *ROAS, *MONEY_RATIOS]),
                    *currency_code(["currency_code", "reporting_currency"]),
                    ("ratio_range:ctr", "ctr < 0 or ctr > 1"),
                    ("ratio_range:conversion_rate", "conversion_rate < 0"),
                ],
                grain,
            ), asset, period),
            fresh(period, parameter),
            totals,
        ]
        if period == "month_start":
            checks.append(first_of_month("month_start", grain))
        return Suite("marts", asset, "blocking", tuple(checks))

    campaign_daily_blocking = campaign_blocking(
        "fct_campaign_kpis_daily",
        CAMPAIGN_DAILY_GRAIN,
        "date_day",
        "min_fresh_date",
        _totals_match(
            "totals_match:fct_ad_performance_daily",
            "Per platform and account, spend_local, impressions, clicks and conversions equal "
            f"marts.fct_ad_performance_daily (money within {tol}), over the night's window.",
            ["platform", "account_id"],
            _sums(scoped_rows("fct_campaign_kpis_daily", "{batch}", "date_day") + " as d",
                  ["platform", "account_id"]),
            _sums(scoped_rows("fct_campaign_kpis_daily", "marts.fct_ad_performance_daily", "date_day") + " as f",
                  ["platform", "account_id"]),
            tol,
        ),
    )
    campaign_monthly_blocking = campaign_blocking(
        "fct_campaign_kpis_monthly",
        CAMPAIGN_MONTHLY_GRAIN,
        "month_start",
        "min_fresh_month",
        _totals_match(
            "totals_match:fct_campaign_kpis_daily",
            "Per campaign and month, spend_local, impressions, clicks and conversions equal the "
            f"sum of marts.fct_campaign_kpis_daily (money within {tol}), over the night's months.",
            CAMPAIGN_MONTHLY_GRAIN,
            _sums(scoped_rows("fct_campaign_kpis_monthly", "{batch}", "month_start") + " as m",
                  CAMPAIGN_MONTHLY_GRAIN),
            _sums(
                scoped_rows("fct_campaign_kpis_monthly", "marts.fct_campaign_kpis_daily", "date_day") + " as d",
                CAMPAIGN_MONTHLY_GRAIN,
                ["platform", "account_id", "campaign_id", "date_trunc('month', date_day)::date"],
            ),
            tol,
        ),
    )

    # the whole-history raw-to-mart invariant: control totals against the monthly mart
    campaign_monthly_blocking = Suite(
        campaign_monthly_blocking.source, campaign_monthly_blocking.asset, campaign_monthly_blocking.severity,
        (*campaign_monthly_blocking.checks, *(_totals_match_control(platform, tol) for platform in RAW_SPEND)),
    )

    campaign_daily_warning = Suite(
        "marts", "fct_campaign_kpis_daily", "warning",
        (windowed(_ratio_definitions(CAMPAIGN_DAILY_GRAIN), "fct_campaign_kpis_daily"),)
    )
    campaign_monthly_warning = Suite(
        "marts",
        "fct_campaign_kpis_monthly",
        "warning",
        (_ratio_definitions(CAMPAIGN_MONTHLY_GRAIN),),
    )

    platform_daily = "fct_platform_kpis_daily"
    platform_daily_blocking = Suite(
        "marts",
        platform_daily,
        "blocking",
        (
            rows_present(),
            windowed(grain_rows(PLATFORM_DAILY_GRAIN, f"marts.{platform_daily}"), platform_daily),
            windowed(column_rules(
                [
                    *not_null([*PLATFORM_DAILY_GRAIN, *PLATFORM_DAILY_MEASURES]),
                    *non_negative(PLATFORM_DAILY_MEASURES),
                    *currency_code(["reporting_currency"]),
                ],
                PLATFORM_DAILY_GRAIN,
            ), platform_daily),
            fresh("date_day", "min_fresh_date"),
            _rollup_matches_campaign_days(),
        ),
    )

    budget_keys = ", ".join(BUDGET_GRAIN)
    budget_blocking = Suite(
        "marts",
        "fct_budget_variance_monthly",
        "blocking",
        (
            # campaign_id is null for account-scope budgets: GROUP BY treats nulls as equal,
            # expect_compound_columns_to_be_unique would not.
            unexpected_rows(
                "grain_unique",
                f"One row per ({', '.join(BUDGET_GRAIN)}); campaign_id null = account scope.",
                """
                select {keys}, count(*) as row_count
                from {{batch}}
                group by {keys}
                having count(*) > 1
                """,
                keys=budget_keys,
            ),
            column_rules(
                [
                    *not_null([
                        "budget_month", "platform", "account_id", "budget_scope", "plan_version",
                        "budget_currency", "planned_budget_currency", "reporting_currency",
                        "planned", "actual", "variance", "as_of_date", "days_in_month",
                        "days_elapsed", "days_remaining", "actual_to_date", "expected_to_date",
                        "status",
                    ]),
                    *non_negative([
                        "planned_budget_currency", "planned", "actual", "actual_to_date",
                        "expected_to_date", "days_elapsed", "days_remaining",
                        "trailing_7d_avg_daily_spend", "forecast_end_of_month",
                    ]),
                    *currency_code(["budget_currency", "reporting_currency"]),
                ],
                BUDGET_GRAIN,
            ),
            Check(
                "days_in_month_range",
                "expect_column_values_to_be_between",
                {"column": "days_in_month", "min_value": 28, "max_value": 31},
                "days_in_month is between 28 and 31.",
            ),
            unexpected_rows(
                "days_within_month",
                "days_elapsed and days_remaining do not exceed days_in_month.",
                """
                select {keys}, days_in_month, days_elapsed, days_remaining
                from {{batch}}
                where days_elapsed > days_in_month or days_remaining > days_in_month
                """,
                keys=budget_keys,
            ),
            first_of_month("budget_month", BUDGET_GRAIN),
            unexpected_rows(
                "every_approved_budget_line_reported",
                "Every scope and month with an approved budget line in raw.finance_budgets has a "
                "row, with actual spend shown explicitly (0 when nothing was spent).",
                """
                select distinct b.budget_month, b.platform, b.account_id, b.campaign_id
                from raw.finance_budgets as b
                left join {{batch}} as v
                    on v.budget_month = b.budget_month and v.platform = b.platform
                        and v.account_id = b.account_id
                        and v.campaign_id is not distinct from nullif(b.campaign_id, '')
                        and v.actual is not null
                where b.plan_status = 'approved' and v.budget_month is null
                """,
            ),
            Check(
                "allowed_values:budget_scope",
                "expect_column_values_to_be_in_set",
                {"column": "budget_scope", "value_set": list(BUDGET_SCOPES)},
                f"budget_scope is one of {', '.join(BUDGET_SCOPES)}.",
            ),
            unexpected_rows(
                "scope_matches_campaign_id",
                "budget_scope is 'account' exactly when campaign_id is null.",
                """
                select {keys}
                from {{batch}}
                where (budget_scope = 'account') <> (campaign_id is null)
                """,
                keys=budget_keys,
            ),
            Check(
                "allowed_values:status",
                "expect_column_values_to_be_in_set",
                {"column": "status", "value_set": list(BUDGET_STATUSES)},
                f"status is one of {', '.join(BUDGET_STATUSES)}.",
            ),
            unexpected_rows(
                "variance_definition",
                f"variance = actual - planned (within {tol}).",
                """
                select {keys}, planned, actual, variance
                from {{batch}}
                where abs(variance - (actual - planned)) > {tolerance}
                """,
                keys=budget_keys,
                tolerance=tol,
            ),
        ),
    )

    recon_grain = ["billing_month", "platform", "account_id", "invoice_currency"]
    reconciliation_blocking = Suite(
        "marts",
        "fct_spend_reconciliation_monthly",
        "blocking",
        (
            grain_unique(recon_grain),
            column_rules(
                [
                    *not_null([*recon_grain, "reported_spend", "invoiced", "credits", "adjustments",
                               "invoiced_net", "difference", "status"]),
                    *non_negative(["reported_spend", "invoiced", "credits", "adjustments"]),
                    *currency_code(["invoice_currency"]),
                ],
                recon_grain,
            ),
            first_of_month("billing_month", recon_grain),
            Check(
                "allowed_values:status",
                "expect_column_values_to_be_in_set",
                {"column": "status", "value_set": ["matched", "open"]},
                "status is matched or open.",
            ),
            unexpected_rows(
                "net_and_difference_definitions",
                f"invoiced_net = invoiced - credits + adjustments and difference = invoiced_net - "
                f"reported_spend (within {tol}).",
                """
                select {keys}, invoiced, credits, adjustments, invoiced_net, reported_spend, difference
                from {{batch}}
                where abs(invoiced_net - (invoiced - credits + adjustments)) > {tolerance}
                    or abs(difference - (invoiced_net - reported_spend)) > {tolerance}
                """,
                keys=", ".join(recon_grain),
                tolerance=tol,
            ),
            unexpected_rows(
                "invoices_match_raw",
                "Per billing month, platform, account and invoice currency, invoiced, credits and "
                "adjustments equal the sums of raw.finance_invoices' invoices, credit notes and "
                "adjustments exactly, over the whole history (the billing files are small and "
                "replaced whole: no control totals needed); a row without documents shows 0.",
                """
                with documents as (
                    select
                        date_trunc('month', billing_month)::date as billing_month,
                        lower(trim(platform)) as platform,
                        trim(account_id) as account_id,
                        upper(trim(currency)) as invoice_currency,
                        coalesce(sum(amount) filter (where lower(trim(document_type)) = 'invoice'), 0) as invoiced,
                        coalesce(sum(amount) filter (where lower(trim(document_type)) = 'credit_note'), 0) as credits,
                        coalesce(sum(amount) filter (where lower(trim(document_type)) = 'adjustment'), 0) as adjustments
                    from raw.finance_invoices
                    group by 1, 2, 3, 4
                ),

                mart as (
                    select billing_month, platform, account_id, invoice_currency, invoiced, credits, adjustments
                    from {{batch}}
                )

                select
                    coalesce(mart.billing_month, documents.billing_month) as billing_month,
                    coalesce(mart.platform, documents.platform) as platform,
                    coalesce(mart.account_id, documents.account_id) as account_id,
                    coalesce(mart.invoice_currency, documents.invoice_currency) as invoice_currency,
                    mart.invoiced, documents.invoiced as raw_invoiced,
                    mart.credits, documents.credits as raw_credits,
                    mart.adjustments, documents.adjustments as raw_adjustments
                from mart
                full outer join documents
                    on documents.billing_month = mart.billing_month and documents.platform = mart.platform
                        and documents.account_id = mart.account_id
                        and documents.invoice_currency = mart.invoice_currency
                where mart.billing_month is null
                    or coalesce(mart.invoiced, -1) <> coalesce(documents.invoiced, 0)
                    or coalesce(mart.credits, -1) <> coalesce(documents.credits, 0)
                    or coalesce(mart.adjustments, -1) <> coalesce(documents.adjustments, 0)
                """,
            ),
            unexpected_rows(
                "every_invoiced_account_reconciled",
                "Every platform account and month with an invoice, credit note or adjustment in "
                "raw.finance_invoices has a reconciliation row.",
                """
                select distinct i.platform, i.account_id, i.billing_month
                from raw.finance_invoices as i
                left join {{batch}} as r
                    on r.platform = i.platform and r.account_id = i.account_id
                        and r.billing_month = i.billing_month
                where r.billing_month is null
                """,
            ),
        ),
    )

    roi_grain = ["month_start", "platform", "account_id", "campaign_id"]
    roi_keys = ", ".join(roi_grain)
    roi_money = ["spend_reporting", "platform_attributed_conversion_value_reporting",
                 "first_party_revenue_reporting"]
    roi_blocking = Suite(
        "marts",
        "fct_roi_monthly",
        "blocking",
        (
            unexpected_rows(
                "grain_unique",
                f"One row per ({roi_keys}); account_id and campaign_id are null for revenue credited "
                "to a platform whose campaign is unknown.",
                """
                select {keys}, count(*) as row_count
                from {{batch}}
                group by {keys}
                having count(*) > 1
                """,
                keys=roi_keys,
            ),
            column_rules(
                [
                    *not_null(["month_start", "platform", "reporting_currency", *roi_money,
                               "first_party_orders", "new_customers"]),
                    *non_negative([*roi_money, "platform_attributed_conversions",
                                   "first_party_orders", "new_customers", "roas_platform",
                                   "roas_first_party", "cac"]),
                    *currency_code(["reporting_currency"]),
                ],
                roi_grain,
            ),
            first_of_month("month_start", roi_grain),
            unexpected_rows(
                "spend_matches_campaign_kpis",
                f"Per month, platform and account, spend_reporting equals "
                f"marts.fct_campaign_kpis_monthly (within {tol}).",
                """
                with roi as (
                    select month_start, platform, account_id, sum(spend_reporting) as spend
                    from {{batch}}
                    where account_id is not null
                    group by 1, 2, 3
                ),

                kpis as (
                    select month_start, platform, account_id, sum(spend_reporting) as spend
                    from marts.fct_campaign_kpis_monthly
                    group by 1, 2, 3
                )

                select
                    coalesce(roi.month_start, kpis.month_start) as month_start,
                    coalesce(roi.platform, kpis.platform) as platform,
                    coalesce(roi.account_id, kpis.account_id) as account_id,
                    roi.spend as roi_spend,
                    kpis.spend as kpi_spend
                from roi
                full outer join kpis
                    on roi.month_start = kpis.month_start and roi.platform = kpis.platform
                        and roi.account_id = kpis.account_id
                where abs(coalesce(roi.spend, 0) - coalesce(kpis.spend, 0)) > {tolerance}
                """,
                tolerance=tol,
            ),
        ),
    )
    roi_totals_blocking = Suite(
        "marts",
        "fct_roi_monthly_totals",
        "blocking",
        (
            rows_present(),
            column_rules(
                [
                    *not_null(["month_start", "scope", "platform", "first_party_revenue_reporting"]),
                    *non_negative(["spend_reporting", "first_party_revenue_reporting",
                                   "unattributed_revenue_reporting",
                                   "total_first_party_revenue_reporting", "first_party_orders"]),
                ],
                ["month_start", "scope", "platform"],
            ),
            unexpected_rows(
                "revenue_attributed_once",
                "Per month, the all-platforms first-party revenue equals the sum of the platform "
                f"rows (each order is attributed once, never double counted; within {tol}).",
                """
                with by_scope as (
                    select
                        month_start,
                        sum(first_party_revenue_reporting) filter (where scope = 'platform')
                            as platform_rows,
                        sum(first_party_revenue_reporting) filter (where scope = 'all_platforms')
                            as all_platforms
                    from {{batch}}
                    group by month_start
                )

                select month_start, platform_rows, all_platforms
                from by_scope
                where abs(coalesce(platform_rows, 0) - coalesce(all_platforms, 0)) > {tolerance}
                """,
                tolerance=tol,
            ),
            unexpected_rows(
                "total_revenue_definition",
                "On the all-platforms row, total first-party revenue = attributed + unattributed "
                f"(within {tol}).",
                """
                select month_start, first_party_revenue_reporting, unattributed_revenue_reporting,
                    total_first_party_revenue_reporting
                from {{batch}}
                where scope = 'all_platforms'
                    and (total_first_party_revenue_reporting is null
                         or abs(total_first_party_revenue_reporting - first_party_revenue_reporting
                                - coalesce(unattributed_revenue_reporting, 0)) > {tolerance})
                """,
                tolerance=tol,
            ),
            unexpected_rows(
                "revenue_matches_roi_mart",
                "Per month and platform, first-party revenue equals the sum of "
                f"marts.fct_roi_monthly (within {tol}).",
                """
                with roi as (
                    select month_start, platform, sum(first_party_revenue_reporting) as revenue
                    from marts.fct_roi_monthly
                    group by 1, 2
                )

                select t.month_start, t.platform, t.first_party_revenue_reporting, roi.revenue
                from {{batch}} as t
                left join roi on roi.month_start = t.month_start and roi.platform = t.platform
                where t.scope = 'platform'
                    and abs(t.first_party_revenue_reporting - coalesce(roi.revenue, 0)) > {tolerance}
                """,
                tolerance=tol,
            ),
        ),
    )

    post_grain = ["platform", "account_id", "post_id", "date_day"]
    organic_post_blocking = Suite(
        "marts",
        "fct_post_performance_daily",
        "blocking",
        (
            rows_present(),
            grain_unique(post_grain),
            column_rules(
                [
                    *not_null([*post_grain, "published_at", "content_type", "account_timezone",
                               "days_covered"]),
                    *non_negative(["views_to_date", "reach_to_date", "engagements_to_date",
                                   "engagement_rate", "days_covered"]),
                ],
                post_grain,
            ),
            fresh("date_day", "min_fresh_date"),
            unexpected_rows(
                "post_totals_match_snapshots",
                "Per post, the daily values add up to the newest lifetime snapshot in raw (views, "
                "likes, comments, shares): differencing loses and invents nothing.",
                """
                with mart as (
                    select platform, account_id, post_id, sum(views) as views, sum(likes) as likes,
                        sum(comments) as comments, sum(shares) as shares
                    from {{batch}}
                    group by 1, 2, 3
                ),

                newest as (
                    select distinct on (platform, account_id, post_id)
                        platform, account_id, post_id, views, likes, comments, shares
                    from staging.stg_organic__post_snapshots
                    order by platform, account_id, post_id, snapshot_date desc
                )

                select newest.platform, newest.account_id, newest.post_id,
                    mart.views as mart_views, newest.views as snapshot_views,
                    mart.likes as mart_likes, newest.likes as snapshot_likes
                from newest
                left join mart
                    on mart.platform = newest.platform and mart.account_id = newest.account_id
                        and mart.post_id = newest.post_id
                where mart.post_id is null
                    or mart.views is distinct from newest.views
                    or mart.likes is distinct from newest.likes
                    or mart.comments is distinct from newest.comments
                    or mart.shares is distinct from newest.shares
                """,
            ),
        ),
    )
    organic_post_warning = Suite(
        "marts",
        "fct_post_performance_daily",
        "warning",
        (
            unexpected_rows(
                "negative_daily_difference",
                "No post counter went down between two nights (a platform restatement: the value "
                "is kept and listed in rpt_organic_negative_deltas).",
                """
                select {keys}, negative_metrics
                from {{batch}}
                where has_negative_delta
                """,
                keys=", ".join(post_grain),
            ),
        ),
    )
    audience_grain = ["platform", "account_id", "date_day"]
    organic_audience_blocking = Suite(
        "marts",
        "fct_account_audience_daily",
        "blocking",
        (
            rows_present(),
            grain_unique(audience_grain),
            column_rules(
                [
                    *not_null([*audience_grain, "account_timezone"]),
                    *non_negative(["followers", "followers_gained", "followers_lost",
                                   "followers_at_start", "views", "reach", "engagements"]),
                ],
                audience_grain,
            ),
            fresh("date_day", "min_fresh_date"),
        ),
    )
    kpi_grain = ["platform", "account_id", "period_type", "period_start"]
    organic_kpis_blocking = Suite(
        "marts",
        "fct_organic_kpis_period",
        "blocking",
        (
            rows_present(),
            grain_unique(kpi_grain),
            column_rules(
                [
                    *not_null([*kpi_grain, "period_end", "posts_published", "views", "engagements"]),
                    *non_negative(["posts_published", "active_posts", "followers_at_start",
                                   "followers_at_end", "best_post_engagements",
                                   "worst_post_engagements"]),
                ],
                kpi_grain,
            ),
            Check(
                "allowed_values:period_type",
                "expect_column_values_to_be_in_set",
                {"column": "period_type", "value_set": ["week", "month"]},
                "period_type is week or month.",
            ),
            unexpected_rows(
                "best_not_below_worst",
                "The best post has at least the worst post's engagements.",
                """
                select {keys}, best_post_engagements, worst_post_engagements
                from {{batch}}
                where best_post_engagements < worst_post_engagements
                """,
                keys=", ".join(kpi_grain),
            ),
        ),
    )

    # Community (issue #14). No rows_present / freshness: a quiet account has days without comments.
    community_grain = ["platform", "account_id", "date_day"]
    community_daily_blocking = Suite(
        "marts",
        "fct_community_daily",
        "blocking",
        (
            grain_unique(community_grain),
            column_rules(
                [
                    *not_null([*community_grain, "comments_received", "distinct_commenters",
                               "brand_replies", "comments_answered", "unanswered_overdue"]),
                    *non_negative(["comments_received", "distinct_commenters", "brand_replies",
                                   "comments_answered", "unanswered_overdue",
                                   "median_first_response_minutes", "p90_first_response_minutes",
                                   "median_first_response_business_minutes",
                                   "p90_first_response_business_minutes"]),
                ],
                community_grain,
            ),
            unexpected_rows(
                "community_counts_consistent",
                "Per day: answered <= received, distinct commenters <= received, response rate in "
                "0-1, the median first response not above the p90, unanswered overdue <= unanswered, "
                "scored <= received, negative <= scored, negative share in 0-1, mean score in -1..1.",
                """
                select {keys}, comments_received, comments_answered, distinct_commenters, response_rate
                from {{batch}}
                where comments_answered > comments_received
                    or distinct_commenters > comments_received
                    or response_rate < 0 or response_rate > 1
                    or median_first_response_minutes > p90_first_response_minutes
                    or unanswered_overdue > comments_received - comments_answered
                    or comments_scored > comments_received
                    or negative_comments > comments_scored
                    or negative_share < 0 or negative_share > 1
                    or mean_sentiment_score < -1 or mean_sentiment_score > 1
                """,
                keys=", ".join(community_grain),
            ),
            unexpected_rows(
                "comments_match_raw",
                "Per platform and account, the mart's comments received and brand replies add up to "
                "the comments in raw (staging): no comment lost or invented between raw and BI.",
                """
                with mart as (
                    select platform, account_id, sum(comments_received) as received,
                        sum(brand_replies) as brand
                    from {{batch}}
                    group by 1, 2
                ),

                source as (
                    select platform, account_id, count(*) filter (where not is_brand) as received,
                        count(*) filter (where is_brand) as brand
                    from staging.stg_community__comments
                    group by 1, 2
                )

                select coalesce(source.platform, mart.platform) as platform,
                    coalesce(source.account_id, mart.account_id) as account_id,
                    mart.received as mart_received, source.received as raw_received,
                    mart.brand as mart_brand, source.brand as raw_brand
                from source
                full outer join mart
                    on mart.platform = source.platform and mart.account_id = source.account_id
                where mart.received is distinct from source.received
                    or mart.brand is distinct from source.brand
                """,
            ),
        ),
    )
    conversation_grain = ["platform", "account_id", "post_id"]
    post_conversation_blocking = Suite(
        "marts",
        "fct_post_conversation",
        "blocking",
        (
            grain_unique(conversation_grain),
            column_rules(
                [
                    *not_null([*conversation_grain, "comments", "replies", "brand_replies",
                               "distinct_commenters", "comments_answered"]),
                    *non_negative(["comments", "replies", "brand_replies", "distinct_commenters",
                                   "comments_answered", "first_response_minutes",
                                   "first_response_business_minutes", "median_first_response_minutes"]),
                ],
                conversation_grain,
            ),
            unexpected_rows(
                "conversation_counts_consistent",
                "Per post: answered <= customer comments + replies, response rate in 0-1, the "
                "sentiment mix adds up to the scored comments, mean score in -1..1.",
                """
                select {keys}, comments, replies, comments_answered, response_rate
                from {{batch}}
                where comments_answered > comments + replies
                    or response_rate < 0 or response_rate > 1
                    or comments_scored > comments + replies
                    or negative_comments + neutral_comments + positive_comments <> comments_scored
                    or sentiment_score < -1 or sentiment_score > 1
                """,
                keys=", ".join(conversation_grain),
            ),
        ),
    )

    # Competitor benchmarks (issue #14). No rows_present / freshness: a deployment may configure no rivals.
    benchmark_grain = ["platform", "account_id", "is_own", "handle", "date_day"]
    competitor_benchmark_blocking = Suite(
        "marts",
        "fct_competitor_benchmark_daily",
        "blocking",
        (
            grain_unique(benchmark_grain),
            column_rules(
                [
                    *not_null(["platform", "account_id", "is_own", "handle", "date_day", "set_size"]),
                    *non_negative(["followers", "posts_total", "posts_28d", "posts_per_week",
                                   "engagements_28d", "engagement_per_post", "set_size"]),
                ],
                benchmark_grain,
            ),
            unexpected_rows(
                "benchmark_shares_add_up",
                "Per platform, owned account and night: exactly one own row, and each share of voice "
                "is 0-1 and adds up to 1 over the set where it is reported.",
                """
                select platform, account_id, date_day,
                    count(*) filter (where is_own) as own_rows,
                    sum(share_of_followers) as followers_share,
                    sum(share_of_posts) as posts_share,
                    sum(share_of_engagements) as engagements_share
                from {{batch}}
                group by platform, account_id, date_day
                having count(*) filter (where is_own) <> 1
                    or abs(coalesce(sum(share_of_followers), 1) - 1) > 0.0001
                    or abs(coalesce(sum(share_of_posts), 1) - 1) > 0.0001
                    or abs(coalesce(sum(share_of_engagements), 1) - 1) > 0.0001
                    or min(least(share_of_followers, share_of_posts, share_of_engagements)) < 0
                    or max(greatest(share_of_followers, share_of_posts, share_of_engagements)) > 1
                """,
            ),
            unexpected_rows(
                "rivals_match_raw",
                "Every rival row of raw (staging) is in the mart with its followers, and the mart "
                "has no rival raw does not have.",
                """
                with mart as (
                    select platform, account_id, handle, date_day, followers
                    from {{batch}}
                    where not is_own
                ),

                source as (
                    select platform, account_id, handle, date_day, followers
                    from staging.stg_organic__competitor_daily
                )

                select coalesce(source.platform, mart.platform) as platform,
                    coalesce(source.handle, mart.handle) as handle,
                    coalesce(source.date_day, mart.date_day) as date_day,
                    mart.followers as mart_followers, source.followers as raw_followers
                from source
                full outer join mart
                    on mart.platform = source.platform and mart.account_id = source.account_id
                    and mart.handle = source.handle and mart.date_day = source.date_day
                where mart.handle is null or source.handle is null
                    or mart.followers is distinct from source.followers
                """,
            ),
        ),
    )
    alert_grain = ["platform", "account_id", "alert_date"]
    community_alerts_blocking = Suite(
        "marts",
        "rpt_community_alerts",
        "blocking",
        (
            grain_unique(alert_grain),
            column_rules(
                [
                    *not_null([*alert_grain, "metrics", "volume_spike", "negative_spike", "comments",
                               "baseline_days", "z_threshold"]),
                    *non_negative(["comments", "negative_comments", "comments_scored", "baseline_days",
                                   "baseline_median_comments", "baseline_mad_comments"]),
                ],
                alert_grain,
            ),
            unexpected_rows(
                "alert_is_a_spike",
                "Every alert row flags at least one metric, and a flagged metric's robust z-score is "
                "above the threshold; negative share in 0-1.",
                """
                select {keys}, metrics, volume_z, negative_share_z, z_threshold
                from {{batch}}
                where not (volume_spike or negative_spike)
                    or (volume_spike and not volume_z > z_threshold)
                    or (negative_spike and not negative_share_z > z_threshold)
                    or negative_share < 0 or negative_share > 1
                """,
                keys=", ".join(alert_grain),
            ),
        ),
    )

    # Every mart suite, by the configured part of the warehouse it checks (MART_DOMAIN_NAMES):
    # a new mart's suite goes here once, the gate's scope follows (mart_domains()).
    by_domain = {
        "paid": [ad_blocking, ad_warning, campaign_daily_blocking, campaign_daily_warning,
                 campaign_monthly_blocking, campaign_monthly_warning, platform_daily_blocking,
                 roi_blocking, roi_totals_blocking],
        "budgets": [budget_blocking],
        "invoices": [reconciliation_blocking],
        "organic": [organic_post_blocking, organic_post_warning, organic_audience_blocking,
                    organic_kpis_blocking, community_daily_blocking, post_conversation_blocking,
                    competitor_benchmark_blocking, community_alerts_blocking],
    }
    suites = [
        *raw_suites(s),
        *(replace(suite, domain=domain) for domain, marts in by_domain.items() for suite in marts),
    ]
    for suite in suites:
        if (suite.source == "marts") != (suite.domain in MART_DOMAIN_NAMES):
            raise ValueError(f"suite {suite.name}: a mart's suite needs one of the domains "
                             f"{sorted(MART_DOMAIN_NAMES)}, a raw table's none (got {suite.domain!r})")
        for c in suite.checks:
            query = c.kwargs.get("unexpected_rows_query", "")
            if re.search(r"\{batch\}\s+as\s+\w", query) and not re.search(r"\bjoin\b", query):
                raise ValueError(
                    f"suite {suite.name}, {c.check}: GX renders {{batch}} as '(...) AS subselect' "
                    "when the query has no JOIN, so '{batch} as <alias>' needs a join")
        ids = [c.check for c in suite.checks]
        duplicates = {c for c in ids if ids.count(c) > 1}
        if duplicates:
            raise ValueError(f"suite {suite.name}: duplicate check ids {sorted(duplicates)}")
        if suite.severity not in SEVERITIES:
            raise ValueError(f"suite {suite.name}: severity must be one of {sorted(SEVERITIES)}")
    return suites


#: The configured parts of the warehouse a mart can belong to: paid / organic platforms enabled,
#: budget / invoice files present (socialwh.quality.gate.GateScope decides which are, per run).
MART_DOMAIN_NAMES = frozenset({"paid", "organic", "budgets", "invoices"})


@cache
def mart_domains() -> dict[str, str]:
    """Each mart with suites -> its domain, as build_suites declares it (the settings do not
    change which suites exist, so the defaults do; no config is read)."""
    return {suite.asset: suite.domain for suite in build_suites(Settings())
            if suite.source == "marts" and suite.domain}


# --- rendering to files ---------------------------------------------------------------------

YML_HEADER = f"""\
# The Great Expectations file data context of the marts gate (GX 1.x).
# GENERATED by `python -m socialwh.quality.suites` from plugins/socialwh/quality/suites.py:
# edit that module and regenerate; do not edit this file by hand.
#
# The warehouse connection string is never written here: GX substitutes
# ${{{CONNECTION_ENV}}} from the environment (socialwh.quality.gate.run_gate
# passes it for its run only).
# uncommitted/ (validation results, Data Docs) is git-ignored.
"""


def suite_path(context_dir: Path, suite_name: str) -> Path:
    """Where GX's tuple store keeps a suite: one folder level per dot in its name."""
    *folders, leaf = suite_name.split(".")
    return context_dir.joinpath(SUITES_DIR, *folders, f"{leaf}.json")


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _suite_json(suite: Suite) -> dict:
    return {
        "expectations": [
            {
                "description": c.description,
                "id": stable_id("expectation", suite.name, c.check),
                "kwargs": c.kwargs,
                "meta": {"check": c.check, **({"per_rule": True} if c.per_rule else {})},
                "severity": SEVERITIES[suite.severity],
                "type": c.type,
            }
            for c in suite.checks
        ],
        "id": stable_id("suite", suite.name),
        "meta": {"generated_by": "socialwh.quality.suites"},
        "name": suite.name,
        "notes": None,
    }


def _validation_definition_json(suite: Suite) -> dict:
    return {
        "data": {
            "asset": {"id": stable_id("asset", suite.asset_name), "name": suite.asset_name},
            "batch_definition": {
                "id": stable_id("batch_definition", suite.asset_name, BATCH_DEFINITION),
                "name": BATCH_DEFINITION,
            },
            "datasource": {"id": stable_id("datasource", DATASOURCE), "name": DATASOURCE},
        },
        "id": stable_id("validation_definition", suite.name),
        "name": suite.name,
        "suite": {"id": stable_id("suite", suite.name), "name": suite.name},
    }


def _checkpoint_json(suites: list[Suite]) -> dict:
    return {
        # No update_data_docs action: GX 1.24 rebuilds the whole index once PER SUITE with it
        # (26 index builds reading every stored result, ~45 s). run_gate renders this run's
        # results and the index once instead (socialwh.quality.gate.build_docs).
        "actions": [],
        "id": stable_id("checkpoint", CHECKPOINT),
        "name": CHECKPOINT,
        # COMPLETE: failed SQL checks return their offending rows (GX caps each list at 200).
        "result_format": {"result_format": "COMPLETE", "partial_unexpected_count": 20},
        "validation_definitions": [
            {"id": stable_id("validation_definition", s.name), "name": s.name} for s in suites
        ],
    }


def _context_yml(suites: list[Suite]) -> str:
    assets = sorted({(s.source, s.asset) for s in suites})
    lines = [
        YML_HEADER,
        "config_version: 4.0",
        f"data_context_id: {stable_id('data_context')}",
        "analytics_enabled: false",
        "progress_bars:",
        "  globally: false",
        "",
        "stores:",
        "  expectations_store:",
        "    class_name: ExpectationsStore",
        "    store_backend:",
        "      class_name: TupleFilesystemStoreBackend",
        f"      base_directory: {SUITES_DIR}/",
        "      suppress_store_backend_id: true",
        "  validation_results_store:",
        "    class_name: ValidationResultsStore",
        "    store_backend:",
        "      class_name: TupleFilesystemStoreBackend",
        "      base_directory: uncommitted/validations/",
        "  checkpoint_store:",
        "    class_name: CheckpointStore",
        "    store_backend:",
        "      class_name: TupleFilesystemStoreBackend",
        f"      base_directory: {CHECKPOINTS_DIR}/",
        "      suppress_store_backend_id: true",
        "  validation_definition_store:",
        "    class_name: ValidationDefinitionStore",
        "    store_backend:",
        "      class_name: TupleFilesystemStoreBackend",
        f"      base_directory: {VALIDATION_DEFINITIONS_DIR}/",
        "      suppress_store_backend_id: true",
        "expectations_store_name: expectations_store",
        "validation_results_store_name: validation_results_store",
        "checkpoint_store_name: checkpoint_store",
        "",
        "data_docs_sites:",
        f"  {DATA_DOCS_SITE}:",
        "    class_name: SiteBuilder",
        "    show_how_to_buttons: false",
        "    store_backend:",
        "      class_name: TupleFilesystemStoreBackend",
        f"      base_directory: {DATA_DOCS_DIR}/",
        "    site_index_builder:",
        "      class_name: DefaultSiteIndexBuilder",
        "",
        "fluent_datasources:",
        f"  {DATASOURCE}:",
        "    type: postgres",
        f"    id: {stable_id('datasource', DATASOURCE)}",
        f"    connection_string: ${{{CONNECTION_ENV}}}",
        "    assets:",
    ]
    for source, asset in assets:
        name = f"{source}.{asset}"
        lines += [
            f"      {name}:",
            "        type: table",
            f"        id: {stable_id('asset', name)}",
            f"        schema_name: {source}",
            f"        table_name: {asset}",
            "        batch_metadata: {}",
            "        batch_definitions:",
            f"          {BATCH_DEFINITION}:",
            f"            id: {stable_id('batch_definition', name, BATCH_DEFINITION)}",
            "            partitioner:",
        ]
    return "\n".join(lines) + "\n"


def render(settings: Settings | None = None) -> dict[str, str]:
    """Every generated file: path relative to the context root -> content."""
    suites = build_suites(settings)
    files = {
        "great_expectations.yml": _context_yml(suites),
        ".gitignore": "uncommitted/\n",
        f"{CHECKPOINTS_DIR}/{CHECKPOINT}.json": _dump(_checkpoint_json(suites)),
    }
    for suite in suites:
        files[suite_path(Path(), suite.name).as_posix()] = _dump(_suite_json(suite))
        files[f"{VALIDATION_DEFINITIONS_DIR}/{suite.name}.json"] = _dump(
            _validation_definition_json(suite)
        )
    return files


def _owned_files(context_dir: Path) -> set[str]:
    """Generated files present on disk, including stale ones a removed suite left behind."""
    found = {
        p.relative_to(context_dir).as_posix()
        for folder in (SUITES_DIR, VALIDATION_DEFINITIONS_DIR, CHECKPOINTS_DIR)
        for p in (context_dir / folder).rglob("*.json")
    }
    for name in ("great_expectations.yml", ".gitignore"):
        if (context_dir / name).exists():
            found.add(name)
    return found


def diff(context_dir: Path, settings: Settings | None = None) -> list[str]:
    """Paths (relative to the context root) that differ from what this module generates."""
    files = render(settings)
    changed = [
        path
        for path, content in files.items()
        if not (context_dir / path).is_file() or (context_dir / path).read_text() != content
    ]
    stale = sorted(_owned_files(context_dir) - set(files))
    return sorted(changed) + stale


def write(context_dir: Path = GX_DIR, settings: Settings | None = None) -> list[str]:
    """Write the generated files, remove stale ones; returns the paths that changed."""
    files = render(settings)
    changed = diff(context_dir, settings)
    for rel in changed:
        path = context_dir / rel
        if rel in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel])
        else:
            path.unlink()
    for folder in (SUITES_DIR,):  # drop folders emptied by a removed suite
        for d in sorted((context_dir / folder).rglob("*"), reverse=True):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
    return changed


def verify(context_dir: Path = GX_DIR, settings: Settings | None = None) -> None:
    """Load the written context with GX and check every suite and expectation deserializes.

    GX drops an expectation it cannot build (unknown type) with only a log line, so a count
    mismatch here is an error. Needs no database.
    """
    import great_expectations as gx  # noqa: PLC0415

    context = gx.get_context(mode="file", context_root_dir=str(context_dir))
    checkpoint = context.checkpoints.get(CHECKPOINT)
    expected = {s.name: len(s.checks) for s in build_suites(settings)}
    loaded = {vd.suite.name: len(vd.suite.expectations) for vd in checkpoint.validation_definitions}
    if loaded != expected:
        raise RuntimeError(
            f"{context_dir}: GX loaded {loaded}, generated {expected}: regenerate with "
            "`python -m socialwh.quality.suites` and read the GX log for the dropped expectation"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m socialwh.quality.suites", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--context-dir", type=Path, default=GX_DIR)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the files differ from the generated ones"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip loading the result with GX (slow import)"
    )
    args = parser.parse_args(argv)
    settings = settings_from_config()
    if args.check:
        changed = diff(args.context_dir, settings)
        for path in changed:
            print(f"out of date: {args.context_dir / path}", file=sys.stderr)
        if changed:
            print("regenerate with `python -m socialwh.quality.suites`", file=sys.stderr)
        return 1 if changed else 0
    changed = write(args.context_dir, settings)
    for path in changed:
        print(f"wrote {args.context_dir / path}")
    if not args.no_verify:
        verify(args.context_dir, settings)
    print(f"{len(render(settings))} files in {args.context_dir}, {len(changed)} changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
