"""The platform registry is the single source of what repeats per platform (issue #11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from socialwh import generate, registry
from socialwh.quality import suites
from socialwh.warehouse import quarantine

REPO = Path(__file__).resolve().parents[2]


def test_every_platform_module_declares_itself_and_passes_validation():
    found = registry.platforms()
    modules = {p.stem for p in (REPO / "plugins/socialwh/platforms").glob("[!_]*.py")}
    assert set(found) == modules
    for key, p in found.items():
        assert p.key == key and p.kind in registry.KINDS
        assert p.tables, key


def test_generated_files_are_current():
    """dbt sources, seeds, the union macro and the GX files match the declarations."""
    assert generate.check() == [], "run `python -m socialwh.generate` and commit the result"


def test_quarantine_gx_and_ddl_read_the_same_declaration():
    raw_gx = {t.name: t for t in suites.RAW_TABLES}
    for p, t in registry.tables():
        assert f"raw.{t.name}" in quarantine.RULES
        gx = raw_gx[t.name]
        assert (gx.grain, gx.required, gx.money, gx.counts, gx.currency, gx.date, gx.windowed) == (
            t.grain, t.required, t.money, t.counts, t.currency, t.date, t.windowed)
        ddl = registry.create_table(t)
        for c in t.columns:
            assert re.search(rf"\n    {c.name} +{re.escape(c.type)}{' not null' if c.required else ''},", ddl)


def test_no_hand_kept_platform_list_is_left():
    """The shared lists the issue found (unions, accepted_values, server mounts, budget platforms,
    Airflow connections) read the registry; a literal list of platform keys is a regression."""
    paid = "meta, google_ads, tiktok, linkedin, x"
    for path in [*REPO.glob("dbt_project/models/**/*.yml"), *REPO.glob("dbt_project/models/**/*.sql")]:
        text = path.read_text()
        assert f"[{paid}]" not in text and "['meta', 'google_ads'" not in text, path
    for path in (REPO / "plugins/socialwh/finance/budgets.py", REPO / "dev/socialwh_dev/sandbox/server.py",
                 REPO / "plugins/socialwh/pipeline/airflow_env.py"):
        assert '"tiktok"' not in path.read_text() and "socialwh_dev.sandbox.tiktok" not in path.read_text(), path


def test_mart_platform_names_are_documented_in_the_seed():
    """tiktok_organic is `tiktok` in the organic marts: the platforms seed says so."""
    seed = (REPO / "dbt_project/seeds/platforms.csv").read_text().splitlines()
    assert "tiktok_organic,organic,TikTok (organic),tiktok" in seed
    assert "tiktok,paid,TikTok Ads,tiktok" in seed


def test_meta_conversion_action_types_have_one_default():
    """dbt_project.yml holds the default; config only overrides it (a dbt run outside Airflow
    and the nightly count the same action types)."""
    import yaml
    from socialwh.pipeline.airflow_support import dbt_vars

    project = yaml.safe_load((REPO / "dbt_project/dbt_project.yml").read_text())
    assert project["vars"]["meta_conversion_action_types"] == ["purchase"]
    assert dbt_vars().get("meta_conversion_action_types", ["purchase"]) == ["purchase"]


def test_inconsistent_declarations_are_refused_with_the_field_named():
    t = registry.Table("t_stats", "stats", (registry.col("a", required=True),), grain=("b",))
    p = registry.Platform("demo", "paid", "Demo", "demo", "demo", (t,))
    with pytest.raises(registry.RegistryError, match="platform 'demo', table t_stats: grain column 'b'"):
        registry.validate(p)


def test_a_column_added_to_a_declaration_migrates_existing_tables():
    _, t = registry.find_table("raw.tiktok_campaigns")
    have = {t.name: {c.name for c in t.columns} - {"objective_type"}}
    existing = {tt.name: {c.name for c in tt.columns} for _, tt in registry.tables()} | have
    assert registry.migration(existing) == [
        "alter table raw.tiktok_campaigns add column if not exists objective_type text;"]
