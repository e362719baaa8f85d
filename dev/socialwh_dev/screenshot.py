"""Screenshots of the Streamlit dashboards with headless Chromium, driven over the DevTools protocol.

`chromium --headless --screenshot=...` captures Streamlit's grey loading placeholder: the page's
HTML is a shell, the cards arrive over Streamlit's websocket after load, and neither
`--virtual-time-budget` nor `--timeout` waits for that. So we start Chromium with a remote
debugging port, navigate the page ourselves, poll `Runtime.evaluate` until the dashboard's cards
are in the DOM (every card's heading, every Plotly chart drawn, every metric and table present,
no script run in progress, no skeleton left, the layout stable), and only then capture.

    python -m socialwh_dev.screenshot [--url http://127.0.0.1:8501] [--out .local/screenshots]

(`make screenshots` / `socialwh dashboards --screenshots` start the app themselves.)
Needs Debian's `chromium` and the `websockets` package (in requirements.lock).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1400, 2400


class ScreenshotError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Chromium:
    """One headless Chromium with one page, spoken to over its DevTools websocket."""

    def __init__(self, binary: str | None = None, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.binary = binary or find_chromium()
        if not self.binary:
            raise ScreenshotError("no chromium on PATH (Debian: apt-get install chromium)")
        self.width, self.height = width, height
        self._next_id = 0

    def __enter__(self) -> Chromium:
        from contextlib import ExitStack  # noqa: PLC0415

        from websockets.sync.client import connect  # noqa: PLC0415

        self._profile = tempfile.TemporaryDirectory(prefix="socialwh-chromium-")
        port = free_port()
        self.process = subprocess.Popen(
            [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             f"--user-data-dir={self._profile.name}", f"--remote-debugging-port={port}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            target = self._page_target(port)
            # screenshots are base64 in one message: several MB for a tall page
            self._stack = ExitStack()
            self.ws = self._stack.enter_context(
                connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=30))
            self.send("Page.enable")
            self.send("Runtime.enable")
            self.send("Emulation.setDeviceMetricsOverride",
                      width=self.width, height=self.height, deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        stack = getattr(self, "_stack", None)
        if stack is not None:
            stack.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._profile.cleanup()

    def _page_target(self, port: int, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ScreenshotError(f"chromium exited {self.process.returncode}: "
                                      f"{self.process.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
                if pages:
                    return pages[0]
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ScreenshotError(f"chromium's DevTools endpoint on port {port} did not answer in {timeout:.0f} s")
            time.sleep(0.2)

    def send(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        """One DevTools command; events arriving meanwhile are dropped."""
        self._next_id += 1
        ident = self._next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScreenshotError(f"{method}: no answer in {timeout:.0f} s")
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("id") == ident:
                if "error" in message:
                    raise ScreenshotError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise ScreenshotError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise ScreenshotError(f"{url}: {result['errorText']}")

    def wait_for(self, expression: str, timeout: float, describe: str = "", settle: float = 1.0) -> dict:
        """Poll `expression` (JS returning {ready: bool, error: str|null, ...}) until ready and the
        page's height has not changed for `settle` seconds."""
        deadline = time.monotonic() + timeout
        stable_since, last_height, state = None, None, {}
        while time.monotonic() < deadline:
            try:
                state = self.evaluate(expression) or {}
            except ScreenshotError as exc:  # the document is being replaced by the navigation
                state = {"ready": False, "evaluate": str(exc)[-300:]}
            if state.get("error"):
                raise ScreenshotError(f"{describe}: the page shows an error: {state['error']}")
            if state.get("ready"):
                height = state.get("height")
                if height != last_height:
                    stable_since, last_height = time.monotonic(), height
                elif time.monotonic() - stable_since >= settle:
                    return state
            else:
                stable_since, last_height = None, None
            time.sleep(0.25)
        raise ScreenshotError(f"{describe}: not ready after {timeout:.0f} s, last state {state}")

    def capture(self, path: Path, content_height: int | None = None) -> Path:
        """The page as PNG, `content_height` CSS pixels tall (default: the window). Streamlit scrolls
        inside its own container, so the document is never taller than the window: for a taller
        page the window itself is made taller first. (`captureBeyondViewport` is not used: the
        resize it does behind the page's back makes Streamlit's sidebar start to collapse.)"""
        height = int(content_height or self.height)
        if height > self.height:
            self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=height,
                      deviceScaleFactor=1, mobile=False)
            time.sleep(1.5)  # let Streamlit and Plotly lay out for the new window
        clip = {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}
        shot = self.send("Page.captureScreenshot", format="png", clip=clip)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        if height > self.height:
            self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                      deviceScaleFactor=1, mobile=False)
        return path


