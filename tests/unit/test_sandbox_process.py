"""The sandbox process is reused only when it serves this checkout's code."""

from __future__ import annotations

import json

from socialwh_dev.sandbox import process


def test_a_server_started_from_other_code_is_not_reused(tmp_path, monkeypatch):
    healthy = []
    monkeypatch.setattr(process, "_healthy", lambda url: healthy.append(url) or True)
    state = {"url": "http://127.0.0.1:1", "pid": 1}
    (tmp_path / "sandbox.json").write_text(json.dumps({**state, "code": "0123456789abcdef"}))
    assert process.status(tmp_path) is None  # older code: start() stops it and starts a new one
    assert healthy == []
    (tmp_path / "sandbox.json").write_text(json.dumps({**state, "code": process.code_version()}))
    assert process.status(tmp_path)["url"] == state["url"]


def test_the_code_version_follows_the_sources():
    assert process.code_version() == process.code_version()
    assert len(process.code_version()) == 16
