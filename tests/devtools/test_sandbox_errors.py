"""Bad situations for `sandbox up` and `sandbox fault`: one clear line, non-zero exit, nothing left running."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from devtools.sandbox import SandboxError, SandboxPair, process


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(SandboxError, match=rf"port {port} on 127.0.0.1 is in use"):
            SandboxPair(tmp_path / "sb", port=port).up()
    assert not (tmp_path / "sb").exists()


def test_missing_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(process, "SEARCH_DIRS", [tmp_path])
    with pytest.raises(SandboxError, match=r"`mariadbd` was not found.*apt-get install mariadb-server"):
        SandboxPair(tmp_path / "sb", port=3497).up()


def test_folder_owned_by_someone_else(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this check needs root to hand a folder to another user (CI runs as root)")
    folder = tmp_path / "sb"
    folder.mkdir()
    os.chown(folder, 54321, 54321)
    with pytest.raises(SandboxError, match=r"belongs to uid 54321"):
        SandboxPair(folder, port=3497).up()


def test_half_started_previous_pair(tmp_path):
    folder = tmp_path / "sb"
    folder.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                                f"--defaults-file={folder / 'primary' / 'my.cnf'}"])
    try:
        state = {"pids": {"primary": sleeper.pid, "secondary": 999999}, "faults": []}
        (folder / "state.json").write_text(json.dumps(state))
        with pytest.raises(SandboxError, match=r"half-started \(primary running, secondary not running\)"):
            SandboxPair(folder, port=3497).up()
        assert "stopped pids: " + str(sleeper.pid) in SandboxPair(folder, port=3497).down()
        assert sleeper.wait(timeout=5) is not None
    finally:
        sleeper.kill()


def test_unknown_fault_lists_valid_ones(sandbox):
    with pytest.raises(CommandError, match=r"unknown fault 'melt-down': valid faults are crash-primary, stop-primary"):
        call_command("sandbox", "fault", "melt-down")


def test_command_exits_non_zero_with_one_line(tmp_path):
    env = {**os.environ, "HAPANEL_DEVELOPMENT": "1", "HAPANEL_SANDBOX_DIR": str(tmp_path / "none"),
           "DJANGO_SETTINGS_MODULE": "hapanel.settings"}
    out = subprocess.run([sys.executable, "manage.py", "sandbox", "fault", "crash-primary"],
                         cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "CommandError: no sandbox pair is running: run `manage.py sandbox up` first"]
