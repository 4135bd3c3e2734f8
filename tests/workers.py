"""Real Celery workers (and beat) in their own processes, on the real Redis, for the tests.

Tests get them through the `worker` and `worker_factory` fixtures (tests/conftest.py), which mark them `worker`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.services import wait_for


def database_url() -> str:
    """The test database as a URL, so a worker process opens the same one as the test."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    engine = "postgres" if "postgresql" in s["ENGINE"] else "mysql"
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s.get("PASSWORD") else (f"{s['USER']}@" if s.get("USER") else "")
    return f"{engine}://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or ''}/{s['NAME']}"


class Worker:
    def __init__(self, name: str, beat: bool = True, concurrency: int = 8, log_dir: Path | None = None,
                 supervised: bool = False, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.env = env or {}  # on top of this process's environment
        # Supervised: restarted when it exits, as systemd (Restart=always) or compose (restart:) would.
        self.supervised = supervised
        self.beat = beat
        self.concurrency = concurrency
        self.log_path = (log_dir or settings.TEST_OUTPUT) / f"worker-{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url(), **self.env}
        cmd = [sys.executable, "-m", "celery", "-A", "hapanel", "worker", "--pool", "threads",
               "--concurrency", str(self.concurrency), "-n", f"{self.name}@%h",
               "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
               "-l", "info", "--without-gossip", "--without-mingle"]
        if self.beat:
            cmd += ["-B", "--schedule", str(settings.TEST_OUTPUT / f"beat-{self.name}")]
        if self.supervised:
            cmd = ["bash", "-c", 'while true; do "$@"; sleep 0.5; done', "supervise", *cmd]
        log = open(self.log_path, "wb")  # noqa: SIM115 (the child keeps it)
        self.proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(self._ready, 30, f"Celery worker {self.name} to start (log: {self.log_path})", interval=0.1)
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"worker {self.name} exited with {self.proc.returncode}: see {self.log_path}")
        return "ready." in self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: a worker lost mid-poll, as a crash would lose it."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
