"""The platform registry: one declaration per platform is the single source of what repeats.

Every platform has one module ``socialwh.platforms.<key>`` holding ``PLATFORM = Platform(...)``:
its kind (paid / organic), how the marts name it, its Airflow connection, the utm_source names
that stand for it, and every raw table it loads with their columns and column rules. Nothing
else lists platforms by hand. From the declarations come:

- the raw DDL (:func:`ddl`, run by ``warehouse.db.ensure_raw_schema``);
- the record-level quarantine rules (``warehouse.quarantine.RULES``);
- the raw Great Expectations suites (``quality.suites.RAW_TABLES``);
- the dbt ``sources`` files, the ``platforms`` seed every ``relationships`` test and the
  ``utm_source_platforms`` seed read, and the macro the union models loop over
  (``python -m socialwh.generate`` writes them; a test fails when they drift);
- the sandbox mount and the local Airflow connection (the dev package's sandbox module named
  by ``sandbox``).

A column rule is declared once, on the column: ``required`` (NOT NULL in the DDL, a quarantine
rule, a GX expectation), ``role`` ``money`` / ``count`` (non-negative), ``currency`` (an ISO
4217 code), ``actions`` (Meta's action lists, every value non-negative) and the table's ``date``
(inside the extraction window when the table is ``windowed``). Adding a platform is adding its
module here, its connector, its sandbox and its staging model: no shared list to edit.

This module and the declarations import nothing heavy: DAG files read them while parsing.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache

from socialwh.warehouse import folding
from socialwh.warehouse.folding import folds  # noqa: F401 - the declaration helper platforms import

#: Columns the loader fills (the original record and the load metadata): no rule applies to them.
SYSTEM_COLUMNS = frozenset({"record", "record_folded", "batch_id", "extracted_at", "as_of_date", "loaded_at"})
ROLES = frozenset({"money", "count", "currency", "actions"})
KINDS = ("paid", "organic")


class RegistryError(ValueError):
    """A platform declaration is inconsistent (names the platform, table and field)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"           # PostgreSQL type as written in the DDL
    required: bool = False       # NOT NULL; for data columns also a quarantine and GX rule
    role: str | None = None      # money | count | currency | actions
    doc: str = ""                # the DDL comment and the dbt source column description


def col(name: str, type: str = "text", doc: str = "", *, required: bool = False,
        role: str | None = None) -> Column:
    return Column(name, type, required, role, doc)


def record_columns(*, as_of_date: bool = True, folded: bool = False) -> tuple[Column, ...]:
    """The original record as jsonb and the load metadata every platform table ends with.

    folded: the table declares ``folds`` (socialwh.warehouse.folding): ``record`` keeps what the
    typed columns do not repeat, ``record_folded`` says which keys they hold, and
    ``raw.api_record(t)`` gives the whole record back."""
    cols = [
        col("record", "jsonb", "the original record as returned by the API", required=True),
        col("batch_id", "uuid", required=True),
        col("extracted_at", "timestamptz", required=True),
    ]
    if as_of_date:
        cols.append(col("as_of_date", "date", "logical date of the run that extracted it", required=True))
    if folded:
        cols[0] = col("record", "jsonb", "the original record as returned by the API, without the values its"
                      " typed columns hold (record_folded); raw.api_record(t) gives the whole record",
                      required=True)
        cols.append(col("record_folded", "integer", "which record keys are held by typed columns (bit i ="
                        " the table's i-th fold); null: record is the whole original record"))
    return tuple(cols)


@dataclass(frozen=True)
class Table:
    """One raw table of a platform (raw.<name>), its columns and what the layers read from it."""

    name: str                          # table name in schema raw, e.g. meta_ad_insights
    dbt_name: str                      # table name inside the platform's dbt source
    columns: tuple[Column, ...]
    grain: tuple[str, ...]             # the primary key
    description: str = ""
    date: str | None = None            # the fact day: freshness, volume and window checks
    windowed: bool = False             # replaced per extraction window recorded in raw.load_batches
    spend: str | None = None           # the column the marts' spend_local comes from (paid facts)
    freshness: bool = False            # dbt source freshness on extracted_at
    # Record keys held by typed columns, (key, column) pairs (socialwh.warehouse.folding.folds):
    # not repeated in the stored record when the column reproduces them exactly. Append only.
    folds: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def data_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name not in SYSTEM_COLUMNS)

    def names(self, role: str) -> tuple[str, ...]:
        return tuple(c.name for c in self.data_columns if c.role == role)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.data_columns if c.required)

    @property
    def money(self) -> tuple[str, ...]:
        return self.names("money")

    @property
    def counts(self) -> tuple[str, ...]:
        return self.names("count")

    @property
    def currency(self) -> tuple[str, ...]:
        return self.names("currency")


