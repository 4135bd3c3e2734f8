"""Login lockouts behind a real reverse proxy: Debian's nginx, configured with the block docs/operations.md
shows, in front of gunicorn serving the panel, and clients at their own loopback addresses (127.0.0.2, .3, …).

The panel is told nginx's address (HAPANEL_TRUSTED_PROXIES=127.0.0.1), so it must count each client under the
address nginx saw. A panel reading REMOTE_ADDR counts everybody under nginx's address: the client at another
address gets locked out too. A panel reading the leftmost X-Forwarded-For entry counts a client under whatever
it wrote there: the locked client gets in again, and the one it named gets locked out.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from hapanel.roles import VIEWER
from tests.factories import make_user
from tests.services import free_port, wait_for
from tests.workers import database_url

LOCKOUT_SECONDS = 6  # HAPANEL_LOGIN_LOCKOUT_MINUTES=0.1: short, so that a test can see a lock end
FAILURES = 5  # per user name (the default) and, here, per address too
TIME_ZONE = "Europe/Paris"  # not UTC: the lock message must name the panel's zone
NGINX = "/usr/sbin/nginx"  # scripts/bootstrap.sh installs it for the tests
LOCKED = re.compile(r"Too many failed logins for this user or from this address: try again after "
                    r"(\d\d:\d\d:\d\d) ([A-Z]{3,5})\.")


def documented_location() -> str:
    """The nginx block of docs/operations.md's "Behind a reverse proxy"."""
    text = (settings.BASE_DIR / "docs" / "operations.md").read_text()
    block = re.search(r"```nginx\n(location / \{.*?\n\})\n```", text, re.S)
    assert block, "docs/operations.md shows no nginx location block"
    return block.group(1)


@contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def answers(port: int, proc: subprocess.Popen, log: Path) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}: see {log}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    finally:
        conn.close()


@pytest.fixture(scope="module")
def proxy(django_db_setup, output_dir) -> Iterator[int]:
    """nginx on a free port in front of gunicorn on another, both children of the test; yields nginx's port."""
    folder = output_dir / "reverse-proxy"
    (folder / "temp").mkdir(parents=True, exist_ok=True)
    panel_port, proxy_port = free_port(), free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url(),
           "HAPANEL_TRUSTED_PROXIES": "127.0.0.1", "HAPANEL_LOGIN_LOCKOUT_FAILURES": str(FAILURES),
           "HAPANEL_LOGIN_ADDRESS_FAILURES": str(FAILURES), "HAPANEL_LOGIN_LOCKOUT_MINUTES": str(LOCKOUT_SECONDS / 60),
           "TIME_ZONE": TIME_ZONE}
    location = documented_location().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{panel_port}")
    temp = folder / "temp"
    (folder / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{proxy_port};
        {location}
    }}
}}
""")
    gunicorn = [sys.executable, "-m", "gunicorn", "hapanel.wsgi:application", "-b", f"127.0.0.1:{panel_port}",
                "-w", "2", "--access-logfile", "-"]
    nginx = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    with (process(gunicorn, folder / "gunicorn.log", env) as panel,
          process(nginx, folder / "nginx.log") as front):
        wait_for(lambda: answers(panel_port, panel, folder / "gunicorn.log"), 30, "gunicorn to answer", 0.2)
        wait_for(lambda: answers(proxy_port, front, folder / "error.log"), 30, "nginx to answer", 0.2)
        yield proxy_port


class Machine:
    """One client machine: its own source address for the TCP connection to nginx, its own cookies."""

    def __init__(self, proxy_port: int, address: str) -> None:
        self.proxy_port, self.address = proxy_port, address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                forwarded_for: str | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of one request through nginx; `forwarded_for` is a header the client
        writes itself."""
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=10, source_address=(self.address, 0))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if forwarded_for is not None:
            headers["X-Forwarded-For"] = forwarded_for
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
            return response.status, response.headers.get("Location", ""), text
        finally:
            conn.close()

    def log_in(self, username: str, password: str, forwarded_for: str | None = None) -> str:
        """"in", "wrong", or the lock message."""
        _, _, page = self.request("GET", "/login/", forwarded_for=forwarded_for)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, location, page = self.request("POST", "/login/", {
            "csrfmiddlewaretoken": token, "username": username, "password": password}, forwarded_for)
        if status == 302:
            assert location == "/" and self.request("GET", "/")[0] == 200
            return "in"
        assert status == 200, status
        if locked := LOCKED.search(page):
            return locked.group(0)
        assert "Wrong username or password" in page
        return "wrong"


