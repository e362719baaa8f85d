"""The local dashboards: the spec (`dashboards/`) rendered with Streamlit + Plotly, reading `bi`
as the read-only `bi_reader`.

    socialwh dashboards            # or: make dashboards (after make demo)

One page per dashboard, chosen in the sidebar or with `?dashboard=<name>`. All cards of a page
are read in one REPEATABLE READ transaction, so they show one publication even when the nightly
publishes meanwhile. The connection URL comes from SOCIALWH_BI_URL (the CLI sets it).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import psycopg

from socialwh.dashboards.spec import FILTERS, Card, Dashboard, load_spec, render_sql

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def bi_url() -> str:
    """SOCIALWH_BI_URL, else the local warehouse with the bi_reader's password from .local."""
    if os.environ.get("SOCIALWH_BI_URL"):
        return os.environ["SOCIALWH_BI_URL"]
    from urllib.parse import quote, urlsplit  # noqa: PLC0415

    from socialwh.warehouse import db  # noqa: PLC0415
    from socialwh.warehouse.publish import READER_ROLE, reader_password  # noqa: PLC0415

    parts = urlsplit(db.warehouse_url())
    netloc = f"{READER_ROLE}:{quote(reader_password(), safe='')}@{parts.hostname}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def run_card(conn: psycopg.Connection, card: Card, values: dict[str, Any]) -> pd.DataFrame:
    """The card's rows for the filter values (unset ones drop their clauses)."""
    query, params = render_sql(card.sql, values)
    cur = conn.execute(query, params)
    columns = [c.name for c in cur.description]
    frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for column in columns:  # exact Decimals stay in SQL; charts need floats
        if frame[column].map(lambda v: isinstance(v, Decimal)).any():
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def format_value(value: Any, fmt: str | None, currency: str | None = None) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if fmt == "currency":
        symbol = CURRENCY_SYMBOLS.get(currency or "", f"{currency} ")
        return f"{symbol}{float(value):,.2f}"
    if fmt == "percent":
        return f"{float(value) * 100:,.2f}%"
    if fmt == "ratio":
        return f"{float(value):,.2f}x"
    if fmt == "integer":
        return f"{float(value):,.0f}"
    if fmt == "number":
        return f"{float(value):,.2f}"
    if fmt == "datetime" and hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    return str(value)


def filter_options(conn: psycopg.Connection) -> dict[str, Any]:
    """Choices for the filters and the date span of the published data."""
    platforms = [r[0] for r in conn.execute(
        "select platform from bi.fct_campaign_kpis_monthly union select platform from bi.fct_account_audience_daily"
        " order by 1")]
    accounts = conn.execute(
        "select distinct platform, account_id, account_name from bi.fct_campaign_kpis_monthly"
        " union select distinct platform, account_id, account_name from bi.fct_account_audience_daily"
        " order by 1, 3").fetchall()
    campaigns = conn.execute(
        "select distinct platform, account_id, campaign_id, campaign_name from bi.dim_campaigns order by 1, 4"
    ).fetchall()
    span = conn.execute(
        "select min(date_day), max(date_day) from bi.fct_campaign_kpis_daily").fetchone()
    return {"platforms": platforms, "accounts": accounts, "campaigns": campaigns,
            "first_day": span[0], "last_day": span[1]}


def _chart(card: Card, frame: pd.DataFrame):
    import plotly.express as px  # noqa: PLC0415

    y = list(card.y)
    labels = {c: c.replace("_", " ") for c in frame.columns}
    if card.chart == "pie":
        return [px.pie(frame, names=card.x, values=y[0], hole=0.4, labels=labels)]
    if card.series and len(y) > 1:  # one figure per measure, series as colours
        return [_chart(Card(**{**card.__dict__, "y": (m,)}), frame)[0] for m in y]
    if card.chart == "line":
        return [px.line(frame, x=card.x, y=y if not card.series else y[0], color=card.series,
                        markers=True, labels=labels)]
    barmode = "relative" if card.chart == "stacked_bar" else "group"
    if card.series:
        return [px.bar(frame, x=card.x, y=y[0], color=card.series, barmode=barmode, labels=labels)]
    return [px.bar(frame, x=card.x, y=y, barmode=barmode, labels=labels)]


