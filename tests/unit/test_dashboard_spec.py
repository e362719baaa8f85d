"""The dashboard spec: every file loads, and the one SQL dialect renders for psycopg."""

from __future__ import annotations

from datetime import date

import pytest

from socialwh.dashboards.spec import (
    SNIPPET_DIR,
    SpecError,
    check_sql,
    expand_snippets,
    load_dashboard,
    load_spec,
    render_sql,
)


def test_the_seven_dashboards_load_with_their_audience_and_filters():
    spec = load_spec()
    assert [d.name for d in spec] == ["paid_performance", "budget_pacing", "roi_revenue",
                                      "spend_reconciliation", "organic_content", "community",
                                      "data_trust"]
    assert all(d.audience and d.cards for d in spec)
    assert set(spec[0].filters) == {"date_range", "platform", "account", "campaign"}


def test_optional_clauses_drop_when_their_filter_is_unset():
    sql = "select 1 from bi.t where true [[ and platform = {{platform}} ]] [[ and d >= {{date_from}} ]]"
    text, params = render_sql(sql, {"platform": "meta", "date_from": None})
    assert text == "select 1 from bi.t where true  and platform = %(platform)s  "
    assert params == {"platform": "meta"}
    text, params = render_sql(sql, {"date_from": date(2026, 11, 1), "platform": ""})
    assert "platform" not in text and params == {"date_from": date(2026, 11, 1)}


def test_literal_percent_signs_survive_psycopg():
    text, _ = render_sql("select 1 from bi.t where name like 'x%' [[ and a = {{account}} ]]", {})
    assert "like 'x%%'" in text


@pytest.mark.parametrize("sql, message", [
    ("select * from marts.fct_x", "bi.* only"),
    ("select * from bi.t join raw.meta_ad_insights r on true", "bi.* only"),
    ("select * from bi.t where platform = {{platform}}", "outside an optional"),
    ("select * from bi.t where true [[ and x = {{nope}} ]]", "unknown variable"),
])
def test_sql_rules_name_the_problem(sql, message):
    with pytest.raises(SpecError, match=message):
        check_sql(sql, "cards/x.sql")


def test_spec_errors_name_file_and_field(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("title: T\naudience: A\nfilters: [platform]\ncards:\n"
                    "  - {id: a, title: A, chart: donut, position: {row: 0, col: 0, width: 4, height: 2}}\n")
    with pytest.raises(SpecError, match=r"broken.yml: cards\[0\] \(a\)\.chart 'donut'"):
        load_dashboard(path)
    path.write_text("title: T\naudience: A\nfilters: [when]\ncards: []\n")
    with pytest.raises(SpecError, match="broken.yml: filters: 'when'"):
        load_dashboard(path)


def test_a_snippet_line_becomes_the_snippet_indented_like_it(tmp_path):
    (tmp_path / "days.sql").write_text("select d\nfrom bi.t\n\nwhere true\n    [[ and d >= {{date_from}} ]]\n")
    sql = "select count(*)\nfrom (\n    {{ snippet: days }}\n) as x\n"
    assert expand_snippets(sql, "cards/x.sql", tmp_path) == (
        "select count(*)\nfrom (\n    select d\n    from bi.t\n\n    where true\n"
        "        [[ and d >= {{date_from}} ]]\n) as x\n")


@pytest.mark.parametrize("sql, files, message", [
    ("select 1\nfrom ({{snippet: nope}}) x", {}, r"cards/x.sql:2: a \{\{snippet: name\}\} stands on a line of its own"),
    ("select 1 from (\n  {{snippet: nope}}\n) x", {"days": "select 1"}, r"cards/x.sql:2: snippet 'nope': .*nope.sql does not exist \(known: \['days'\]\)"),
    ("select 1 from (\n{{snippet: outer}}\n) x", {"outer": "{{snippet: days}}"}, "cannot name another snippet"),
])
def test_snippet_errors_name_the_card_file_and_line(tmp_path, sql, files, message):
    for name, body in files.items():
        (tmp_path / f"{name}.sql").write_text(body)
    with pytest.raises(SpecError, match=message):
        expand_snippets(sql, "cards/x.sql", tmp_path)


def test_every_snippet_is_used_by_a_card():
    used = "".join(card.sql_path.read_text() for d in load_spec() for card in d.cards if card.sql_path)
    for path in SNIPPET_DIR.glob("*.sql"):
        assert f"{{{{snippet: {path.stem}}}}}" in used, f"{path} is used by no card"