@dataclass(frozen=True)
class Platform:
    """Everything the project needs to know about one platform, declared once."""

    key: str                           # config/warehouse.yml key, raw table prefix, module names
    kind: str                          # paid | organic
    label: str                         # how people call it: "Snapchat Ads"
    mart_platform: str                 # the marts' `platform` value (organic: the network, e.g. tiktok)
    conn_id: str                       # default Airflow connection id
    tables: tuple[Table, ...]
    description: str = ""              # the dbt source description
    utm_sources: tuple[str, ...] = ()  # utm_source values that stand for this (paid) platform
    sandbox: str | None = None         # dev package module that simulates the API (socialwh_dev.sandbox.<key>)
    connector: str = ""                # module with make_client / extract_tables; default socialwh.connectors.<key>
    options: dict = field(default_factory=dict)  # documentation of platform-specific config options
    # Paid: the dbt models that feed the unions (union columns, see int_ad_performance_unioned and
    # int_campaigns_unioned); default stg_<key>__ad_stats and stg_<key>__campaigns.
    union_models: dict = field(default_factory=dict)
    # How its credentials renew (socialwh.connectors.oauth): a shared flow of oauth.FLOWS (google |
    # linkedin | tiktok_organic: refresh grants; meta: cannot renew, checked nightly with
    # debug_token) or the name of the OAUTH_FLOW its connector declares (snapchat, pinterest);
    # None: a static token.
    oauth: str | None = None
    # How many of its accounts may be extracted at once (the Airflow pool api_<key>, shared by every
    # DAG run and DAG that calls it): what the API's per-app limits allow without throttling.
    # config/warehouse.yml may lower or raise it (platforms.<key>.api_concurrency).
    api_concurrency: int = 2

    @property
    def connector_module(self) -> str:
        return self.connector or f"socialwh.connectors.{self.key}"

    def union_model(self, kind: str) -> str:
        return self.union_models.get(kind, f"stg_{self.key}__{kind}")

    @property
    def dbt_source(self) -> str:
        return self.key

    def table(self, dbt_name: str) -> Table:
        for t in self.tables:
            if t.dbt_name == dbt_name:
                return t
        raise KeyError(f"{self.key} has no table {dbt_name!r}")


def validate(p: Platform) -> Platform:
    where = f"platform {p.key!r}"
    if p.kind not in KINDS:
        raise RegistryError(f"{where}: kind must be one of {KINDS}, got {p.kind!r}")
    if not p.key.isidentifier() or p.key != p.key.lower():
        raise RegistryError(f"{where}: key must be a lower-case identifier")
    if not isinstance(p.api_concurrency, int) or p.api_concurrency < 1:
        raise RegistryError(f"{where}: api_concurrency must be a positive integer, got {p.api_concurrency!r}")
    seen: set[str] = set()
    for t in p.tables:
        if t.name in seen:
            raise RegistryError(f"{where}: table {t.name!r} declared twice")
        seen.add(t.name)
        names = [c.name for c in t.columns]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise RegistryError(f"{where}, table {t.name}: columns declared twice: {sorted(dupes)}")
        for k in t.grain:
            if k not in names:
                raise RegistryError(f"{where}, table {t.name}: grain column {k!r} is not a column")
            if not t.column(k).required:
                raise RegistryError(f"{where}, table {t.name}: grain column {k!r} must be required")
        for c in t.columns:
            if c.role is not None and c.role not in ROLES:
                raise RegistryError(f"{where}, table {t.name}, column {c.name}: unknown role {c.role!r}")
        for attr in ("date", "spend"):
            value = getattr(t, attr)
            if value is not None and value not in names:
                raise RegistryError(f"{where}, table {t.name}: {attr} {value!r} is not a column")
        if t.windowed and t.date is None:
            raise RegistryError(f"{where}, table {t.name}: a windowed table needs its date column")
        try:
            folding.validate(t, where)
        except ValueError as e:
            raise RegistryError(str(e)) from None
    return p