@pytest.fixture
def machines(proxy, transactional_db, flush_redis) -> dict[str, Machine]:
    make_user("alice", VIEWER)
    make_user("bob", VIEWER)
    return {name: Machine(proxy, f"127.0.0.{n}") for n, name in enumerate(("guesser", "office", "laptop"), start=2)}


def test_failures_lock_their_own_address_whatever_it_writes_into_x_forwarded_for(machines):
    guesser, office = machines["guesser"], machines["office"]
    # Five user names from one address, each attempt claiming to come from the office's address.
    for n in range(FAILURES):
        assert guesser.log_in(f"nobody-{n}", "guess", forwarded_for=office.address) == "wrong"
    assert LOCKED.match(guesser.log_in("alice", "pw-alice"))  # the address is locked, whoever logs in from it
    # Claiming another address, or a chain of them, does not get it in again.
    for claimed in ("127.0.0.9", f"{office.address}, 10.9.9.9", "unknown"):
        assert LOCKED.match(guesser.log_in("alice", "pw-alice", forwarded_for=claimed)), claimed
    # The office, at the address the guesser named, is not locked out.
    assert office.log_in("alice", "pw-alice") == "in"


def test_a_user_locked_from_one_address_leaves_the_others_logging_in_from_theirs(machines):
    guesser, office, laptop = machines["guesser"], machines["office"], machines["laptop"]
    for _ in range(FAILURES):
        assert guesser.log_in("bob", "guess") == "wrong"
    # The user name is locked wherever it logs in from (its own count), as is the address that guessed it.
    assert LOCKED.match(office.log_in("bob", "pw-bob"))
    assert LOCKED.match(guesser.log_in("alice", "pw-alice"))
    # Another user at another address logs in, through the same proxy.
    assert laptop.log_in("alice", "pw-alice") == "in"


def test_the_lock_names_its_end_in_the_panels_time_zone_and_knocking_does_not_move_it(machines):
    guesser, office = machines["guesser"], machines["office"]
    first = time.time()
    for n in range(FAILURES):
        assert guesser.log_in(f"nobody-{n}", "guess") == "wrong"
    zone = ZoneInfo(TIME_ZONE)
    message = guesser.log_in("alice", "pw-alice")
    at, abbreviation = LOCKED.match(message).groups()
    now = dt.datetime.now(zone)
    assert abbreviation == now.strftime("%Z")  # CET or CEST, as Paris is at the time of the test
    end = dt.datetime.combine(now.date(), dt.time.fromisoformat(at), zone)
    if end < now - dt.timedelta(hours=12):  # the window ends after local midnight
        end += dt.timedelta(days=1)
    assert abs(end.timestamp() - (first + LOCKOUT_SECONDS)) < 2, (message, first)
    # Knocking while locked, with the right password, says the same end and does not push it back.
    def admitted() -> bool:
        answer = guesser.log_in("alice", "pw-alice")
        assert answer == "in" or answer == message, answer
        return answer == "in"

    wait_for(admitted, LOCKOUT_SECONDS + 5, "the lock to end while locked attempts keep coming", interval=0.3)
    assert time.time() >= end.timestamp() - 1
    assert office.log_in("alice", "pw-alice") == "in"
