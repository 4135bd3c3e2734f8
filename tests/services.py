"""Starting and waiting for real services from the tests (bounded waits, clear failures)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from devtools.sandbox import SandboxPair


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05):
    """Polls `condition` until it returns something truthy; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 (the condition may fail while things settle)
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                         + (f" (last error: {last_exc})" if last_exc else ""))


def ensure_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
        return
    except redis.ConnectionError:
        pass
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("Redis is not running and redis-server is not installed: apt-get install redis-server")
    parsed = urlparse(url)
    subprocess.run(
        [binary, "--daemonize", "yes", "--bind", parsed.hostname or "127.0.0.1", "--port", str(parsed.port or 6379),
         "--save", "", "--appendonly", "no"],
        check=True, capture_output=True,
    )
    wait_for(client.ping, 10, f"redis-server on {parsed.hostname}:{parsed.port}")


def started_sandbox(folder: Path, port: int, **options: bool) -> SandboxPair:
    """A sandbox pair started from nothing at `folder` and `port` (what an interrupted run left there is removed
    first); one that cannot start fails the test with one line, nothing is skipped. The caller stops it."""
    import pytest

    from devtools.sandbox import SandboxError, SandboxPair

    pair = SandboxPair(folder, port, **options)
    if pair.state:
        pair.down()
        pair = SandboxPair(folder, port, **options)
    try:
        pair.up()
    except SandboxError as exc:
        pytest.fail(f"the sandbox pair in {folder} could not start: {exc}", pytrace=False)
    return pair


def free_port(kind: int = 1) -> int:
    """A port nothing listens on right now (kind: socket.SOCK_STREAM=1 or SOCK_DGRAM=2)."""
    import socket

    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of one test's own, so stopping it (a broker outage) disturbs nothing else on the machine."""

    def __init__(self, log_dir) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        import socket

        cmd = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), 0.2).close() or True, 10,
                 f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
