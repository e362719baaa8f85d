"""The embedded warehouse names the directory its postgres OS user cannot reach, and the fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from socialwh.warehouse import embedded
from socialwh.warehouse.embedded import EmbeddedWarehouseError, check_reachable, unreachable_dir


def test_first_unreachable_directory_is_named_with_the_fix(tmp_path):
    local = tmp_path / "home" / "root" / "socialwh" / ".local"
    closed = {tmp_path / "home" / "root", tmp_path / "home" / "root" / "socialwh"}
    can = lambda user, d: d not in closed  # noqa: E731
    assert unreachable_dir(local, "pgembedded", can) == tmp_path / "home" / "root"
    with pytest.raises(EmbeddedWarehouseError) as err:
        check_reachable(local, "pgembedded", can)
    message = str(err.value)
    assert f"cannot enter {tmp_path / 'home' / 'root'} " in message
    assert f"chmod o+x {tmp_path / 'home' / 'root'}" in message
    assert "SOCIALWH_LOCAL_DIR" in message and "'pgembedded'" in message
    assert unreachable_dir(local, "pgembedded", lambda u, d: True) is None
    check_reachable(local, "pgembedded", lambda u, d: True)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the real check as root with a system user")
def test_real_permission_check_as_root():
    import shutil
    import tempfile

    user = embedded._os_user()
    if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user], check=True)
    base = Path(tempfile.mkdtemp(prefix="socialwh-perm-", dir="/tmp"))  # /tmp: anyone may pass
    closed = base / "private"
    (closed / "checkout" / ".local").mkdir(parents=True)
    base.chmod(0o755)
    closed.chmod(0o700)  # like /root
    try:
        assert unreachable_dir(closed / "checkout" / ".local", user) == closed
        with pytest.raises(EmbeddedWarehouseError, match=f"cannot enter {closed} \\(mode 700"):
            check_reachable(closed / "checkout" / ".local", user)
        closed.chmod(0o711)
        assert unreachable_dir(closed / "checkout" / ".local", user) is None
    finally:
        shutil.rmtree(base)


def test_start_stops_with_the_directory_named(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root runs PostgreSQL as another user")
    monkeypatch.setattr(embedded, "_can_traverse", lambda user, d: d != Path(tmp_path))
    with pytest.raises(EmbeddedWarehouseError, match=f"cannot enter {tmp_path} "):
        embedded.start(tmp_path / "wh")
    assert not (tmp_path / "wh" / "pgdata").exists()
