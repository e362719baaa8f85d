"""The dashboards against a demo-shaped warehouse: one night of social_nightly's steps (sandbox APIs,
finance files, dbt, the GX gate, publish; the same functions the DAG's tasks call, without Airflow)
into this module's database, then every card's SQL as
`bi_reader`, the Streamlit app in its own test harness (AppTest), card numbers against SQL over
`bi` computed independently, and a headless Chromium screenshot of every dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from socialwh import transform
from socialwh.dashboards import app
from socialwh.dashboards.spec import load_spec
from socialwh.paths import REPO_ROOT
from socialwh.warehouse.publish import READER_ROLE, ensure_reader_role, reader_password

sys.path.insert(0, str(REPO_ROOT / "dev"))  # dev tooling: the screenshot driver
from socialwh_dev import screenshot  # noqa: E402

pytestmark = pytest.mark.integration

NIGHT = datetime(2026, 11, 21, 4, tzinfo=timezone.utc)
SCREENSHOTS = REPO_ROOT / ".local" / "screenshots"
MAY_BE_EMPTY = {"data_trust.quarantine",  # the sandbox's clean night quarantines nothing
                "community.spike_alerts"}  # nor has a comment spike


class _Conn:
    """An AIRFLOW_CONN_* JSON as the attributes airflow_support reads from an Airflow Connection."""

    def __init__(self, spec: dict) -> None:
        self.host, self.port, self.schema = spec.get("host"), spec.get("port"), spec.get("schema")
        self.login, self.password = spec.get("login"), spec.get("password")
        self.extra_dejson = spec.get("extra") or {}


@pytest.fixture(scope="module")
def bi_url(module_database, sandbox_root) -> str:
    """One night built by the nightly steps themselves (socialwh.pipeline.nightly: the functions the
    DAG's tasks call) in the DAG's order, without Airflow's scheduling around them: every enabled
    account extracted from the sandbox over HTTP, finance files, one `dbt build` with the DAG's
    vars, the GX gate, publish. A full Airflow night cost ~250 s here; Airflow itself is covered by
    tests/e2e and the demo."""
    from socialwh.pipeline import airflow_support as af
    from socialwh.pipeline import nightly
    from socialwh.pipeline.airflow_env import airflow_env

    sandbox_url = sandbox_root  # this module's sandbox, in a thread: it ends with the module
    night = NIGHT.date()
    conns = {k.removeprefix("AIRFLOW_CONN_").lower(): _Conn(json.loads(v))
             for k, v in airflow_env(module_database, sandbox_url).items()
             if k.startswith("AIRFLOW_CONN_") and k != "AIRFLOW_CONN_WAREHOUSE"}
    for platform in af.enabled_platforms():
        for account in nightly.list_accounts(platform):
            conn = conns[account["conn_id"]]
            nightly.extract_load_account(
                platform, account["account_id"], night, connection=af.connection_info(conn),
                warehouse_url=module_database, extra_params=af.sandbox_params(conn, night))
    fx_conn = conns["ecb_fx"]
    nightly.load_finance(night, warehouse_url=module_database, fx_base_url=af.base_url(fx_conn),
                         fx_extra_params=af.sandbox_params(fx_conn, night))
    previous = os.environ.get("SOCIALWH_AS_OF_DATE")
    os.environ["SOCIALWH_AS_OF_DATE"] = night.isoformat()  # what the DAG passes as {{ ds }}
    try:
        transform.run_dbt(["build", "--exclude-resource-type", "unit_test"], url=module_database,
                          vars=af.dbt_vars())
    finally:
        if previous is None:
            os.environ.pop("SOCIALWH_AS_OF_DATE", None)
        else:
            os.environ["SOCIALWH_AS_OF_DATE"] = previous
    gate = nightly.run_gate(night, warehouse_url=module_database)
    assert gate, "the gate returned nothing"
    nightly.publish(night, warehouse_url=module_database)
    with psycopg.connect(module_database, autocommit=True) as conn:
        ensure_reader_role(conn)  # other modules may have reset the shared role's password
    parts = urlsplit(module_database)
    url = parts._replace(
        netloc=f"{READER_ROLE}:{quote(reader_password(), safe='')}@{parts.hostname}:{parts.port}").geturl()
    os.environ["SOCIALWH_BI_URL"] = url
    yield url
    os.environ.pop("SOCIALWH_BI_URL", None)


@pytest.fixture(scope="module")
def reader(bi_url):
    with psycopg.connect(bi_url, autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone()[0] == READER_ROLE
        yield conn


def test_every_card_runs_as_bi_reader_with_the_columns_its_chart_needs(reader):
    options = app.filter_options(reader)
    last = options["last_day"]
    platform, account, campaign, _ = options["campaigns"][0]
    checked = 0
    for dashboard in load_spec():
        for card in dashboard.cards:
            if not card.sql:
                continue
            unfiltered = app.run_card(reader, card, {})
            assert card.required_columns <= set(unfiltered.columns), (dashboard.name, card.id)
            if f"{dashboard.name}.{card.id}" not in MAY_BE_EMPTY:
                assert len(unfiltered) > 0, f"{dashboard.name}.{card.id} returned no rows"
            every_filter = {"date_from": last.replace(day=1), "date_to": last, "platform": platform,
                            "account": account, "campaign": campaign}
            filtered = app.run_card(reader, card, every_filter)
            assert card.required_columns <= set(filtered.columns)
            if card.variables and len(unfiltered) > 1 and card.chart != "kpi":
                assert len(filtered) <= len(unfiltered), (dashboard.name, card.id)
            checked += 1
    assert checked >= 25


def _card(dashboard: str, card: str):
    return next(c for d in load_spec() if d.name == dashboard for c in d.cards if c.id == card)


def test_card_numbers_equal_the_marts(reader):
    """Computed independently: from the ad-level mart, not the campaign marts the cards read."""
    last = reader.execute("select max(date_day) from bi.fct_ad_performance_daily").fetchone()[0]
    first = last.replace(day=1)
    month = {"date_from": first, "date_to": last}
    card = app.run_card(reader, _card("paid_performance", "by_platform"), month)
    shown = dict(zip(card["platform"], card["spend"], strict=True))
    expected = dict(reader.execute(
        "select platform, sum(spend_reporting) from bi.fct_ad_performance_daily"
        " where date_day between %s and %s group by 1 having sum(spend_reporting) <> 0", [first, last]).fetchall())
    assert set(shown) >= set(expected) and len(expected) >= 3
    for platform, spend in expected.items():
        assert shown[platform] == pytest.approx(float(spend), abs=0.005), platform

    ranking = app.run_card(reader, _card("paid_performance", "campaign_ranking"), month)
    top = ranking.iloc[0]
    value, spend = reader.execute(
        "select sum(conversion_value_reporting), sum(spend_reporting) from bi.fct_ad_performance_daily"
        " where campaign_id = %s and platform = %s and date_day between %s and %s",
        [top["campaign_id"], top["platform"], first, last]).fetchone()
    assert top["roas"] == pytest.approx(float(value / spend), rel=1e-9)

    totals = app.run_card(reader, _card("paid_performance", "totals"), month).iloc[0]
    clicks, impressions = reader.execute(
        "select sum(clicks), sum(impressions) from bi.fct_ad_performance_daily where date_day between %s and %s",
        [first, last]).fetchone()
    assert totals["ctr"] == pytest.approx(float(clicks) / float(impressions), rel=1e-9)  # a ratio of sums

    # without an account or campaign filter the ROI cards read the platform x month totals
    roi = app.run_card(reader, _card("roi_revenue", "by_month_platform"), {})
    by_campaign = reader.execute(
        "select month_start, platform, sum(spend_reporting), sum(first_party_revenue_reporting)"
        " from bi.fct_roi_monthly group by 1, 2").fetchall()
    assert len(by_campaign) >= 3
    assert {(r.month_start, r.platform): (r.spend, r.first_party_revenue) for r in roi.itertuples()} == {
        (m, p): pytest.approx((float(s), float(r)), abs=0.005) for m, p, s, r in by_campaign}

    budget = app.run_card(reader, _card("budget_pacing", "month_totals"), {})
    planned = reader.execute(
        "select budget_month, sum(planned) from bi.fct_budget_variance_monthly"
        " where campaign_id is null group by 1").fetchall()
    assert {r.budget_month: r.planned for r in budget.itertuples()} == pytest.approx(
        {m: float(p) for m, p in planned})

    spec_currency = {d.currency for d in load_spec()}
    published = {r[0] for r in reader.execute("select distinct reporting_currency from bi.fct_campaign_kpis_daily")}
    assert published == spec_currency == {"EUR"}  # the spec's currency format is the data's


def test_the_app_renders_every_dashboard(bi_url, reader):
    from streamlit.testing.v1 import AppTest

    for dashboard in load_spec():
        at = AppTest.from_file(app.__file__, default_timeout=120)
        at.query_params["dashboard"] = dashboard.name
        at.run()
        assert not at.exception, (dashboard.name, [e.value for e in at.exception])
        assert at.title[0].value == dashboard.title
        assert [s.value for s in at.subheader] == [c.title for c in dashboard.cards]
        charts = [c for c in dashboard.cards if c.chart not in {"kpi", "table", "text"}]
        assert len(at.get("plotly_chart")) >= len(charts), dashboard.name
        # a table without rows says so instead (the clean night quarantines nothing)
        assert len(at.dataframe) + len(at.info) == sum(c.chart == "table" for c in dashboard.cards), dashboard.name
        if dashboard.name == "paid_performance":
            # what the page shows is the card's value, formatted with the spec's currency
            last = reader.execute("select max(date_day) from bi.fct_campaign_kpis_daily").fetchone()[0]
            picked = at.sidebar.date_input[0].value
            spend = app.run_card(reader, dashboard.cards[0], {"date_from": picked[0], "date_to": picked[1]})
            assert picked[1] == last
            assert at.metric[0].value == app.format_value(spend["spend"][0], "currency", "EUR")
            assert at.metric[0].value.startswith("€")
            at.sidebar.selectbox(key="platform").set_value("meta").run()
            assert not at.exception
            only_meta = app.run_card(reader, dashboard.cards[0], {
                "date_from": picked[0], "date_to": picked[1], "platform": "meta"})
            assert at.metric[0].value == app.format_value(only_meta["spend"][0], "currency", "EUR")
            assert only_meta["spend"][0] < spend["spend"][0]


def _chromium() -> str:
    found = screenshot.find_chromium()
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, capture_output=True, timeout=300)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "chromium"], check=True, capture_output=True,
                       timeout=600, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"Debian's chromium is not installed and `apt-get install chromium` failed: {exc}")
    return screenshot.find_chromium() or pytest.skip("chromium installed but not on PATH")


def test_screenshot_of_every_dashboard_in_headless_chromium(bi_url):
    """Chromium over the DevTools protocol waits until every card of the spec is drawn (headings,
    Plotly charts, metrics, tables), so the PNG shows the dashboard, not Streamlit's loading shell."""
    from PIL import Image

    chromium = _chromium()
    server, base = screenshot.start_app(bi_url)
    try:
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
        shots = screenshot.screenshot_dashboards(base, SCREENSHOTS, chromium=chromium)
    finally:
        screenshot.stop_app(server)
    assert [p.stem for p in shots] == [d.name for d in load_spec()]
    for shot in shots:
        assert shot.stat().st_size > 80_000, f"{shot}: {shot.stat().st_size} bytes, looks blank"
        with Image.open(shot) as image:
            assert image.width == screenshot.WIDTH and image.height > 1000, (shot, image.size)
            colours = image.convert("RGB").getcolors(1 << 24) or []
        assert len(colours) > 300, f"{shot} has {len(colours)} colours: charts not drawn"