def _table(card: Card, frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.copy()
    for column, fmt in card.formats.items():
        if column in shown.columns and fmt in {"currency", "percent", "ratio", "integer", "number", "datetime"}:
            shown[column] = [format_value(v, fmt, card.currency) for v in shown[column]]
    return shown


def render_card(st, card: Card, frame: pd.DataFrame | None) -> None:
    st.subheader(card.title)
    if card.chart == "text":
        st.markdown(card.text)
        return
    if frame is None or frame.empty:
        st.info("No rows for this selection.")
        return
    if card.chart == "kpi":
        row = frame.iloc[0]
        columns = st.columns(min(len(card.y), 5))
        for i, name in enumerate(card.y):
            columns[i % len(columns)].metric(name.replace("_", " ").upper() if len(name) <= 4 else
                                             name.replace("_", " ").capitalize(),
                                             format_value(row[name], card.formats.get(name), card.currency))
        return
    if card.chart == "table":
        st.dataframe(_table(card, frame), hide_index=True, width="stretch")
        return
    for figure in _chart(card, frame):
        figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=320)
        st.plotly_chart(figure, width="stretch")


def _filter_values(st, dashboard: Dashboard, options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    sidebar = st.sidebar
    if "date_range" in dashboard.filters and options["last_day"]:
        last, first = options["last_day"], options["first_day"]
        default = (max(first, last - timedelta(days=27)), last)
        picked = sidebar.date_input("Date range", value=default, min_value=date(2000, 1, 1), key="date_range")
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            values["date_from"], values["date_to"] = picked
        elif isinstance(picked, (tuple, list)) and picked:
            values["date_from"] = picked[0]
    if "platform" in dashboard.filters:
        values["platform"] = sidebar.selectbox(FILTERS["platform"]["label"], [None, *options["platforms"]],
                                               format_func=lambda v: "All platforms" if v is None else v,
                                               key="platform")
    if "account" in dashboard.filters:
        accounts = [a for a in options["accounts"] if values.get("platform") in (None, a[0])]
        names = {a[1]: f"{a[2]} ({a[0]})" for a in accounts}
        values["account"] = sidebar.selectbox(FILTERS["account"]["label"], [None, *names],
                                              format_func=lambda v: "All accounts" if v is None else names[v],
                                              key="account")
    if "campaign" in dashboard.filters:
        campaigns = [c for c in options["campaigns"] if values.get("platform") in (None, c[0])
                     and values.get("account") in (None, c[1])]
        names = {c[2]: c[3] for c in campaigns}
        values["campaign"] = sidebar.selectbox(FILTERS["campaign"]["label"], [None, *names],
                                               format_func=lambda v: "All campaigns" if v is None else names[v],
                                               key="campaign")
    return values


def main() -> None:
    import streamlit as st  # noqa: PLC0415

    st.set_page_config(page_title="socialwh dashboards", layout="wide")
    dashboards = {d.name: d for d in load_spec()}
    wanted = st.query_params.get("dashboard")
    names = list(dashboards)
    choice = st.sidebar.radio("Dashboard", names, index=names.index(wanted) if wanted in dashboards else 0,
                              format_func=lambda n: dashboards[n].title, key="dashboard")
    st.query_params["dashboard"] = choice
    dashboard = dashboards[choice]
    st.title(dashboard.title)
    st.caption(f"For: {dashboard.audience}. {dashboard.description}")
    with psycopg.connect(bi_url(), autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        published = conn.execute("select published_at, logical_date from bi.publication_info").fetchone()
        if published:
            st.sidebar.caption(f"bi published {published[0]:%Y-%m-%d %H:%M} UTC for {published[1]}")
        values = _filter_values(st, dashboard, filter_options(conn))
        frames = {c.id: (run_card(conn, c, values) if c.sql else None) for c in dashboard.cards}
    rows: dict[int, list[Card]] = {}
    for card in dashboard.cards:
        rows.setdefault(card.position.row, []).append(card)
    for row in sorted(rows):
        cards = sorted(rows[row], key=lambda c: c.position.col)
        for column, card in zip(st.columns([c.position.width for c in cards]), cards, strict=True):
            with column:
                render_card(st, card, frames[card.id])


if __name__ == "__main__":
    main()