def dashboard_ready_js(dashboard) -> str:
    """JS for `Chromium.wait_for`: ready once every card of the spec's dashboard is drawn."""
    charts = sum(c.chart not in {"kpi", "table", "text"} for c in dashboard.cards)
    kpis = [c for c in dashboard.cards if c.chart == "kpi"]
    tables = sum(c.chart == "table" for c in dashboard.cards)
    expected = {"title": dashboard.title, "cards": len(dashboard.cards), "charts": charts,
                "kpis": len(kpis), "metrics": sum(len(c.y) for c in kpis), "tables": tables}
    # a card without rows shows one "No rows for this selection." box (stAlert) instead
    return """(() => {
  const want = %s;
  const q = (s) => document.querySelectorAll(s);
  const main = document.querySelector('[data-testid=stMain]') || document;
  const exc = main.querySelector('[data-testid=stException]');
  const title = [...main.querySelectorAll('h1')].some((h) => h.innerText.trim() === want.title);
  const headings = main.querySelectorAll('[data-testid=stHeading] h3').length;
  const charts = main.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot .main-svg').length;
  const metrics = main.querySelectorAll('[data-testid=stMetric]').length;
  const tables = main.querySelectorAll('[data-testid=stDataFrame] canvas').length;
  const empty = main.querySelectorAll('[data-testid=stAlert]').length;
  const kpisDrawn = metrics >= want.metrics ? want.kpis : Math.ceil(metrics / 8);
  const drawn = Math.min(charts, want.charts) + Math.min(tables, want.tables) + kpisDrawn + empty;
  const running = [...q('[data-testid=stStatusWidget]')].some((w) => /running/i.test(w.innerText));
  const skeletons = q('[data-testid=stSkeleton], [data-testid=stAppSkeleton]').length;
  const block = document.querySelector('[data-testid=stMainBlockContainer]');
  const height = block ? Math.ceil(block.getBoundingClientRect().top + block.scrollHeight) : 0;
  const ready = title && headings >= want.cards && drawn >= want.charts + want.tables + want.kpis
      && !running && skeletons === 0;
  return {ready, error: exc ? exc.innerText.slice(0, 800) : null,
          title, headings, charts, metrics, tables, empty, running, skeletons, height};
})()""" % json.dumps(expected)


def screenshot_dashboards(base_url: str, out_dir: Path, names: list[str] | None = None,
                          timeout: float = 120, chromium: str | None = None) -> list[Path]:
    """One full-page PNG per dashboard of the spec (or of `names`), of the app at `base_url`."""
    from socialwh.dashboards.spec import load_spec  # noqa: PLC0415

    shots = []
    with Chromium(chromium) as browser:
        for dashboard in load_spec():
            if names and dashboard.name not in names:
                continue
            browser.navigate(f"{base_url.rstrip('/')}/?dashboard={dashboard.name}")
            state = browser.wait_for(dashboard_ready_js(dashboard), timeout, describe=dashboard.name)
            path = out_dir / f"{dashboard.name}.png"
            browser.capture(path, content_height=state["height"] + 40)
            shots.append(path)
    return shots


def start_app(bi_url: str, port: int | None = None, timeout: float = 90) -> tuple[subprocess.Popen, str]:
    """The Streamlit app on 127.0.0.1 reading as `bi_url`, once healthy: (process, base URL)."""
    import sys  # noqa: PLC0415

    from socialwh.dashboards import app  # noqa: PLC0415

    port = port or free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app.__file__, "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        env={**os.environ, "SOCIALWH_BI_URL": bi_url}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return server, base
        except OSError:
            pass
        if server.poll() is not None:
            raise ScreenshotError(f"streamlit exited {server.returncode}: {server.stdout.read().decode()[-3000:]}")
        if time.monotonic() > deadline:
            stop_app(server)
            raise ScreenshotError(f"streamlit did not become healthy in {timeout:.0f} s")
        time.sleep(0.5)


def stop_app(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    from socialwh.paths import REPO_ROOT  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start one on the local warehouse)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".local" / "screenshots")
    parser.add_argument("dashboards", nargs="*", help="names (default: all)")
    args = parser.parse_args(argv)
    server = None
    if args.url:
        base = args.url
    else:
        from socialwh.dashboards import app  # noqa: PLC0415

        server, base = start_app(app.bi_url())
    try:
        for path in screenshot_dashboards(base, args.out, args.dashboards or None):
            print(f"{path}  {path.stat().st_size // 1024} KB")
    finally:
        if server is not None:
            stop_app(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
