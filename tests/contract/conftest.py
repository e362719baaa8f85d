"""One harness for the contract tests: sandbox configs, a live sandbox, recorded responses, replay.

- ``sandbox_config(**overrides)``: the repo's Config with the ``sandbox:`` block overridden.
  A keyword named after a platform merges its dict into that platform's block
  (``sandbox_config(snapchat={"max_days": 7})``); any other keyword (``seed``, ``faults``)
  replaces the top-level key.
- ``sandbox``: the whole sandbox (every declared platform) served over HTTP by
  ``start_in_thread`` for the test module; faults are switched off before and after each test and
  switched on with ``sandbox.faults.configure(throttle=0.3, seed=1)``. ``sandbox.url("snapchat")``
  is a platform's base URL.
- ``sandbox_server(config)``: a server for a config of the test's own (stopped after the test).
- ``recorded(platform, name)``: the parsed ``fixtures/<platform>/<name>.json``;
  ``recorded_path(platform, name)`` is that file's path, for a test that needs its raw bytes.
- ``replay(routes)``: an :class:`httpx.MockTransport` answering from
  ``{(method, path_regex): response}`` and recording every request (``.requests``); a response is
  JSON (status 200), an ``httpx.Response``, or a callable ``(request) -> either``; a request no
  route matches fails the test naming it. ``in_order(*responses)`` answers a route with one
  response per call (the last one repeats). In place of the route table a single callable
  ``(request) -> answer`` (a hand-written handler) answers every request.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from socialwh.config import Config, load_config
from socialwh_dev.sandbox.server import SandboxServer, start_in_thread

FIXTURES = Path(__file__).parent / "fixtures"
BASE_CONFIG = load_config()


def make_sandbox_config(base: Config = BASE_CONFIG, **overrides: Any) -> Config:
    """``base`` with its sandbox block overridden (see the module docstring)."""
    sandbox = dict(base.sandbox or {})
    for key, value in overrides.items():
        current = sandbox.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping) and key != "faults":
            sandbox[key] = {**current, **value}
        else:
            sandbox[key] = value
    return dataclasses.replace(base, sandbox=sandbox)


@dataclasses.dataclass
class RunningSandbox:
    server: SandboxServer
    root: str

    @property
    def faults(self):
        return self.server.faults

    def url(self, prefix: str) -> str:
        return f"{self.root}/{prefix}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _start(config: Config) -> RunningSandbox:
    server, root = start_in_thread(config)
    return RunningSandbox(server, root)


@pytest.fixture
def sandbox_config() -> Callable[..., Config]:
    return make_sandbox_config


@pytest.fixture(scope="module")
def _module_sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    running = _start(getattr(request.module, "SANDBOX_CONFIG", BASE_CONFIG))
    yield running
    running.stop()


@pytest.fixture
def sandbox(_module_sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    # the contracts' throttles lock out for the real APIs' windows (minutes), not dev/sandbox.yml's
    # demo-sized seconds: the tests inject the sleep, so they assert the real waits for free
    _module_sandbox.faults.configure(seed=0, throttle_wait_s=None)
    yield _module_sandbox
    _module_sandbox.faults.configure(seed=0)


@pytest.fixture
def sandbox_server() -> Iterator[Callable[[Config], RunningSandbox]]:
    started: list[RunningSandbox] = []

    def start(config: Config) -> RunningSandbox:
        running = _start(config)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def recorded_path(platform: str, name: str) -> Path:
    """The path of ``fixtures/<platform>/<name>.json`` (which must exist)."""
    path = FIXTURES / platform / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no recorded response {path}")
    return path


def load_recorded(platform: str, name: str) -> Any:
    return json.loads(recorded_path(platform, name).read_text(encoding="utf-8"))


@pytest.fixture
def recorded() -> Callable[[str, str], Any]:
    return load_recorded


Answer = Any  # JSON, httpx.Response, or a callable (request) -> either


def _as_response(answer: Answer, request: httpx.Request) -> httpx.Response:
    if callable(answer) and not isinstance(answer, httpx.Response):
        answer = answer(request)
    if isinstance(answer, httpx.Response):
        return answer
    return httpx.Response(200, json=answer)


def in_order(*answers: Answer) -> Callable[[httpx.Request], Answer]:
    """A route answer that gives one answer per call, repeating the last one."""
    calls = itertools.count()

    def answer(request: httpx.Request) -> Answer:
        return answers[min(next(calls), len(answers) - 1)]

    return answer


@dataclasses.dataclass
class Replay:
    """A MockTransport over a route table (or one handler), with the requests it saw."""

    routes: dict[tuple[str, str], Answer] | Callable[[httpx.Request], Answer]
    requests: list[httpx.Request] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self._compiled = [] if callable(self.routes) else [
            (method.upper(), re.compile(pattern), answer)
            for (method, pattern), answer in self.routes.items()
        ]
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if callable(self.routes):
            return _as_response(self.routes, request)
        for method, pattern, answer in self._compiled:
            if method == request.method and pattern.search(request.url.path):
                return _as_response(answer, request)
        raise AssertionError(f"replay: no recorded response for {request.method} {request.url}")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(transport=self.transport, **kwargs)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def replay() -> Callable[..., Replay]:
    return lambda routes: Replay(routes if callable(routes) else dict(routes))


# -- comments (issue #14): one night of an organic connector with comments on ------------------


def comments_night(connect: Callable[..., tuple[Any, list, list]], module: Any, account_id: str,
                   root: str, platform: str, as_of: Any, **kwargs: Any):
    """``extract_tables`` of one week ending ``as_of`` through ``connect(root, platform, ...)``:
    (post snapshot rows, the comments load, the requests sent, the sleeps)."""
    client, requests, sleeps = connect(root, platform, as_of=as_of, **kwargs)
    loads = module.extract_tables(client, account_id, as_of - timedelta(days=6), as_of)
    assert [load.table.rsplit("_", 1)[-1] for load in loads] == ["daily", "snapshots", "comments"]
    return loads[1].rows, loads[2], requests, sleeps


def strip_records(rows: list[dict]) -> dict[str, dict]:
    """Comment rows by id without their raw ``record``."""
    return {r["comment_id"]: {k: v for k, v in r.items() if k != "record"} for r in rows}
