"""The Metabase provisioner against a replay of Metabase v0.56 responses (tests/fixtures/metabase,
see its README: shaped after v0.56's API, not recorded live). The fake keeps state like Metabase
would (ids, items per collection, dashcards), records every request, and the tests check what was
sent and that a second run updates in place instead of duplicating."""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path

import httpx
import pytest

from socialwh.dashboards import metabase
from socialwh.dashboards.spec import load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metabase"
SESSION = json.loads((FIXTURES / "session.json").read_text())["id"]


def fixture(name: str):
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))


class FakeMetabase:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict | None]] = []
        self.user = None
        self.databases = fixture("database_list")["data"]
        self.collections = fixture("collection_list")
        self.cards: dict[int, dict] = {}
        self.dashboards: dict[int, dict] = {}
        self.ids = itertools.count(1000)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path, method = request.url.path, request.method
        self.requests.append((method, path, body))
        if path not in ("/api/health", "/api/session/properties", "/api/setup", "/api/session"):
            if request.headers.get("X-Metabase-Session") != SESSION:
                return httpx.Response(401, text="Unauthenticated")
        if path == "/api/health":
            return httpx.Response(200, json=fixture("health"))
        if path == "/api/session/properties":
            return httpx.Response(200, json=fixture("session_properties_setup" if self.user else "session_properties_fresh"))
        if path == "/api/setup" and method == "POST":
            assert body["token"] == fixture("session_properties_fresh")["setup-token"]
            # what metabase.setup.api's POST / destructures (see tests/fixtures/metabase/README.md)
            assert set(body) <= {"token", "user", "invite", "prefs"}, body
            assert set(body["user"]) <= {"first_name", "last_name", "email", "password"}, body["user"]
            assert body["prefs"]["site_name"].strip() and set(body["prefs"]) <= {"site_name", "site_locale"}
            self.user = body["user"]
            return httpx.Response(200, json=fixture("session"))
        if path == "/api/session" and method == "POST":
            ok = self.user and body == {"username": self.user["email"], "password": self.user["password"]}
            return httpx.Response(200, json=fixture("session")) if ok else httpx.Response(401, json={"errors": {}})
        if path == "/api/database":
            if method == "GET":
                return httpx.Response(200, json={"data": self.databases, "total": len(self.databases)})
            db = {**fixture("database"), **body, "id": next(self.ids)}
            self.databases.append(db)
            return httpx.Response(200, json=db)
        if m := re.fullmatch(r"/api/database/(\d+)", path):
            db = next(d for d in self.databases if d["id"] == int(m[1]))
            db.update(body)
            return httpx.Response(200, json=db)
        if path == "/api/collection":
            if method == "GET":
                return httpx.Response(200, json=self.collections)
            c = {**fixture("collection"), **body, "id": next(self.ids)}
            self.collections.append(c)
            return httpx.Response(200, json=c)
        if m := re.fullmatch(r"/api/collection/(\d+)/items", path):
            models = request.url.params.get_list("models")
            items = fixture("collection_items")
            items["data"] = [{"id": i, "name": o["name"], "model": model}
                             for model, store in (("card", self.cards), ("dashboard", self.dashboards))
                             if model in models for i, o in store.items() if o["collection_id"] == int(m[1])]
            items["total"] = len(items["data"])
            return httpx.Response(200, json=items)
        if path == "/api/card" and method == "POST":
            card = {**fixture("card"), **body, "id": next(self.ids)}
            self.cards[card["id"]] = card
            return httpx.Response(200, json=card)
        if (m := re.fullmatch(r"/api/card/(\d+)", path)) and method == "PUT":
            self.cards[int(m[1])].update(body)
            return httpx.Response(200, json=self.cards[int(m[1])])
        if path == "/api/dashboard" and method == "POST":
            board = {**fixture("dashboard"), **body, "id": next(self.ids)}
            self.dashboards[board["id"]] = board
            return httpx.Response(200, json=board)
        if m := re.fullmatch(r"/api/dashboard/(\d+)", path):
            board = self.dashboards[int(m[1])]
            if method == "PUT":
                if "dashcards" in body:
                    kept = []
                    for dc in body["dashcards"]:
                        assert dc["id"] < 0 or any(d["id"] == dc["id"] for d in board["dashcards"]), dc
                        assert dc["card_id"] is None or dc["card_id"] in self.cards
                        # dashboards/api.clj UpdatedDashboardCard: int id, positive sizes, row/col >= 0,
                        # every mapping a non-blank parameter_id and a target; ids unique
                        assert isinstance(dc["id"], int) and dc["size_x"] > 0 and dc["size_y"] > 0, dc
                        assert dc["row"] >= 0 and dc["col"] >= 0, dc
                        assert all(pm["parameter_id"] and "target" in pm for pm in dc["parameter_mappings"]), dc
                    assert len({dc["id"] for dc in body["dashcards"]}) == len(body["dashcards"])
                    for dc in body["dashcards"]:
                        kept.append({**fixture("dashcard"), **dc, "dashboard_id": board["id"],
                                     "id": dc["id"] if dc["id"] > 0 else next(self.ids)})
                    body = {**body, "dashcards": kept}
                board.update(body)
            return httpx.Response(200, json=board)
        return httpx.Response(404, text=f"no route {method} {path}")


ENV = {"MB_URL": "http://metabase:3000", "MB_ADMIN_EMAIL": "admin@example.com", "MB_ADMIN_PASSWORD": "pw-1",
       "BI_READER_PASSWORD": "reader-pw"}


