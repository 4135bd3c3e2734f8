"""The real web server in a subprocess and Debian's Chromium, for the browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from tests.services import free_port, wait_for
from tests.workers import database_url

# Without the background-networking flags Chromium keeps dialling out, which this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def web_server(log_name: str, env: dict | None = None) -> Iterator[str]:
    """`manage.py runserver` on a free port, on the test database; yields its base URL."""
    port = free_port()
    log_path = settings.TEST_OUTPUT / f"{log_name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url(),
                **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
                                 "--insecure"], cwd=settings.BASE_DIR, env=full_env, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"runserver exited with {proc.returncode}: see {log_path}")
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return response.status == 200

    try:
        wait_for(answers, 30, f"runserver on port {port} (log: {log_path})", interval=0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def chromium():
    """Debian's Chromium through Playwright (no browser download: the system one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
