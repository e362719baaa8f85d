"""The dashboard spec (`dashboards/*.yml` + one SQL file per card), loaded and validated once.

Both renderers read this: the local Streamlit app (`socialwh.dashboards.app`) and the Metabase
provisioner (`socialwh.dashboards.metabase`). A card's SQL is written in ONE dialect, Metabase's
native-query syntax, so Metabase runs it as is and Python translates it:

    select ... from bi.fct_campaign_kpis_daily
    where true
      [[ and date_day >= {{date_from}} ]]
      [[ and platform = {{platform}} ]]

`{{name}}` is a filter value; `[[ ... ]]` is an optional clause, dropped when a filter inside it
is unset. `render_sql()` turns that into psycopg named parameters (`%(name)s`). SQL may read
`bi.*` only (the app connects as `bi_reader`, which can read nothing else anyway).

A block several cards share (the paid KPI days read from the platform rollup or the campaign
days, depending on the filters) is written once, as `dashboards/sql/snippets/<name>.sql`, and a
card's SQL names it on a line of its own, in Metabase's snippet syntax:

    from (
        {{snippet: paid_kpi_days}}
    ) as kpis

The spec loader puts the snippet's lines there (indented like the placeholder) before anything
else reads the SQL, so both renderers and the checks see the whole query, and Metabase receives
it expanded: no snippet objects to provision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from socialwh.paths import REPO_ROOT

SPEC_DIR = REPO_ROOT / "dashboards"

# The filters a dashboard may offer, each mapped to the SQL variables it sets.
# date_range sets two variables (a Metabase dashboard shows them as two date pickers).
FILTERS: dict[str, dict[str, Any]] = {
    "date_range": {"label": "Date range", "variables": {"date_from": "date", "date_to": "date"}},
    "platform": {"label": "Platform", "variables": {"platform": "text"}},
    "account": {"label": "Account", "variables": {"account": "text"}},
    "campaign": {"label": "Campaign", "variables": {"campaign": "text"}},
}
VARIABLES: dict[str, str] = {v: t for f in FILTERS.values() for v, t in f["variables"].items()}
CHARTS = {"kpi", "line", "bar", "stacked_bar", "grouped_bar", "pie", "table", "text"}
FORMATS = {"currency", "percent", "integer", "number", "ratio", "text", "date", "datetime"}
GRID_WIDTH = 24  # Metabase's dashboard grid; the app maps it onto Streamlit columns

_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)
_SCHEMA_REF = re.compile(r"\b(?:from|join)\s+([a-z_][\w]*)\.", re.I)
_SNIPPET = re.compile(r"^(?P<indent>[ \t]*)\{\{\s*snippet:\s*(?P<name>[\w-]+)\s*\}\}[ \t]*$")
_NAMES_SNIPPET = re.compile(r"\{\{\s*snippet\s*:")
SNIPPET_DIR = SPEC_DIR / "sql" / "snippets"


class SpecError(ValueError):
    """A spec file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Position:
    row: int
    col: int
    width: int
    height: int


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    chart: str
    sql: str
    sql_path: Path | None
    position: Position
    x: str | None = None
    y: tuple[str, ...] = ()
    series: str | None = None
    formats: dict[str, str] = field(default_factory=dict)
    currency: str | None = None
    description: str = ""
    text: str = ""

    @property
    def variables(self) -> set[str]:
        return set(_VAR.findall(self.sql))

    @property
    def required_columns(self) -> set[str]:
        """Columns the chart reads from the card's result."""
        return {c for c in (self.x, self.series, *self.y) if c}


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    audience: str
    description: str
    filters: tuple[str, ...]
    cards: tuple[Card, ...]
    path: Path
    currency: str

    @property
    def variables(self) -> dict[str, str]:
        return {v: t for f in self.filters for v, t in FILTERS[f]["variables"].items()}


