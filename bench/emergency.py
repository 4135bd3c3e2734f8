"""Reveal requests per second and p95 latency of emergency access with the primary down, through
gunicorn (2 sync workers) at 1, 10 and 50 concurrent logged-in users.

A sandbox pair of its own is started, its demo vault seeded and the primary crashed (kill -9); each
simulated user logs in once (its own session), then POSTs reveals back to back for --seconds. Every
reveal does what a real one does: session, gate, a SELECT on the secondary, the outbox commit, decrypt.

    HAPANEL_DEVELOPMENT=1 .venv/bin/python bench/emergency.py [--users 1,10,50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie

from common import ROOT, configure, median, pct, stop, wait

SANDBOX_PORT = 3507


class User:
    """One browser: its cookies, its CSRF token, one reveal URL."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, SimpleCookie()

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        head = {"Cookie": "; ".join(f"{k}={m.value}" for k, m in self.cookies.items()), **(headers or {})}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            head["Content-Type"] = "application/x-www-form-urlencoded"
            head["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        conn.request(method, path, data, head)
        response = conn.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(value)
        conn.close()
        return response.status, text, response.headers

    def log_in(self, pair_id: int, password: str) -> None:
        _, page, _ = self.request("GET", f"/emergency/{pair_id}/login/")
        status, _, _ = self.request("POST", f"/emergency/{pair_id}/login/",
                                    {"csrfmiddlewaretoken": _token(page), "username": "alice", "password": password})
        assert status == 302, f"login answered {status}"
        _, page, _ = self.request("GET", f"/emergency/{pair_id}/?q=firewall")
        path = re.search(r'action="(/emergency/\d+/reveal/\d+/)"', page).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": _token(page)})
        cookies = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        # Built once: the client should spend as little of the two cores as it can.
        self.raw = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: {cookies}\r\n"
                    f"Referer: http://127.0.0.1:{self.port}{path}\r\nX-Emergency-Fetch: 1\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

    def reveal(self) -> tuple[float, int]:
        """One reveal on a fresh connection (gunicorn's sync workers close it after each answer)."""
        t0 = time.perf_counter()
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(self.raw)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        answer = b"".join(chunks)
        status = int(answer[9:12])
        assert status != 200 or b"em-value" in answer, "a 200 without the secret"
        return (time.perf_counter() - t0) * 1000, status


def _token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def run(users: list[User], seconds: float) -> tuple[list[float], int, float]:
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(user: User) -> None:
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            ms, status = user.reveal()
            mine.append(ms)
            bad += status != 200
        with lock:
            times.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=loop, args=(u,)) for u in users]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0], time.monotonic() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    db = ROOT / "var" / "bench-emergency" / "app.sqlite3"
    for path in (db, db.with_suffix(".sqlite3-wal"), db.with_suffix(".sqlite3-shm")):
        path.unlink(missing_ok=True)
    os.environ["HAPANEL_SANDBOX_DIR"] = str(ROOT / "var" / "bench-emergency" / "sandbox")
    os.environ["HAPANEL_SANDBOX_PORT"] = str(SANDBOX_PORT)
    var = configure("emergency", redis_db=9)
    from django.conf import settings

    from devtools.demo_vault import seed
    from devtools.registry import register
    from devtools.sandbox import SandboxPair

    sandbox = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    sandbox.down()
    sandbox = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    print(sandbox.up(), file=sys.stderr)
    server = None
    try:
        pair = register(sandbox)
        demo = seed(sandbox, pair)
        wait(lambda: sandbox.sql("secondary", "SELECT COUNT(*) AS n FROM vault.grants")[0]["n"] >= 4, 10,
             "the vault on the secondary")
        sandbox.fault("crash-primary")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "hapanel.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--log-level", "warning"], cwd=ROOT, env=dict(os.environ), start_new_session=True,
            stdout=open(var / "gunicorn.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
        wait(lambda: _answers(port), 30, "gunicorn to answer")
        rows = []
        pool: list[User] = []
        for n in sorted(int(u) for u in args.users.split(",")):
            while len(pool) < n:
                user = User(port)
                user.log_in(pair.pk, demo.passwords["alice"])
                pool.append(user)
            run(pool[:n], 1.0)  # warm-up: kept connections, caches
            times, errors, elapsed = run(pool[:n], args.seconds)
            rows.append((n, len(times), len(times) / elapsed, median(times), pct(times, 95), errors))
        print("| concurrent users | reveals | reveals/s | p50 ms | p95 ms | errors |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n, count, rate, p50, p95, errors in rows:
            print(f"| {n} | {count} | {rate:.0f} | {p50:.1f} | {p95:.1f} | {errors} |")
    finally:
        if server is not None:
            stop(server)
        sandbox.down()


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/emergency/")
        return conn.getresponse().status in (200, 302)
    except OSError:
        return False


if __name__ == "__main__":
    main()
