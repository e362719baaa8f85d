"""Run the sandbox APIs as a background process for the demo and `make airflow`.

Idempotent like the warehouse: `start()` returns the running server's URL if there is one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from socialwh.paths import LOCAL_DIR, REPO_ROOT


def _state_file(local_dir: Path) -> Path:
    return local_dir / "sandbox.json"


def _expected_prefixes() -> set[str]:
    import importlib  # noqa: PLC0415

    from socialwh_dev.sandbox.server import platform_modules  # noqa: PLC0415

    return {importlib.import_module(m).PREFIX for m in platform_modules()}


def _healthy(url: str) -> bool:
    """Answering, and serving every platform this checkout mounts (not a stale older server)."""
    try:
        resp = httpx.get(f"{url}/healthz", timeout=1.0)
    except httpx.HTTPError:
        return False
    return resp.status_code == 200 and _expected_prefixes() <= set(resp.json().get("platforms", []))


def code_version() -> str:
    """A digest of what the server serves: its source files, the sandbox world and the config.
    A server started from other code (a checkout updated since, a helper's edit) is restarted,
    not reused: it would answer with the old contract."""
    import hashlib  # noqa: PLC0415

    from socialwh.paths import CONFIG_FILE, SANDBOX_FILE  # noqa: PLC0415

    digest = hashlib.sha256()
    for path in [*sorted(Path(__file__).parent.glob("*.py")), SANDBOX_FILE, CONFIG_FILE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def status(local_dir: Path = LOCAL_DIR) -> dict | None:
    path = _state_file(local_dir)
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    if state.get("code") != code_version():
        return None
    return state if _healthy(state["url"]) else None


def start(local_dir: Path = LOCAL_DIR, timeout: float = 20) -> str:
    running = status(local_dir)
    if running:
        return running["url"]
    stop(local_dir)  # a stale server from an older checkout, if any
    local_dir.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = open(local_dir / "sandbox.log", "ab")  # noqa: SIM115 - the child keeps it open
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT / "plugins"), str(REPO_ROOT / "dev"), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialwh_dev.sandbox.server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox exited with {proc.returncode}: see {local_dir / 'sandbox.log'}")
        if _healthy(url):
            _state_file(local_dir).write_text(json.dumps({"url": url, "pid": proc.pid, "code": code_version()}))
            return url
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"sandbox did not answer on {url} within {timeout}s: see {local_dir / 'sandbox.log'}")


def stop(local_dir: Path = LOCAL_DIR) -> bool:
    path = _state_file(local_dir)
    if not path.exists():
        return False
    state = json.loads(path.read_text())
    path.unlink()
    try:
        os.kill(state["pid"], signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
