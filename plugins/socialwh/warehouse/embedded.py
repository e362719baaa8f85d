"""The embedded warehouse: a real PostgreSQL 16 from pgserver's bundled binaries.

pgserver's own launcher listens on a Unix socket only, which Cosmos cannot turn into an asset URI,
so we drive its binaries ourselves: `initdb` once into a git-ignored folder, then `pg_ctl` on TCP
127.0.0.1 and a free port. Start, stop and status are idempotent. The port and the generated
admin password live in `<local>/warehouse.json` (mode 600), never in the repository.

Databases: `warehouse` (raw, staging, marts, bi) and `airflow` (Airflow's metadata).
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from socialwh.paths import LOCAL_DIR

ADMIN_USER = "postgres"
DATABASES = ("warehouse", "airflow")


class EmbeddedWarehouseError(RuntimeError):
    pass


@dataclass
class ServerState:
    port: int
    password: str
    data_dir: str

    def url(self, database: str = "warehouse", user: str = ADMIN_USER, password: str | None = None) -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{database}"


def _bin(name: str) -> Path:
    # find_spec, not import: importing pgserver runs its own start-up code we do not use
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedWarehouseError("pgserver is not installed: run `make install`")
    path = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name
    if not path.exists():
        raise EmbeddedWarehouseError(f"pgserver has no {name} binary at {path}")
    return path


def _paths(local_dir: Path) -> tuple[Path, Path, Path]:
    return local_dir / "pgdata", local_dir / "warehouse.json", local_dir / "postgres.log"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _run(args: list, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", LANG="C")
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, **kw)
    if proc.returncode != 0:
        raise EmbeddedWarehouseError(
            f"{Path(str(args[0])).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc


def read_state(local_dir: Path = LOCAL_DIR) -> ServerState | None:
    _, state_file, _ = _paths(local_dir)
    if not state_file.exists():
        return None
    return ServerState(**json.loads(state_file.read_text()))


def _write_state(state: ServerState, local_dir: Path) -> None:
    _, state_file, _ = _paths(local_dir)
    state_file.write_text(json.dumps(asdict(state)))
    state_file.chmod(0o600)


def is_running(local_dir: Path = LOCAL_DIR) -> bool:
    data_dir, _, _ = _paths(local_dir)
    if not (data_dir / "postmaster.pid").exists():
        return False
    prefix = ["runuser", "-u", _os_user(), "--"] if os.geteuid() == 0 else []
    proc = subprocess.run([*prefix, str(_bin("pg_ctl")), "status", "-D", str(data_dir)], capture_output=True)
    return proc.returncode == 0


def start(local_dir: Path = LOCAL_DIR, port: int | None = None, timeout: float = 60) -> ServerState:
    """Start (initialising on first use) and return the server's state. Idempotent."""
    local_dir.mkdir(parents=True, exist_ok=True)
    data_dir, state_file, log_file = _paths(local_dir)
    state = read_state(local_dir)
    if state and is_running(local_dir):
        return state
    if state is None or not (data_dir / "PG_VERSION").exists():
        if data_dir.exists():
            shutil.rmtree(data_dir)
        state = ServerState(port=0, password=secrets.token_urlsafe(18), data_dir=str(data_dir))
        prefix = _prepare_os_user(local_dir)
        try:
            _as(prefix, _initdb_cmd(data_dir, state.password, local_dir))
        finally:
            (local_dir / ".pwfile").unlink(missing_ok=True)
    prefix = _prepare_os_user(local_dir)
    if not state.port or not _port_free(state.port):
        state.port = port or _free_port()
    _write_state(state, local_dir)
    if not is_running(local_dir):  # a stale pid file from a killed server blocks pg_ctl start
        (data_dir / "postmaster.pid").unlink(missing_ok=True)
    opts = (f"-c listen_addresses=127.0.0.1 -c port={state.port} -c unix_socket_directories={local_dir} "
            f"-c max_connections=200 -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off")
    _as(prefix, [_bin("pg_ctl"), "start", "-D", data_dir, "-l", log_file, "-o", opts, "-w", "-t", str(int(timeout))])
    _ensure_databases(state)
    return state


