"""Provision Metabase (the pinned v0.56 image) from the dashboard spec, over its open-source REST API.

    python -m socialwh.dashboards.metabase      # docker compose runs it once (metabase-provision)

Steps, each idempotent (found by name; a second run updates, never duplicates):
1. first-user setup with MB_ADMIN_EMAIL / MB_ADMIN_PASSWORD when Metabase has no user yet
   (GET /api/session/properties gives the setup token), else log in (POST /api/session);
2. the warehouse as `bi_reader`, schemas restricted to `bi` (POST or PUT /api/database);
3. one collection (MB_COLLECTION, default "socialwh");
4. one native-SQL question per card, with template tags for the filters and visualization
   settings (POST or PUT /api/card), named "<dashboard> · <card>" inside the collection;
5. one dashboard per spec file, its filters as dashboard parameters, and its cards laid out and
   wired to the questions' template tags with ONE PUT /api/dashboard/:id carrying `dashcards`
   (existing dashcard ids kept, negative ids for new ones; PUT /api/dashboard/:id/cards is deprecated).
Serialization (export/import) is a paid feature and is not used. The card SQL is the spec's SQL
as is: its `{{var}}` / `[[ ... ]]` syntax is Metabase's own.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from socialwh.dashboards.spec import FILTERS, Card, Dashboard, load_spec

log = logging.getLogger(__name__)

DISPLAY = {"kpi": "object", "line": "line", "bar": "bar", "stacked_bar": "bar", "grouped_bar": "bar",
           "pie": "pie", "table": "table"}
PARAMETER_TYPES = {"date": ("date/single", "date"), "text": ("string/=", "string")}
VARIABLE_LABELS = {"date_from": "From", "date_to": "To", "platform": "Platform", "account": "Account",
                   "campaign": "Campaign"}
_NS = uuid.UUID("6f1f8a52-3c1e-4d53-9f55-5e0c2b7a9d10")


@dataclass(frozen=True)
class Settings:
    url: str
    admin_email: str
    admin_password: str
    site_name: str
    collection: str
    database_name: str
    db_host: str
    db_port: int
    db_name: str
    reader_password: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        missing = [k for k in ("MB_ADMIN_EMAIL", "MB_ADMIN_PASSWORD", "BI_READER_PASSWORD") if not env.get(k)]
        if missing:
            raise SystemExit(f"set {', '.join(missing)} in .env (see .env.example)")
        return cls(
            url=env.get("MB_URL", "http://metabase:3000").rstrip("/"),
            admin_email=env["MB_ADMIN_EMAIL"], admin_password=env["MB_ADMIN_PASSWORD"],
            site_name=env.get("MB_SITE_NAME", "socialwh"), collection=env.get("MB_COLLECTION", "socialwh"),
            database_name=env.get("MB_DATABASE_NAME", "socialwh warehouse (bi)"),
            db_host=env.get("BI_DB_HOST", "postgres"), db_port=int(env.get("BI_DB_PORT", "5432")),
            db_name=env.get("BI_DB_NAME", "warehouse"), reader_password=env["BI_READER_PASSWORD"],
        )


def _tag_id(card: str, variable: str) -> str:
    """Stable template-tag ids, so a rerun sends the same question."""
    return str(uuid.uuid5(_NS, f"{card}:{variable}"))


def template_tags(card: Card, key: str) -> dict[str, dict[str, Any]]:
    from socialwh.dashboards.spec import VARIABLES  # noqa: PLC0415

    return {
        v: {"id": _tag_id(key, v), "name": v, "display-name": VARIABLE_LABELS.get(v, v),
            "type": VARIABLES[v], "required": False}
        for v in sorted(card.variables)
    }


def column_settings(card: Card) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for column, fmt in card.formats.items():
        key = f'["name","{column}"]'
        if fmt == "currency":
            out[key] = {"number_style": "currency", "currency": card.currency, "currency_style": "symbol",
                        "decimals": 2}
        elif fmt == "percent":
            out[key] = {"number_style": "percent", "decimals": 2}
        elif fmt == "ratio":
            out[key] = {"number_style": "decimal", "decimals": 2, "suffix": "x"}
        elif fmt == "integer":
            out[key] = {"number_style": "decimal", "decimals": 0}
        elif fmt == "number":
            out[key] = {"number_style": "decimal", "decimals": 2}
    return out


def visualization_settings(card: Card) -> dict[str, Any]:
    settings: dict[str, Any] = {"column_settings": column_settings(card)}
    if card.chart in {"line", "bar", "stacked_bar", "grouped_bar"}:
        settings["graph.dimensions"] = [card.x] + ([card.series] if card.series else [])
        settings["graph.metrics"] = list(card.y)
        if card.chart == "stacked_bar":
            settings["stackable.stack_type"] = "stacked"
    elif card.chart == "pie":
        settings["pie.dimension"] = card.x
        settings["pie.metric"] = card.y[0]
    elif card.chart == "table":
        columns = [c for c in (card.x, *card.y) if c]
        settings["table.columns"] = [{"name": c, "enabled": True} for c in columns]
    return settings


def card_payload(dashboard: Dashboard, card: Card, database_id: int, collection_id: int) -> dict[str, Any]:
    key = f"{dashboard.name}.{card.id}"
    return {
        "name": card_name(dashboard, card),
        "type": "question",
        "description": card.description or f"{dashboard.title}: {card.title} (spec {dashboard.path.name})",
        "display": DISPLAY[card.chart],
        "collection_id": collection_id,
        "dataset_query": {"type": "native", "database": database_id,
                          "native": {"query": card.sql, "template-tags": template_tags(card, key)}},
        "visualization_settings": visualization_settings(card),
    }


def card_name(dashboard: Dashboard, card: Card) -> str:
    return f"{dashboard.title} · {card.title}"


def dashboard_parameters(dashboard: Dashboard) -> list[dict[str, Any]]:
    params = []
    for f in dashboard.filters:
        for variable, kind in FILTERS[f]["variables"].items():
            ptype, section = PARAMETER_TYPES[kind]
            params.append({"id": variable, "name": VARIABLE_LABELS[variable], "slug": variable,
                           "type": ptype, "sectionId": section})
    return params


def dashcards(dashboard: Dashboard, card_ids: dict[str, int], existing: dict[tuple, int]) -> list[dict[str, Any]]:
    """The dashboard's cards; an existing dashcard (same question, or same text position) keeps its id."""
    out, new_id = [], -1
    for card in dashboard.cards:
        p = card.position
        key = ("card", card_ids[card.id]) if card.sql else ("text", p.row, p.col)
        dashcard_id = existing.get(key)
        if dashcard_id is None:
            dashcard_id, new_id = new_id, new_id - 1
        item: dict[str, Any] = {"id": dashcard_id, "row": p.row, "col": p.col, "size_x": p.width,
                                "size_y": p.height, "series": []}
        if card.sql:
            item.update(card_id=card_ids[card.id], visualization_settings={}, parameter_mappings=[
                {"parameter_id": v, "card_id": card_ids[card.id], "target": ["variable", ["template-tag", v]]}
                for v in sorted(card.variables)])
        else:
            item.update(card_id=None, parameter_mappings=[], visualization_settings={
                "virtual_card": {"name": None, "display": "text", "visualization_settings": {},
                                 "dataset_query": {}, "archived": False},
                "text": f"## {card.title}\n\n{card.text}"})
        out.append(item)
    return out