def run(fake: FakeMetabase) -> dict:
    settings = metabase.Settings.from_env(ENV)
    with httpx.Client(base_url=settings.url, transport=httpx.MockTransport(fake)) as client:
        provisioner = metabase.Provisioner(settings, client)
        provisioner.wait_until_healthy(timeout=1)
        return provisioner.provision(load_spec())


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_first_run_sets_up_metabase_from_the_spec(spec):
    fake = FakeMetabase()
    result = run(fake)
    posts = [p for m, p, _ in fake.requests if m == "POST"]
    n_questions = sum(1 for d in spec for c in d.cards if c.sql)
    assert posts.count("/api/setup") == 1 and "/api/session" not in posts
    assert posts.count("/api/database") == 1 and posts.count("/api/collection") == 1
    assert posts.count("/api/card") == n_questions >= 25
    assert posts.count("/api/dashboard") == len(spec) == 7
    assert not any(p.endswith("/cards") for _, p, _ in fake.requests)  # deprecated (dashboards/api.clj): never used
    db = next(b for m, p, b in fake.requests if m == "POST" and p == "/api/database")
    assert db["engine"] == "postgres" and db["details"]["user"] == "bi_reader"
    assert db["details"]["schema-filters-type"] == "inclusion" and db["details"]["schema-filters-patterns"] == "bi"
    assert len(result["dashboards"]) == 7


def test_questions_are_native_sql_with_template_tags_and_formats(spec):
    fake = FakeMetabase()
    run(fake)
    cards = {c["name"]: c for c in fake.cards.values()}
    paid = next(d for d in spec if d.name == "paid_performance")
    totals = cards[metabase.card_name(paid, paid.cards[0])]
    query = totals["dataset_query"]
    assert query["type"] == "native" and query["database"] == fake.databases[-1]["id"]
    assert query["native"]["query"] == paid.cards[0].sql and "[[ and platform = {{platform}} ]]" in query["native"]["query"]
    tags = query["native"]["template-tags"]
    assert set(tags) == {"date_from", "date_to", "platform", "account", "campaign"}
    assert tags["date_from"]["type"] == "date" and tags["platform"]["type"] == "text"
    assert totals["visualization_settings"]["column_settings"]['["name","spend"]'] == {
        "number_style": "currency", "currency": "EUR", "currency_style": "symbol", "decimals": 2}
    share = cards[metabase.card_name(paid, next(c for c in paid.cards if c.id == "spend_share"))]
    assert share["display"] == "pie" and share["visualization_settings"]["pie.dimension"] == "platform"
    for card in fake.cards.values():
        assert "bi." in card["dataset_query"]["native"]["query"]


def test_dashboards_have_layout_and_filters_wired_to_every_question(spec):
    fake = FakeMetabase()
    run(fake)
    boards = {b["name"]: b for b in fake.dashboards.values()}
    for dashboard in spec:
        board = boards[dashboard.title]
        slugs = {p["slug"] for p in board["parameters"]}
        assert slugs == set(dashboard.variables)
        assert len(board["dashcards"]) == len(dashboard.cards)
        for dc, card in zip(board["dashcards"], dashboard.cards, strict=True):
            assert (dc["row"], dc["col"], dc["size_x"], dc["size_y"]) == (
                card.position.row, card.position.col, card.position.width, card.position.height)
            mapped = {m["parameter_id"] for m in dc["parameter_mappings"]}
            assert mapped == card.variables
            for m in dc["parameter_mappings"]:
                assert m["target"] == ["variable", ["template-tag", m["parameter_id"]]]
                assert m["card_id"] == dc["card_id"]
    trust = boards["Data trust"]
    assert any(dc["card_id"] is None and "Data Docs" in dc["visualization_settings"]["text"]
               for dc in trust["dashcards"])


def test_second_run_updates_in_place_and_duplicates_nothing(spec):
    fake = FakeMetabase()
    first = run(fake)
    counts = (len(fake.databases), len(fake.collections), len(fake.cards), len(fake.dashboards))
    dashcard_ids = {b["id"]: sorted(dc["id"] for dc in b["dashcards"]) for b in fake.dashboards.values()}
    fake.requests.clear()
    second = run(fake)
    posts = [p for m, p, _ in fake.requests if m == "POST"]
    assert posts == ["/api/session"]  # logs in; creates nothing
    assert (len(fake.databases), len(fake.collections), len(fake.cards), len(fake.dashboards)) == counts
    assert second == first
    puts = [p for m, p, _ in fake.requests if m == "PUT"]
    assert sum(p.startswith("/api/card/") for p in puts) == len(fake.cards)
    assert sum(p.startswith("/api/dashboard/") for p in puts) == len(spec)
    assert {b["id"]: sorted(dc["id"] for dc in b["dashcards"]) for b in fake.dashboards.values()} == dashcard_ids
    sent = [b for m, p, b in fake.requests if m == "PUT" and p.startswith("/api/dashboard/")]
    assert all(dc["id"] > 0 for body in sent for dc in body["dashcards"])  # existing dashcards kept


def test_missing_admin_credentials_are_named():
    with pytest.raises(SystemExit, match="MB_ADMIN_PASSWORD"):
        metabase.Settings.from_env({"MB_ADMIN_EMAIL": "a@b.c", "BI_READER_PASSWORD": "x"})
