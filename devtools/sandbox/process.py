"""Finding the MariaDB binaries and starting, watching and stopping server processes by pid."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

INSTALL_HINT = "install them with `apt-get install mariadb-server` (Debian/Ubuntu)"


class SandboxError(Exception):
    """One readable line: what is wrong and what to do."""


SEARCH_DIRS = [Path("/usr/sbin"), Path("/usr/bin")]


def find_binary(name: str) -> str:
    found = shutil.which(name) or next((str(d / name) for d in SEARCH_DIRS if (d / name).exists()), None)
    if not found:
        raise SandboxError(f"`{name}` was not found on PATH or in /usr/sbin: {INSTALL_HINT}")
    return found


def run_as() -> tuple[str | None, int, int]:
    """mariadbd refuses to run as root: as root, run it as `mysql`; otherwise as ourselves."""
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    try:
        pw = pwd.getpwnam("mysql")
    except KeyError as exc:
        raise SandboxError(f"running as root needs a `mysql` system user: {INSTALL_HINT}") from exc
    return "mysql", pw.pw_uid, pw.pw_gid


def chown_tree(path: Path, uid: int, gid: int) -> None:
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def state_of(pid: int) -> str:
    """'R'/'S'/... as in /proc/PID/stat, 'T' when stopped, '' when gone (zombies count as gone)."""
    try:
        os.waitpid(pid, os.WNOHANG)  # reap our own dead children so they do not look alive
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    state = stat.rsplit(")", 1)[1].split()[0]
    return "" if state in ("Z", "X") else state


def is_ours(pid: int, marker: str) -> bool:
    """Only signal a pid whose command line names our own config file (pids get reused)."""
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def start(cmd: list[str], log: Path) -> int:
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc.pid


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not state_of(pid):
            return True
        time.sleep(0.02)
    return not state_of(pid)


def stop(pid: int, marker: str, timeout: float = 20.0) -> None:
    """SIGCONT (a hung node cannot shut down), SIGTERM, then SIGKILL after the timeout."""
    if not state_of(pid) or not is_ours(pid, marker):
        return
    for sig in (signal.SIGCONT, signal.SIGTERM):
        os.kill(pid, sig)
    if not wait_gone(pid, timeout):
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 5)


def port_in_use(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return True
    return False