def _os_user() -> str:
    return os.environ.get("SOCIALWH_PG_OS_USER", "pgembedded")


def _prepare_os_user(local_dir: Path) -> list[str]:
    """Postgres refuses to run as root (CI and containers often are): run it as a system user."""
    if os.geteuid() != 0:
        return []
    user = _os_user()
    if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                       check=True, capture_output=True)
    check_reachable(local_dir, user)
    subprocess.run(["chown", "-R", user, str(local_dir)], check=True)
    # the binaries live under site-packages; they only need to be readable/executable
    return ["runuser", "-u", user, "--"]


def _can_traverse(user: str, directory: Path) -> bool:
    return subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(directory)],
                          capture_output=True).returncode == 0


def unreachable_dir(path: Path, user: str, can_traverse=None) -> Path | None:
    """The first directory on `path`'s way from / that `user` cannot enter (search permission),
    or None. `path` itself is left out: the warehouse hands it to the user (chown)."""
    can_traverse = can_traverse or _can_traverse
    for directory in reversed(Path(path).resolve().parents):
        if not can_traverse(user, directory):
            return directory
    return None


def check_reachable(local_dir: Path, user: str, can_traverse=None) -> None:
    """Started as root, PostgreSQL runs as the system user `user`, which must be able to walk
    down to the data directory. A checkout under /root (mode 700) otherwise fails in initdb with
    a bare "Permission denied": say which directory and how to fix it instead."""
    blocked = unreachable_dir(local_dir, user, can_traverse)
    if blocked is None:
        return
    try:
        st = blocked.stat()
        mode = f"mode {st.st_mode & 0o777:o}, owner uid {st.st_uid}"
    except OSError:
        mode = "mode unknown"
    raise EmbeddedWarehouseError(
        f"the embedded PostgreSQL runs as the system user {user!r} (this process is root), and {user!r} "
        f"cannot enter {blocked} ({mode}), which lies on the way to its data directory "
        f"{local_dir / 'pgdata'}. Fix one of: `chmod o+x {blocked}` (lets other users pass through, "
        f"not list it); or put the warehouse elsewhere, e.g. `export SOCIALWH_LOCAL_DIR=/var/lib/socialwh` "
        f"(any directory {user!r} can reach); or run as a non-root user; or use an external PostgreSQL "
        f"(WAREHOUSE_URL=postgresql://...)."
    )


def _initdb_cmd(data_dir: Path, password: str, local_dir: Path) -> list:
    pwfile = local_dir / ".pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o644)  # read by the postgres OS user; deleted right after initdb
    return [_bin("initdb"), "-D", data_dir, "-U", ADMIN_USER, "--pwfile", pwfile,
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
            "--no-sync"]


def _as(prefix: list[str], args: list) -> None:
    _run([*prefix, *args])


def _ensure_databases(state: ServerState) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(state.url("postgres"), autocommit=True) as conn:
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for db in DATABASES:
            if db not in existing:
                conn.execute(f'create database "{db}"')


def stop(local_dir: Path = LOCAL_DIR) -> bool:
    """Stop the server if it runs. Returns whether it was running."""
    data_dir, _, _ = _paths(local_dir)
    if not is_running(local_dir):
        return False
    _as(_prepare_os_user(local_dir), [_bin("pg_ctl"), "stop", "-D", data_dir, "-m", "fast", "-w"])
    return True


def status(local_dir: Path = LOCAL_DIR) -> dict:
    state = read_state(local_dir)
    running = bool(state) and is_running(local_dir)
    return {
        "running": running,
        "port": state.port if state else None,
        "data_dir": state.data_dir if state else None,
        "url": state.url().replace(state.password, "***") if state else None,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="socialwh-warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status", "url"])
    args = parser.parse_args(argv)
    if args.action == "start":
        t0 = time.monotonic()
        state = start()
        print(f"warehouse running on 127.0.0.1:{state.port} ({time.monotonic() - t0:.1f}s)")
    elif args.action == "stop":
        print("stopped" if stop() else "not running")
    elif args.action == "status":
        print(json.dumps(status(), indent=2))
    elif args.action == "url":
        state = read_state()
        if not state:
            raise SystemExit("warehouse was never started: run `make warehouse`")
        print(state.url())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