def _need(data: dict, key: str, where: str, path: Path, kind: type | tuple = str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise SpecError(f"{path}: {where}{key} is required")
    if not isinstance(data[key], kind):
        raise SpecError(f"{path}: {where}{key} must be {getattr(kind, '__name__', kind)}, got {data[key]!r}")
    return data[key]


def check_sql(sql: str, where: str) -> None:
    """Read bi.* only, name only known variables, and keep every variable a filter can leave unset
    inside an optional clause (otherwise the query breaks when the filter is cleared)."""
    for schema in _SCHEMA_REF.findall(sql):
        if schema.lower() != "bi":
            raise SpecError(f"{where}: reads {schema}.*; dashboards read bi.* only")
    unknown = set(_VAR.findall(sql)) - set(VARIABLES)
    if unknown:
        raise SpecError(f"{where}: unknown variable(s) {sorted(unknown)}; known: {sorted(VARIABLES)}")
    outside = set(_VAR.findall(_OPTIONAL.sub("", sql)))
    if outside:
        raise SpecError(f"{where}: {sorted(outside)} used outside an optional [[ ... ]] clause")
    if sql.count("[[") != sql.count("]]"):
        raise SpecError(f"{where}: unbalanced [[ ]]")


def expand_snippets(sql: str, where: str, snippet_dir: Path = SNIPPET_DIR) -> str:
    """``sql`` with every ``{{snippet: name}}`` line replaced by ``snippet_dir/<name>.sql``, each
    of its lines indented like the placeholder. A snippet does not name other snippets."""
    out = []
    for number, line in enumerate(sql.splitlines(keepends=True), 1):
        found = _SNIPPET.match(line.rstrip("\n"))
        if not found:
            if _NAMES_SNIPPET.search(line):
                raise SpecError(f"{where}:{number}: a {{{{snippet: name}}}} stands on a line of its own")
            out.append(line)
            continue
        path = snippet_dir / f"{found['name']}.sql"
        if not path.is_file():
            known = sorted(p.stem for p in snippet_dir.glob("*.sql"))
            raise SpecError(f"{where}:{number}: snippet {found['name']!r}: {path} does not exist (known: {known})")
        body = path.read_text()
        if _NAMES_SNIPPET.search(body):
            raise SpecError(f"{path}: a snippet cannot name another snippet")
        indent = found["indent"]
        out.extend(indent + part if part.strip() else part for part in body.rstrip("\n").splitlines(keepends=True))
        out.append("\n" if line.endswith("\n") else "")
    return "".join(out)


def _card(raw: dict, index: int, dashboard: str, path: Path, default_currency: str) -> Card:
    where = f"cards[{index}]."
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: {where[:-1]} must be a mapping")
    card_id = _need(raw, "id", where, path)
    where = f"cards[{index}] ({card_id})."
    chart = _need(raw, "chart", where, path)
    if chart not in CHARTS:
        raise SpecError(f"{path}: {where}chart {chart!r} is not one of {sorted(CHARTS)}")
    pos = _need(raw, "position", where, path, dict)
    try:
        position = Position(*(int(pos[k]) for k in ("row", "col", "width", "height")))
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"{path}: {where}position needs integer row, col, width, height ({exc})") from None
    if position.col < 0 or position.width < 1 or position.col + position.width > GRID_WIDTH:
        raise SpecError(f"{path}: {where}position must fit the {GRID_WIDTH}-column grid")
    sql, sql_path, text = "", None, ""
    if chart == "text":
        text = _need(raw, "text", where, path)
    else:
        sql_path = SPEC_DIR / "sql" / dashboard / f"{card_id}.sql"
        if raw.get("sql"):
            sql_path = (path.parent / raw["sql"]).resolve()
        if not sql_path.is_file():
            raise SpecError(f"{path}: {where}sql: {sql_path} does not exist")
        sql = expand_snippets(sql_path.read_text(), f"{sql_path}")
        check_sql(sql, f"{sql_path}")
    y = raw.get("y") or ()
    y = (y,) if isinstance(y, str) else tuple(y)
    formats = raw.get("format") or {}
    if not isinstance(formats, dict):
        raise SpecError(f"{path}: {where}format must map column -> one of {sorted(FORMATS)}")
    for column, fmt in formats.items():
        if fmt not in FORMATS:
            raise SpecError(f"{path}: {where}format.{column}: {fmt!r} is not one of {sorted(FORMATS)}")
    if chart in {"line", "bar", "stacked_bar", "grouped_bar", "pie"}:
        _need(raw, "x", where, path)
        if not y:
            raise SpecError(f"{path}: {where}y is required for a {chart} chart")
    if chart == "kpi" and not y:
        raise SpecError(f"{path}: {where}y (the values shown) is required for a kpi card")
    return Card(
        id=card_id, title=_need(raw, "title", where, path), chart=chart, sql=sql, sql_path=sql_path,
        position=position, x=raw.get("x"), y=y, series=raw.get("series"), formats=dict(formats),
        currency=raw.get("currency", default_currency), description=raw.get("description", ""), text=text,
    )


def load_dashboard(path: Path) -> Dashboard:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: must be a mapping with title, audience, filters, cards")
    name = path.stem
    filters = tuple(raw.get("filters") or ())
    for f in filters:
        if f not in FILTERS:
            raise SpecError(f"{path}: filters: {f!r} is not one of {sorted(FILTERS)}")
    currency = raw.get("currency", "EUR")
    cards_raw = _need(raw, "cards", "", path, list)
    cards = tuple(_card(c, i, name, path, currency) for i, c in enumerate(cards_raw))
    ids = [c.id for c in cards]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{path}: cards: duplicate id(s) {sorted({i for i in ids if ids.count(i) > 1})}")
    offered = {v for f in filters for v in FILTERS[f]["variables"]}
    for card in cards:
        missing = card.variables - offered
        if missing:
            raise SpecError(f"{path}: cards ({card.id}): SQL uses {sorted(missing)} but filters do not offer it")
    return Dashboard(
        name=name, title=_need(raw, "title", "", path), audience=_need(raw, "audience", "", path),
        description=raw.get("description", ""), filters=filters, cards=cards, path=path, currency=currency,
    )


def load_spec(spec_dir: Path = SPEC_DIR) -> list[Dashboard]:
    """Every dashboard, in the order of its `order:` (then name)."""
    paths = sorted(spec_dir.glob("*.yml"))
    if not paths:
        raise SpecError(f"{spec_dir}: no dashboards (*.yml)")
    order = {p: (yaml.safe_load(p.read_text()) or {}).get("order", 99) for p in paths}
    return [load_dashboard(p) for p in sorted(paths, key=lambda p: (order[p], p.stem))]


def render_sql(sql: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Metabase dialect -> (psycopg SQL with %(name)s, params): drop optional clauses whose
    variables are unset (None or ''), keep the others; escape literal % for psycopg."""
    present = {k: v for k, v in values.items() if v not in (None, "")}

    def optional(match: re.Match) -> str:
        inner = match.group(1)
        return inner if set(_VAR.findall(inner)) <= set(present) else ""

    text = _OPTIONAL.sub(optional, sql).replace("%", "%%")
    used = set(_VAR.findall(text))
    missing = used - set(present)
    if missing:
        raise SpecError(f"variables {sorted(missing)} have no value")
    text = _VAR.sub(lambda m: f"%({m.group(1)})s", text)
    return text, {k: present[k] for k in used}