class Provisioner:
    def __init__(self, settings: Settings, client: httpx.Client):
        self.s = settings
        self.http = client

    def _call(self, method: str, path: str, **kwargs) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"Metabase {method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def wait_until_healthy(self, timeout: float = 300, interval: float = 3) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.http.get("/api/health").json().get("status") == "ok":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Metabase at {self.s.url} not healthy after {timeout:.0f}s")
            time.sleep(interval)

    def login(self) -> None:
        props = self._call("GET", "/api/session/properties")
        if not props.get("has-user-setup") and props.get("setup-token"):
            log.info("first-user setup for %s", self.s.admin_email)
            session = self._call("POST", "/api/setup", json={
                "token": props["setup-token"],
                "user": {"email": self.s.admin_email, "password": self.s.admin_password,
                         "first_name": "socialwh", "last_name": "admin"},
                # setup/api.clj reads only prefs.site_name (required) and prefs.site_locale
                "prefs": {"site_name": self.s.site_name, "site_locale": "en"},
            })
        else:
            session = self._call("POST", "/api/session",
                                 json={"username": self.s.admin_email, "password": self.s.admin_password})
        self.http.headers["X-Metabase-Session"] = session["id"]

    def database(self) -> int:
        payload = {
            "engine": "postgres", "name": self.s.database_name, "is_full_sync": True,
            "details": {"host": self.s.db_host, "port": self.s.db_port, "dbname": self.s.db_name,
                        "user": "bi_reader", "password": self.s.reader_password, "ssl": False,
                        "schema-filters-type": "inclusion", "schema-filters-patterns": "bi"},
        }
        found = self._call("GET", "/api/database")
        rows = found["data"] if isinstance(found, dict) else found
        for db in rows:
            if db["name"] == self.s.database_name:
                self._call("PUT", f"/api/database/{db['id']}", json=payload)
                return db["id"]
        return self._call("POST", "/api/database", json=payload)["id"]

    def collection(self) -> int:
        for c in self._call("GET", "/api/collection"):
            if (c.get("name") == self.s.collection and isinstance(c.get("id"), int)
                    and not c.get("archived") and c.get("personal_owner_id") is None):
                return c["id"]
        return self._call("POST", "/api/collection", json={
            "name": self.s.collection, "description": "Dashboards provisioned from dashboards/ (socialwh)",
            "parent_id": None})["id"]

    def items(self, collection_id: int, model: str) -> dict[str, int]:
        found = self._call("GET", f"/api/collection/{collection_id}/items", params={"models": model})
        rows = found["data"] if isinstance(found, dict) else found
        return {i["name"]: i["id"] for i in rows if i.get("model") == model}

    def provision(self, dashboards: list[Dashboard]) -> dict[str, Any]:
        self.login()
        database_id = self.database()
        collection_id = self.collection()
        cards = self.items(collection_id, "card")
        boards = self.items(collection_id, "dashboard")
        result: dict[str, Any] = {"database": database_id, "collection": collection_id, "dashboards": {}}
        for dashboard in dashboards:
            card_ids: dict[str, int] = {}
            for card in dashboard.cards:
                if not card.sql:
                    continue
                payload = card_payload(dashboard, card, database_id, collection_id)
                if payload["name"] in cards:
                    card_ids[card.id] = cards[payload["name"]]
                    self._call("PUT", f"/api/card/{card_ids[card.id]}", json=payload)
                else:
                    card_ids[card.id] = self._call("POST", "/api/card", json=payload)["id"]
            body = {"name": dashboard.title, "collection_id": collection_id,
                    "description": f"For: {dashboard.audience}. {dashboard.description}",
                    "parameters": dashboard_parameters(dashboard)}
            existing: dict[tuple, int] = {}
            if dashboard.title in boards:
                board_id = boards[dashboard.title]
                for dc in self._call("GET", f"/api/dashboard/{board_id}").get("dashcards", []):
                    key = (("card", dc["card_id"]) if dc.get("card_id") is not None
                           else ("text", dc.get("row"), dc.get("col")))
                    existing[key] = dc["id"]
            else:
                board_id = self._call("POST", "/api/dashboard", json=body)["id"]
            self._call("PUT", f"/api/dashboard/{board_id}",
                       json={**body, "dashcards": dashcards(dashboard, card_ids, existing)})
            result["dashboards"][dashboard.name] = {"id": board_id, "cards": card_ids}
            log.info("dashboard %r: id %s, %d questions", dashboard.title, board_id, len(card_ids))
        return result


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    settings = Settings.from_env()
    with httpx.Client(base_url=settings.url, timeout=60) as client:
        provisioner = Provisioner(settings, client)
        provisioner.wait_until_healthy()
        result = provisioner.provision(load_spec())
    print(f"Metabase {settings.url}: collection {settings.collection!r} (id {result['collection']}), "
          f"{len(result['dashboards'])} dashboards")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
