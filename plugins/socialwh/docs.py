"""The two documentation sites, side by side under expectations/uncommitted/data_docs/:

- `local_site/`: Great Expectations Data Docs, rebuilt by every gate run (the checkpoint's
  update_data_docs action): every suite, every validation result, what failed and why;
- `dbt/`: the dbt docs site (`dbt docs generate --static`: one self-contained index.html with
  the lineage graph, every model and column description and the warehouse catalog).

`socialwh docs` (`make docs`) builds the dbt site, builds the GX site when no gate has run yet,
and opens both. Neither page holds a credential: GX reads the connection string from an env
variable it never renders; dbt's catalog holds relation and column metadata only.
"""

from __future__ import annotations

import os
import shutil
import webbrowser
from pathlib import Path

from socialwh.paths import DBT_TARGET_DIR, GX_DIR
from socialwh.quality.suites import CONNECTION_ENV, DATA_DOCS_DIR

DOCS_ROOT = GX_DIR / "uncommitted" / "data_docs"
GX_INDEX = GX_DIR / DATA_DOCS_DIR / "index.html"
DBT_INDEX = DOCS_ROOT / "dbt" / "index.html"


def build_gx_docs(warehouse_url: str) -> Path:
    """Render the GX site from the stored suites and validation results (no validation runs)."""
    import great_expectations as gx  # noqa: PLC0415

    from socialwh.quality.gate import _sqlalchemy_url  # noqa: PLC0415

    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    context = gx.get_context(mode="file", context_root_dir=str(GX_DIR),
                             runtime_environment={CONNECTION_ENV: _sqlalchemy_url(warehouse_url)})
    context.build_data_docs()
    return GX_INDEX


def build_dbt_docs(warehouse_url: str, target_dir: Path | None = None) -> Path:
    """`dbt docs generate --static` against the warehouse, copied beside the GX site."""
    from socialwh.transform import run_dbt  # noqa: PLC0415

    target = target_dir or DBT_TARGET_DIR
    run_dbt(["docs", "generate", "--static", "--target-path", str(target)], url=warehouse_url)
    DBT_INDEX.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "static_index.html", DBT_INDEX)
    return DBT_INDEX


def build_all(warehouse_url: str) -> dict[str, Path]:
    sites = {"dbt docs": build_dbt_docs(warehouse_url)}
    sites["GX Data Docs"] = GX_INDEX if GX_INDEX.exists() else build_gx_docs(warehouse_url)
    return sites


def open_sites(sites: dict[str, Path]) -> None:
    for name, path in sites.items():
        print(f"{name}: {path.as_uri()}")
        if os.environ.get("DISPLAY") or os.environ.get("BROWSER") or os.name != "posix":
            webbrowser.open(path.as_uri())