@lru_cache(maxsize=1)
def platforms() -> dict[str, Platform]:
    """Every declared platform, by key, in key order (discovered: no list to maintain)."""
    import socialwh.platforms as package  # noqa: PLC0415

    found: dict[str, Platform] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        platform = getattr(module, "PLATFORM", None)
        if not isinstance(platform, Platform):
            raise RegistryError(f"{module.__name__}: defines no PLATFORM = Platform(...)")
        if platform.key != info.name:
            raise RegistryError(f"{module.__name__}: PLATFORM.key is {platform.key!r}, expected {info.name!r}")
        found[platform.key] = validate(platform)
    return found


def platform(key: str) -> Platform:
    try:
        return platforms()[key]
    except KeyError:
        raise RegistryError(f"unknown platform {key!r}; declared: {', '.join(platforms())}") from None


def of_kind(kind: str) -> list[Platform]:
    return [p for p in platforms().values() if p.kind == kind]


def tables() -> list[tuple[Platform, Table]]:
    return [(p, t) for p in platforms().values() for t in p.tables]


def find_table(name: str) -> tuple[Platform, Table] | None:
    """The declaration of raw.<name> (with or without the schema), or None (finance, ...)."""
    bare = name.split(".", 1)[1] if name.startswith("raw.") else name
    for p, t in tables():
        if t.name == bare:
            return p, t
    return None


# --- the raw DDL -----------------------------------------------------------------------------

def create_table(t: Table) -> str:
    """CREATE TABLE for raw.<t.name> with its column and table comments."""
    width = max(len(c.name) for c in t.columns) + 1
    lines = [f"    {c.name.ljust(width)} {c.type}{' not null' if c.required else ''}," for c in t.columns]
    lines.append(f"    primary key ({', '.join(t.grain)})")
    out = [f"create table if not exists raw.{t.name} (\n" + "\n".join(lines) + "\n);"]
    out += [f"comment on column raw.{t.name}.{c.name} is {_quote(c.doc)};" for c in t.columns if c.doc]
    if t.description:
        out.append(f"comment on table raw.{t.name} is {_quote(t.description)};")
    return "\n".join(out)


def ddl(p: Platform) -> str:
    """The platform's raw DDL, for reading and review (ensure_raw_schema runs create_table)."""
    return "\n\n".join([f"-- {p.label} ({p.key}): generated from socialwh.platforms.{p.key}",
                         *(create_table(t) for t in p.tables),
                         *(folding.function_sql(t) for t in p.tables if t.folds)]) + "\n"


def migration(existing: dict[str, set[str]]) -> list[str]:
    """Statements that bring raw up to the declarations, given {table: {columns}} that exist.

    A missing table is created; a column declared after its table was created is added (it must
    then be nullable: existing rows have no value for it). Nothing is ever dropped."""
    statements: list[str] = []
    for p, t in tables():
        have = existing.get(t.name)
        if have is None:
            statements.append(create_table(t))
            continue
        for c in t.columns:
            if c.name in have:
                continue
            if c.required:
                raise RegistryError(
                    f"platform {p.key!r}, table raw.{t.name}: new column {c.name!r} is required, but the "
                    "table already has rows without it; declare it nullable (required=False)")
            statements.append(f"alter table raw.{t.name} add column if not exists {c.name} {c.type};")
    return statements


def functions() -> list[str]:
    """CREATE OR REPLACE of the functions over raw tables (raw.api_record of every table that folds
    its record): run after the tables exist, every time, so they follow the declarations."""
    return [folding.function_sql(t) for _, t in tables() if t.folds]


def _quote(text: str) -> str:
    return "'" + " ".join(text.split()).replace("'", "''") + "'"
